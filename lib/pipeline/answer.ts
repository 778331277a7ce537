import type { WebhookError } from "../errors";
import type { WebhookResponse } from "../http/response";

/** An RFC 9457 problem document: never a secret, never the body. */
export function problemAnswer(error: WebhookError): WebhookResponse {
  return {
    status: error.status,
    headers: { "content-type": "application/problem+json", ...error.headers },
    body: JSON.stringify(error.toProblem()),
  };
}

/** The provider's own success answer, with another status where the pipeline says so (202). */
export function providerAnswer(answer: WebhookResponse, status = answer.status): WebhookResponse {
  return { status, headers: { ...answer.headers }, body: answer.body };
}
