import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { signDelivery, type SignOptions } from "./signer";

/** What `sendDelivery` sends, and how it authenticates. */
export interface SendOptions {
  /** The body: an object is sent as JSON, a string or bytes as they are. */
  body: unknown;
  /** Sent as `X-Webhook-Token`; `tokenIn: "query"` puts it in `?token=` instead, `"bearer"` in `Authorization: Bearer` (as Leonardo.ai sends its key). */
  secret?: string;
  tokenIn?: "header" | "query" | "bearer";
  /** With an app: the path to POST to, e.g. `/webhooks/crazyhorse`. */
  path?: string;
  headers?: Record<string, string>;
  /** Sign the body with Standard Webhooks headers too. */
  signature?: SignOptions;
  /** Headers made from the exact bytes sent, for a provider with its own scheme: e.g. `bodySigner("bfl", secret)` for Black Forest Labs, `(body) => signFalDelivery(body, { privateKey, userId })` for fal.ai. */
  sign?: (rawBody: string | Uint8Array) => Record<string, string>;
}

/** The receiver's answer to `sendDelivery`: status, headers, and the body as text. */
export interface SentResponse {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * POSTs a delivery to a URL, or to an app (an Express app or any request listener), which is
 * then served on an ephemeral loopback port for the one request.
 */
export async function sendDelivery(target: string | RequestListener, options: SendOptions): Promise<SentResponse> {
  if (typeof target === "string") return post(target, options);
  const server = createServer(target);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await post(`http://127.0.0.1:${port}${options.path ?? "/"}`, options);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function post(url: string, { body, secret, tokenIn = "header", headers = {}, signature, sign }: SendOptions): Promise<SentResponse> {
  const target = new URL(url);
  const payload = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const sent: Record<string, string> = {
    "content-type": "application/json",
    ...(signature && signDelivery(payload, signature)),
    ...(sign && sign(payload)),
    ...headers,
  };
  if (secret !== undefined) {
    if (tokenIn === "query") target.searchParams.set("token", secret);
    else if (tokenIn === "bearer") sent["authorization"] = `Bearer ${secret}`;
    else sent["x-webhook-token"] = secret;
  }
  const response = await fetch(target, { method: "POST", headers: sent, body: payload });
  return { status: response.status, headers: response.headers, body: await response.text() };
}
