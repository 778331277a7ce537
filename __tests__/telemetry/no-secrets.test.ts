// Over a fuzzed set of deliveries (good and bad tokens, signed and unsigned, valid and broken
// bodies, odd headers, failing listeners): no span attribute, span event, status message or
// metric attribute ever holds a secret, a token, a header's value or the body.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { createWebhooks } from "imagegen-webhooks";
import { allImagesDelivery, crazyhorseDelivery, signDelivery } from "imagegen-webhooks/testing";
import { installOtel, type Otel } from "../helpers/otel";

const TOKEN = `tok-${randomBytes(16).toString("hex")}`;
const SIGNING_SECRET = `whsec_${randomBytes(32).toString("base64")}`;
let otel: Otel;

beforeAll(() => {
  otel = installOtel();
});
afterAll(() => otel.shutdown());

/** Everything telemetry recorded, as strings: attribute values, event attributes, status messages, names. */
async function everythingRecorded(): Promise<string[]> {
  const texts: string[] = [];
  for (const span of otel.spans()) {
    texts.push(span.name, span.status.message ?? "", ...Object.values(span.attributes).map(String));
    for (const event of span.events) texts.push(event.name, ...Object.values(event.attributes ?? {}).map(String));
  }
  for (const metric of await otel.collect()) {
    for (const point of metric.dataPoints) texts.push(...Object.values(point.attributes).map(String));
  }
  return texts;
}

const marker = fc.string({ minLength: 12, maxLength: 24, unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789") });

test("no attribute ever holds a secret, a token, a header value or the body", async () => {
  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret: TOKEN }, "all-images": { secret: TOKEN, signature: { secret: SIGNING_SECRET } } },
    handlerTimeoutMs: 20,
  });
  webhooks.on("error", () => {});
  webhooks.on("generation", (event) => {
    // A listener that fails now and then, with a message of the host's own (not a secret of ours).
    if (event.id.endsWith("0:done")) throw new Error("listener failed");
  });
  const forbidden = new Set<string>([TOKEN, SIGNING_SECRET]);

  await fc.assert(
    fc.asyncProperty(
      fc.record({
        provider: fc.constantFrom("crazyhorse", "all-images"),
        token: fc.oneof(
          fc.constant(TOKEN),
          marker.map((m) => `tok-${m}`),
        ),
        where: fc.constantFrom("query", "bearer", "header"),
        prompt: marker,
        headerValue: marker,
        broken: fc.constantFrom("no", "json", "schema"),
        signed: fc.boolean(),
      }),
      async ({ provider, token, where, prompt, headerValue, broken, signed }) => {
        const payload =
          provider === "crazyhorse"
            ? { ...crazyhorseDelivery({ state: "DONE" }), note: `prompt-${prompt}` }
            : { ...allImagesDelivery(), note: `prompt-${prompt}` };
        const body =
          broken === "json" ? `{"note":"prompt-${prompt}"` : broken === "schema" ? `{"state":"prompt-${prompt}"}` : JSON.stringify(payload);
        const headers: Record<string, string> = { "content-type": "application/json", "x-custom": `hdr-${headerValue}` };
        if (where === "bearer") headers.authorization = `Bearer ${token}`;
        if (where === "header") headers["x-webhook-token"] = token;
        if (provider === "all-images" && signed) Object.assign(headers, signDelivery(body, { secret: SIGNING_SECRET }));
        forbidden.add(token).add(`prompt-${prompt}`).add(`hdr-${headerValue}`).add(body);
        await webhooks.receive({ provider, headers, ...(where === "query" && { query: { token } }), rawBody: body });
      },
    ),
    { numRuns: 150 },
  );
  await webhooks.close();

  const recorded = await everythingRecorded();
  expect(otel.spans().length).toBeGreaterThanOrEqual(150);
  const leaks = recorded.flatMap((text) =>
    [...forbidden].filter((secret) => text.includes(secret)).map((secret) => `${text} holds ${secret}`),
  );
  expect(leaks).toEqual([]);
});
