// Servers on loopback that stand in for a provider's API or its published keys, for the providers'
// tests: started on a free port, closed with their connections.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** `listen(handler)` starts a server and gives its origin; `closeAll()` (in an afterEach) closes every one started. */
export function loopbackServers() {
  const servers: Server[] = [];
  return {
    listen: async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> => {
      const server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    closeAll: () => Promise.all(servers.splice(0).map(closeServer)),
  };
}

/**
 * A JWKS server whose keys (and whether it answers) the test changes: `path` is where the provider
 * publishes its keys, `failStatus` what it answers once told to fail.
 */
export async function jwksServer(initial: JWK[], { path, failStatus }: { path: string; failStatus: number }) {
  let keys = initial;
  let fails = false;
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    if (fails) return res.writeHead(failStatus).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    setKeys: (next: JWK[]) => void (keys = next),
    fail: () => void (fails = true),
    requests: () => requests,
    close: () => closeServer(server),
  };
}
