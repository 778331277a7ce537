// What a name resolves to is judged on the lookup of the socket that connects, each time: a name
// that answers a public address and then a private one (DNS rebinding), or both at once, never
// gets a connection to the private one. The resolver is a spy on node:dns (no real DNS here), and
// the private address is a local image server that counts its connections.
import https from "node:https";
import { createRequire } from "node:module";
import { isIP } from "node:net";
import { directoryImageStore, type AnyWebhookEvent } from "imagegen-webhooks";
import { createAgents } from "../../lib/images/download";
import { resolveKeepImages } from "../../lib/images/options";
import { startImageServer, type ImageServer } from "../helpers/image-server";

// node:dns as the library's modules require it: a spy on this object is what they call.
const dns = createRequire(__filename)("node:dns") as typeof import("node:dns");
const REBINDING_HOST = "images.rebind.test";
const PUBLIC = "93.184.215.14";

let server: ImageServer;
let port: string;
/** The answers the spied resolver gives for REBINDING_HOST, one list of addresses per lookup. */
let answers: string[][];
let lookups: number;

beforeAll(async () => {
  server = await startImageServer();
  port = new URL(server.origin).port;
});
afterAll(() => server.close());

beforeEach(() => {
  server.connections = 0;
  answers = [];
  lookups = 0;
  const real = dns.lookup;
  jest.spyOn(dns, "lookup").mockImplementation(((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
    if (hostname !== REBINDING_HOST) return (real as (...args: unknown[]) => void)(hostname, options, callback);
    lookups++;
    const addresses = (answers.shift() ?? []).map((address) => ({ address, family: isIP(address) }));
    // A turn later, as a real resolver answers: after the request has handed out its socket.
    setImmediate(() => callback(null, addresses));
  }) as unknown as typeof dns.lookup);
});
afterEach(() => jest.restoreAllMocks());

test("a name that answers a public and a private address at once is refused, and nothing connects", async () => {
  answers = [[PUBLIC, "127.0.0.1"]];
  const keeper = resolveKeepImages({ store: directoryImageStore("/nonexistent-never-written"), timeoutMs: 5000 });
  try {
    const generation = { id: "gen-1", status: "completed", images: [{ url: `https://${REBINDING_HOST}:${port}/png` }] };
    const event = { provider: "crazyhorse", name: "crazyhorse.done", generation } as unknown as AnyWebhookEvent;
    const failures = await keeper.keep(event, false);
    expect(failures).toEqual([expect.objectContaining({ reason: "refused-address", message: expect.stringContaining("127.0.0.1") })]);
    expect(event.generation.images[0]!.keptUrl).toBeUndefined();
  } finally {
    keeper.close();
  }
  expect(lookups).toBe(1);
  expect(server.connections).toBe(0);
});

test("public on one lookup, private on the next: each socket's own lookup is judged, so the private answer is refused", async () => {
  answers = [[PUBLIC], ["127.0.0.1"]];
  const agents = createAgents();
  const url = `https://${REBINDING_HOST}:${port}/png`;
  /** One request through the guarded agent: the address its socket was to connect to, or the lookup's refusal. */
  const attempt = () =>
    new Promise<{ address?: string; error?: Error }>((resolve) => {
      const req = https.get(url, { agent: agents.guarded.https });
      req.on("socket", (socket) =>
        socket.on("lookup", (err: Error | null, address: string) => {
          if (err) return;
          // The public answer is only recorded, never connected to: this test reaches nothing outside.
          resolve({ address });
          req.destroy();
        }),
      );
      req.on("error", (error) => resolve({ error }));
    });
  try {
    expect(await attempt()).toEqual({ address: PUBLIC });
    const second = await attempt();
    expect(second.error).toMatchObject({ reason: "refused-address", message: expect.stringContaining("127.0.0.1") });
  } finally {
    for (const kind of [agents.guarded, agents.trusted]) for (const agent of [kind.http, kind.https]) agent.destroy();
  }
  // One lookup per connection, none of them before it: a check that resolved first and connected
  // after would have judged the first answer and connected to the second.
  expect(lookups).toBe(2);
  expect(server.connections).toBe(0);
});
