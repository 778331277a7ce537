import { randomBytes } from "node:crypto";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { ALL_IMAGES_STATUS, type AllImagesPayload } from "../providers/all-images";
import type { CrazyhorsePayload } from "../providers/crazyhorse";
import type { ProviderName, ProviderPayloads } from "../providers/index";
import type { ReplicatePayload } from "../providers/replicate";
import { signDelivery, type SignOptions } from "./signer";

export { signDelivery, type SignOptions, type StandardWebhookHeaders } from "./signer";

/** The example delivery of crazyhorse.ai's own page. */
export const crazyhorseExample = {
  state: "DONE",
  code: "89e78b15d29165008cbfd61ba3bb679f",
  image: "ced3e3051c203193952d8b51fe5c9d82/89e78b15d29165008cbfd61ba3bb679f.png",
  generateImageUrls: ["ced3e3051c203193952d8b51fe5c9d82/89e78b15d29165008cbfd61ba3bb679f/generate-1.png"],
  params: { hair: "red", clothes: "t-shirt, jean", number: 1 },
  createdAt: "2023-10-09T11:11:07.174Z",
} as const satisfies CrazyhorsePayload;

/** all-images.ai's documented shape, with values filled in. */
export const allImagesExample = {
  id: "evt_01HF2Y7Q4J3K",
  api_version: 1,
  created: 1698674434,
  type: "print.completed",
  data: {
    id: "gen_6540a1b2c3",
    name: "lighthouse at dusk",
    prompt: "a lighthouse at dusk, oil painting",
    status: 3,
    params: [{ name: "sujetMode", value: "landscape" }],
    images: [{ id: "img_1", url: "https://example.invalid/img_1.png", validate: true, free: false, titles: {} }],
    nbImages: 4,
    tags: ["demo"],
    metaData: {},
    createdAt: "2023-10-30T14:10:34.002Z",
  },
} as const satisfies AllImagesPayload;

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const clone = <T>(value: T): T => structuredClone(value) as T;


/**
 * A valid crazyhorse delivery in the given state (default `DONE`), with a fresh job `code` so
 * that two builds are two jobs. A completed state carries its images; others carry none.
 */
export function crazyhorseDelivery(overrides: Partial<CrazyhorsePayload> = {}): CrazyhorsePayload {
  const code = overrides.code ?? hex(16);
  const state = overrides.state ?? "DONE";
  const userHash = hex(16);
  const completed = /^(done|completed|success)$/i.test(state);
  const base: CrazyhorsePayload = {
    state,
    code,
    image: `${userHash}/${code}.png`,
    ...(completed && { generateImageUrls: [`${userHash}/${code}/generate-1.png`] }),
    params: clone(crazyhorseExample.params) as CrazyhorsePayload["params"],
    createdAt: new Date().toISOString(),
  };
  return { ...base, ...overrides };
}

/**
 * A valid all-images delivery of the given `type` (default `print.completed`), with a fresh
 * envelope `id` (the idempotency key) and generation id unless given.
 */
export function allImagesDelivery(
  type: string = "print.completed",
  overrides: Partial<Omit<AllImagesPayload, "data">> & { data?: Partial<AllImagesPayload["data"]> } = {},
): AllImagesPayload {
  const { data, ...envelope } = overrides;
  const example = clone(allImagesExample) as unknown as AllImagesPayload;
  const generationId = data?.id ?? `gen_${hex(6)}`;
  const images = type === "print.completed" ? 4 : type === "print.progress" ? 1 : 0;
  return {
    ...example,
    id: `evt_${hex(8)}`,
    created: Math.floor(Date.now() / 1000),
    type,
    ...envelope,
    data: {
      ...example.data,
      id: generationId,
      status: ALL_IMAGES_STATUS[type] ?? 1,
      images: Array.from({ length: images }, (_, i) => ({
        id: `img_${i + 1}`,
        url: `https://example.invalid/${generationId}/${i + 1}.png`,
        validate: true,
        free: false,
        titles: {},
      })),
      createdAt: new Date().toISOString(),
      ...data,
    },
  };
}

