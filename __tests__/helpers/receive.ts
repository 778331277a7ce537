// Deliveries handed to `receive()` as a provider would send them: JSON, with the token in the query.
import type { Webhooks } from "imagegen-webhooks";

/** Receives `body` as a JSON delivery of `provider` authenticated by `token`, and expects it handled (200). */
export async function receiveOk(webhooks: Webhooks, provider: string, body: unknown, token: string): Promise<void> {
  const answer = await webhooks.receive({
    provider,
    headers: { "content-type": "application/json" },
    query: { token },
    rawBody: JSON.stringify(body),
  });
  expect(answer.status).toBe(200);
}
