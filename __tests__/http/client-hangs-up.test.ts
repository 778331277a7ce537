import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import express from "express";
import { createWebhooks, type InvalidDelivery, type Logger } from "../../lib/entries/index";
import { crazyhorseDelivery } from "../../lib/entries/testing";

// A sender that hangs up halfway through its body: the read fails as body-parser words it
// (request.aborted), nothing is emitted, nothing is left claimed, and the server goes on serving.
const TOKEN = "token-for-hang-up-tests";

function receiver(mount: "express" | "node:http") {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const at = (fields: object, msg?: string) => void lines.push({ msg: msg ?? "", fields: fields as Record<string, unknown> });
  const logger: Logger = { debug: at, info: at, warn: at, error: at };
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, logger });
  const emitted: string[] = [];
  webhooks.on("*", (event) => void emitted.push(event.id));
  const invalid: InvalidDelivery[] = [];
  const refused = new Promise<InvalidDelivery>((resolve) =>
    webhooks.on("invalid", (delivery) => {
      invalid.push(delivery);
      resolve(delivery);
    }),
  );
  const handler = mount === "express" ? express().use("/webhooks", webhooks.middleware()) : webhooks.middleware();
  const path = mount === "express" ? "/webhooks/crazyhorse" : "/crazyhorse";
  return { server: createServer(handler), path, lines, emitted, invalid, refused };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

/** Sends the head and the first part of the body, then closes the connection once the server has read that part. */
async function hangUpHalfway(port: number, path: string, framing: "content-length" | "chunked", body: string) {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  const half = body.slice(0, body.length >> 1);
  const head = [`POST ${path} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/json", `X-Webhook-Token: ${TOKEN}`];
  if (framing === "content-length") socket.write([...head, `Content-Length: ${Buffer.byteLength(body)}`, "", half].join("\r\n"));
  else socket.write([...head, "Transfer-Encoding: chunked", "", `${Buffer.byteLength(half).toString(16)}\r\n${half}\r\n`].join("\r\n"));
  // Long enough for the server to have read the head and the first part.
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.destroy();
}

describe.each(["express", "node:http"] as const)("mounted in %s", (mount) => {
  test.each(["content-length", "chunked"] as const)(
    "a sender that hangs up halfway through a %s body: request.aborted, nothing emitted, the retry is handled",
    async (framing) => {
      const r = receiver(mount);
      const port = await listen(r.server);
      try {
        const delivery = crazyhorseDelivery();
        await hangUpHalfway(port, r.path, framing, JSON.stringify(delivery));
        const refusal = await r.refused;
        expect(refusal).toMatchObject({ provider: "crazyhorse", reason: "request.aborted", status: 400 });
        expect(r.emitted).toEqual([]);
        expect(r.lines).toContainEqual(
          expect.objectContaining({ fields: expect.objectContaining({ outcome: "refused", reason: "request.aborted" }) }),
        );

        // Nothing was claimed: the provider's retry of the same delivery is handled, once.
        const retry = await fetch(`http://127.0.0.1:${port}${r.path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-webhook-token": TOKEN },
          body: JSON.stringify(delivery),
        });
        expect(retry.status).toBe(200);
        expect(r.emitted).toEqual([`${delivery.code}:${delivery.state.toLowerCase()}`]);
        expect(r.invalid).toHaveLength(1);
      } finally {
        r.server.closeAllConnections();
        r.server.close();
      }
    },
  );
});