/** The unfinished prediction of Replicate's own webhook page. */
export const replicateExample = {
  id: "ufawqhfynnddngldkgtslldrkq",
  version: "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
  created_at: "2022-04-26T22:13:06.224088Z",
  started_at: null,
  completed_at: null,
  status: "starting",
  input: { text: "Alice" },
  output: null,
  error: null,
  logs: null,
  metrics: {},
} as const satisfies ReplicatePayload;

/**
 * A valid Replicate prediction in the given status (default `succeeded`), with a fresh id; a
 * succeeded one carries four image URLs in `output`, a failed one its `error`.
 */
export function replicateDelivery(status: string = "succeeded", overrides: Partial<ReplicatePayload> = {}): ReplicatePayload {
  const id = overrides.id ?? hex(13);
  const created = new Date();
  const done = ["succeeded", "failed", "canceled"].includes(status);
  return {
    id,
    model: "black-forest-labs/flux-schnell",
    version: hex(32),
    status,
    input: { prompt: "a lighthouse at dusk, oil painting", num_outputs: 4 },
    output: status === "succeeded" ? Array.from({ length: 4 }, (_, i) => `https://replicate.delivery/example/${id}/out-${i}.webp`) : null,
    error: status === "failed" ? "CUDA out of memory" : null,
    logs: status === "starting" ? null : "Using seed: 42\n",
    created_at: created.toISOString(),
    started_at: status === "starting" ? null : created.toISOString(),
    completed_at: done ? new Date(created.getTime() + 1500).toISOString() : null,
    urls: { get: `https://api.replicate.com/v1/predictions/${id}`, cancel: `https://api.replicate.com/v1/predictions/${id}/cancel` },
    metrics: done ? { predict_time: 1.5 } : {},
    ...overrides,
  };
}

/** A valid delivery for a provider: `buildDelivery("crazyhorse", { state: "WAITING" })`. */
export function buildDelivery<P extends ProviderName>(provider: P, overrides: Partial<ProviderPayloads[P]> = {}): ProviderPayloads[P] {
  if (provider === "crazyhorse") return crazyhorseDelivery(overrides as Partial<CrazyhorsePayload>) as ProviderPayloads[P];
  if (provider === "replicate") {
    const { status, ...rest } = overrides as Partial<ReplicatePayload>;
    return replicateDelivery(status, rest) as ProviderPayloads[P];
  }
  const { type, ...rest } = overrides as Partial<AllImagesPayload>;
  return allImagesDelivery(type, rest) as ProviderPayloads[P];
}

/** What `sendDelivery` sends, and how it authenticates. */
export interface SendOptions {
  /** The body: an object is sent as JSON, a string or bytes as they are. */
  body: unknown;
  /** Sent as `X-Webhook-Token`; `tokenIn: "query"` puts it in `?token=` instead. */
  secret?: string;
  tokenIn?: "header" | "query";
  /** With an app: the path to POST to, e.g. `/webhooks/crazyhorse`. */
  path?: string;
  headers?: Record<string, string>;
  /** Sign the body with Standard Webhooks headers too. */
  signature?: SignOptions;
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

async function post(url: string, { body, secret, tokenIn = "header", headers = {}, signature }: SendOptions): Promise<SentResponse> {
  const target = new URL(url);
  const payload = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const sent: Record<string, string> = {
    "content-type": "application/json",
    ...(signature && signDelivery(payload, signature)),
    ...headers,
  };
  if (secret !== undefined) {
    if (tokenIn === "query") target.searchParams.set("token", secret);
    else sent["x-webhook-token"] = secret;
  }
  const response = await fetch(target, { method: "POST", headers: sent, body: payload });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

export * from "./simulate";
