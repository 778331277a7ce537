import { randomBytes } from "node:crypto";
import { createWebhooks, type AnyWebhookEvent } from "../../lib/entries/index";
import { replicateDelivery, replicateExample, signDelivery } from "../../lib/entries/testing";
import documented from "../fixtures/replicate-starting.json";

const SIGNING_SECRET = `whsec_${randomBytes(32).toString("base64")}`;

function receiver() {
  const webhooks = createWebhooks({ providers: { replicate: { signature: { secret: SIGNING_SECRET } } } });
  const events: AnyWebhookEvent[] = [];
  const names: string[] = [];
  webhooks.on("*", (event) => void events.push(event));
  for (const name of [
    "replicate.starting",
    "replicate.succeeded",
    "replicate",
    "generation.queued",
    "generation.completed",
    "generation.failed",
  ] as const) {
    webhooks.on(name, () => void names.push(name));
  }
  const send = (body: unknown, id?: string) => {
    const rawBody = JSON.stringify(body);
    return webhooks.receive({
      provider: "replicate",
      headers: { "content-type": "application/json", ...signDelivery(rawBody, { secret: SIGNING_SECRET, ...(id && { id }) }) },
      rawBody,
    });
  };
  return { webhooks, events, names, send };
}

test("the documented prediction is accepted, signed, and emitted as replicate.starting and generation.queued", async () => {
  const { events, names, send } = receiver();
  expect(replicateExample).toEqual(documented);
  const answer = await send(documented);
  expect(answer).toEqual({ status: 200, headers: {}, body: "" });
  expect(names).toEqual(["replicate.starting", "replicate", "generation.queued"]);
  expect(events[0]?.generation).toEqual({
    provider: "replicate",
    id: "ufawqhfynnddngldkgtslldrkq",
    status: "queued",
    images: [],
    params: { text: "Alice" },
    createdAt: "2022-04-26T22:13:06.224088Z",
  });
});

test("a succeeded prediction normalizes its output URLs, prompt and input", async () => {
  const { events, send } = receiver();
  const body = replicateDelivery("succeeded", {
    input: { prompt: "a fox", num_outputs: 2, image: "https://example.com/in.png" },
    output: ["https://r.example/1.webp", "https://r.example/2.webp"],
  });
  await send(body);
  expect(events[0]?.generation).toMatchObject({
    status: "completed",
    images: [{ url: "https://r.example/1.webp" }, { url: "https://r.example/2.webp" }],
    prompt: "a fox",
    sourceImageUrl: "https://example.com/in.png",
    params: { num_outputs: 2 },
  });
  // A single URL is an output too.
  await send(replicateDelivery("succeeded", { output: "https://r.example/only.png" }));
  expect(events[1]?.generation.images).toEqual([{ url: "https://r.example/only.png" }]);
});

test("a text model's output is not an image: only http(s) URLs and data:image/ URIs are", async () => {
  const { events, send } = receiver();
  await send(replicateDelivery("succeeded", { output: "hello Alice" }));
  expect(events[0]?.generation.images).toEqual([]);
  await send(replicateDelivery("succeeded", { output: ["hello", " Alice", "ftp://r.example/x.png", "data:text/plain,hi"] }));
  expect(events[1]?.generation.images).toEqual([]);
  const inline = "data:image/png;base64,iVBORw0KGgo=";
  await send(replicateDelivery("succeeded", { output: ["https://r.example/1.png", inline, "HTTP://r.example/2.png"] }));
  expect(events[2]?.generation.images).toEqual([{ url: "https://r.example/1.png" }, { url: inline }, { url: "HTTP://r.example/2.png" }]);
});

test("a failed prediction's error becomes generation.error; none when it has none", async () => {
  const { events, send } = receiver();
  await send(replicateDelivery("failed", { error: "CUDA out of memory" }));
  expect(events[0]?.generation).toMatchObject({ status: "failed", error: "CUDA out of memory" });
  await send(replicateDelivery("failed", { error: { message: "NSFW content detected" } }));
  expect(events[1]?.generation.error).toBe("NSFW content detected");
  await send(replicateDelivery("succeeded", { error: null }));
  expect(events[2]?.generation).not.toHaveProperty("error");
});

test.each([
  ["starting", "queued"],
  ["processing", "processing"],
  ["succeeded", "completed"],
  ["failed", "failed"],
  ["canceled", "failed"],
  ["paused-by-a-new-feature", "unknown"],
])("status %s is generation.%s", async (status, normalized) => {
  const { events, send } = receiver();
  expect((await send(replicateDelivery(status))).status).toBe(200);
  expect(events.map((e) => [e.name, e.generation.status])).toEqual([[`replicate.${status}`, normalized]]);
});

test("webhook-id is the idempotency key: a retry is a duplicate, two processing updates are two events", async () => {
  const { events, send } = receiver();
  const first = replicateDelivery("processing");
  const second = { ...first, logs: "step 2 of 4\n" };
  await send(first, "msg_1");
  await send(first, "msg_1");
  await send(second, "msg_2");
  expect(events.map((e) => e.id)).toEqual(["msg_1", "msg_2"]);
});

test("unsigned (token only), a resent body is a duplicate and a changed one is not", async () => {
  const webhooks = createWebhooks({ providers: { replicate: { secret: "tok" } } });
  const ids: string[] = [];
  webhooks.on("replicate", (event) => void ids.push(event.id));
  const send = (body: unknown) =>
    webhooks.receive({
      provider: "replicate",
      headers: { "content-type": "application/json" },
      rawBody: JSON.stringify(body),
      query: "token=tok",
    });
  const update = replicateDelivery("processing");
  await send(update);
  await send(update);
  await send({ ...update, logs: "more\n" });
  expect(ids).toHaveLength(2);
  expect(ids[0]).not.toBe(ids[1]);
});

test.each([
  ["no id", { status: "starting" }, "", "must have required property 'id'"],
  ["a status that is not a string", { id: "p", status: 3 }, "/status", "must be string"],
  [
    "a created_at that is not a date-time",
    { id: "p", status: "starting", created_at: "yesterday" },
    "/created_at",
    'must match format "date-time"',
  ],
  ["logs of the wrong type", { id: "p", status: "starting", logs: 5 }, "/logs", "must be string"],
])("the schema refuses %s", async (_, body, instancePath, message) => {
  const { events, send } = receiver();
  const answer = await send(body);
  expect(answer.status).toBe(400);
  expect(JSON.parse(answer.body).errors).toContainEqual({ instancePath, message });
  expect(events).toEqual([]);
});

test("an unsigned delivery to a signing configuration is 401", async () => {
  const { webhooks, events } = receiver();
  const answer = await webhooks.receive({
    provider: "replicate",
    headers: { "content-type": "application/json" },
    rawBody: JSON.stringify(replicateDelivery()),
  });
  expect(answer.status).toBe(401);
  expect(events).toEqual([]);
});

test("configured with nothing, the message names the signing secret first", () => {
  expect(() => createWebhooks({ providers: { replicate: {} } })).toThrow(/has no secret: set providers\.replicate\.signature/);
});
