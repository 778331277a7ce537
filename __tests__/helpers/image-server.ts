// A local image server for the keepImages tests: a PNG, and each way an image can go wrong. It
// counts connections, so a test can prove that a refused URL never reached it.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A PNG signature and IHDR start, then `size` bytes of filler: enough for the magic bytes. */
export function pngBytes(size: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(size);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(bytes);
  for (let i = 16; i < size; i++) bytes[i] = (i * 31 + seed) & 255;
  return bytes;
}

export interface ImageServer {
  origin: string;
  host: string;
  /** Connections accepted, and requests by path. */
  connections: number;
  requests: string[];
  /** Answers of `/flaky` before it serves the PNG: 503 this many times. */
  flakyFailures: number;
  png: Buffer;
  close(): Promise<void>;
}

export async function startImageServer(options: { host?: string; png?: Buffer } = {}): Promise<ImageServer> {
  const png = options.png ?? pngBytes(200_000);
  const state = { connections: 0, requests: [] as string[], flakyFailures: 0 };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    state.requests.push(path);
    route(path, res, png, state, origin);
  });
  server.on("connection", () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, options.host ?? "127.0.0.1", resolve));
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  const origin = `http://${host}`;
  return Object.assign(state, {
    origin,
    host,
    png,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function route(path: string, res: ServerResponse, png: Buffer, state: { flakyFailures: number }, origin: string): void {
  const [, name, arg] = /^\/([\w-]+)(?:\/(.*))?$/.exec(path) ?? [];
  switch (name) {
    case "png":
      res.writeHead(200, { "content-type": "image/png", "content-length": png.length }).end(png);
      return;
    case "chunked-png":
      res.writeHead(200, { "content-type": "image/png" }).end(png);
      return;
    case "html":
      res.writeHead(200, { "content-type": "image/png" }).end("<!doctype html><html><body>not an image</body></html>");
      return;
    case "redirect":
      res.writeHead(302, { location: decodeURIComponent(arg ?? "/png") }).end();
      return;
    case "loop":
      res.writeHead(302, { location: `${origin}/loop` }).end();
      return;
    case "slow":
      res.writeHead(200, { "content-type": "image/png" });
      res.write(png.subarray(0, 64));
      return; // the rest never comes
    case "status":
      res.writeHead(Number(arg)).end();
      return;
    case "flaky":
      if (state.flakyFailures > 0) {
        state.flakyFailures--;
        res.writeHead(503).end();
      } else res.writeHead(200, { "content-type": "image/png" }).end(png);
      return;
    default:
      res.writeHead(404).end();
  }
}
