import { createServer } from "node:http";
import express from "express";
import request from "supertest";
import { createWebhooks, type InvalidDelivery } from "../../lib/entries/index";
import { crazyhorseDelivery } from "../../lib/entries/testing";
import { createWebhooks as createWebWebhooks } from "../../lib/entries/web";

const TOKEN = "token-for-ip-tests";

// The main entry matches with node:net, the web entry with ipaddr.js: every receive() case runs on both.
const ENTRIES = [
  ["main", createWebhooks],
  ["web", createWebWebhooks],
] as const;

function receiver(allowedIps: string[], create: typeof createWebhooks = createWebhooks) {
  const webhooks = create({ providers: { crazyhorse: { secret: TOKEN, allowedIps } } });
  const emitted: string[] = [];
  const invalid: InvalidDelivery[] = [];
  webhooks.on("*", (event) => void emitted.push(event.id));
  webhooks.on("invalid", (event) => void invalid.push(event));
  return { webhooks, emitted, invalid };
}

const fromIp = (webhooks: ReturnType<typeof receiver>["webhooks"], ip: string | undefined) =>
  webhooks.receive({
    provider: "crazyhorse",
    headers: { "content-type": "application/json", "x-webhook-token": TOKEN },
    rawBody: JSON.stringify(crazyhorseDelivery()),
    ...(ip !== undefined && { ip }),
  });

describe.each(ENTRIES)("allowedIps through receive(), the %s entry", (_entry, create) => {
  const ranges = ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"];

  test.each([
    ["203.0.113.1", 200],
    ["203.0.113.254", 200],
    ["198.51.100.7", 200],
    ["::ffff:203.0.113.9", 200],
    ["2001:db8:1::5", 200],
    ["203.0.114.1", 403],
    ["198.51.100.8", 403],
    ["2001:db9::1", 403],
    ["::1", 403],
    ["not an address", 403],
  ])("%s answers %i", async (ip, status) => {
    const { webhooks, emitted, invalid } = receiver(ranges, create);
    const answer = await fromIp(webhooks, ip);
    expect(answer.status).toBe(status);
    if (status === 403) {
      expect(answer.headers["content-type"]).toBe("application/problem+json");
      expect(emitted).toEqual([]);
      expect(invalid).toEqual([{ provider: "crazyhorse", status: 403, reason: "ip.forbidden" }]);
    } else {
      expect(emitted).toHaveLength(1);
    }
  });

  test("with an allowlist, a call that gives no address is refused: the list fails closed", async () => {
    const { webhooks } = receiver(ranges, create);
    expect((await fromIp(webhooks, undefined)).status).toBe(403);
  });

  test("the 403 comes before authentication: a wrong token from outside is 403, from inside 401", async () => {
    const { webhooks } = receiver(ranges, create);
    const send = (ip: string) =>
      webhooks.receive({
        provider: "crazyhorse",
        headers: { "content-type": "application/json" },
        rawBody: "{}",
        query: "token=wrong",
        ip,
      });
    expect((await send("192.0.2.1")).status).toBe(403);
    expect((await send("203.0.113.1")).status).toBe(401);
  });

  // "203.0.113.0/" read as /0 would let every address in: a prefix is decimal digits or nothing.
  test.each([
    [["300.1.1.1"]],
    [["10.0.0.0/33"]],
    [["2001:db8::/129"]],
    [["10.0.0.0/8/8"]],
    [["example.com"]],
    [[]],
    ["10.0.0.0/8"],
    [["203.0.113.0/"]],
    [["203.0.113.0/ 24"]],
    [["203.0.113.0/0x18"]],
    [["203.0.113.0/24.0"]],
    [["2001:db8::/"]],
  ])("createWebhooks refuses allowedIps %j, naming the option", (allowedIps) => {
    expect(() => create({ providers: { crazyhorse: { secret: TOKEN, allowedIps: allowedIps as string[] } } })).toThrow(
      /providers\.crazyhorse\.allowedIps/,
    );
  });
});

describe("allowedIps over HTTP", () => {
  function app(allowedIps: string[], trustProxy?: string) {
    const { webhooks, emitted } = receiver(allowedIps);
    const server = express();
    if (trustProxy !== undefined) server.set("trust proxy", trustProxy);
    server.use("/webhooks", webhooks.middleware());
    return { server, emitted };
  }
  const post = (server: Parameters<typeof request>[0], forwardedFor?: string, path = "/webhooks/crazyhorse") => {
    const req = request(server).post(path).set("content-type", "application/json").set("x-webhook-token", TOKEN);
    if (forwardedFor) req.set("x-forwarded-for", forwardedFor);
    return req.send(JSON.stringify(crazyhorseDelivery()));
  };

  test("without `trust proxy`, X-Forwarded-For is ignored: a spoofed header does not get in, the loopback peer does", async () => {
    const outside = app(["203.0.113.0/24"]);
    expect((await post(outside.server, "203.0.113.5")).status).toBe(403);
    expect(outside.emitted).toEqual([]);
    const loopback = app(["127.0.0.0/8", "::1"]);
    expect((await post(loopback.server, "192.0.2.1")).status).toBe(200);
  });

  test("with `trust proxy` set for the loopback proxy, the forwarded address is the one checked", async () => {
    const { server, emitted } = app(["203.0.113.0/24"], "loopback");
    expect((await post(server, "203.0.113.5")).status).toBe(200);
    expect((await post(server, "192.0.2.1")).status).toBe(403);
    expect(emitted).toHaveLength(1);
  });

  test("on a bare http server, the socket's address is checked", async () => {
    const inside = receiver(["127.0.0.1", "::1"]);
    const outside = receiver(["203.0.113.0/24"]);
    expect((await post(createServer(inside.webhooks.middleware()), "203.0.113.5", "/crazyhorse")).status).toBe(200);
    expect((await post(createServer(outside.webhooks.middleware()), "203.0.113.5", "/crazyhorse")).status).toBe(403);
  });
});
