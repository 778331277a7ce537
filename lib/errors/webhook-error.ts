import type { SchemaError } from "../events/webhook-event";

/** The reasons a delivery is refused, each with its HTTP status. */
export const PROBLEMS = {
  "route.not-found": { status: 404, title: "Not Found" },
  "method.not-allowed": { status: 405, title: "Method Not Allowed" },
  "entity.too.large": { status: 413, title: "Payload Too Large" },
  "request.aborted": { status: 400, title: "Request Aborted" },
  "request.invalid": { status: 400, title: "Bad Request" },
  "content-type.unsupported": { status: 415, title: "Unsupported Media Type" },
  "encoding.unsupported": { status: 415, title: "Unsupported Content Encoding" },
  "auth.failed": { status: 401, title: "Unauthorized" },
  "auth.wrong-account": { status: 401, title: "Delivery For Another Account" },
  "auth.multiple-tokens": { status: 401, title: "More Than One Token" },
  "ip.forbidden": { status: 403, title: "Forbidden" },
  "json.malformed": { status: 400, title: "Malformed JSON" },
  "json.too-deep": { status: 400, title: "JSON Nested Too Deeply" },
  "schema.invalid": { status: 400, title: "Payload Does Not Match The Schema" },
  "delivery.in-flight": { status: 409, title: "Delivery Already In Progress" },
  "store.unavailable": { status: 503, title: "Dedupe Store Unavailable" },
  "keys.unavailable": { status: 503, title: "Signing Keys Unavailable" },
  "inbox.unavailable": { status: 503, title: "Inbox Unavailable" },
  "receiver.closing": { status: 503, title: "Receiver Closing" },
  "handler.failed": { status: 500, title: "Handler Failed" },
  /** The provider's API did not complete the generation its webhook named (OpenAI's read-back): the provider retries. */
  "completion.failed": { status: 500, title: "Generation Not Read Back" },
  "body.unavailable": { status: 500, title: "Raw Body Unavailable" },
  "receiver.failed": { status: 500, title: "Internal Server Error" },
} as const satisfies Record<string, { status: number; title: string }>;

/** The reason of a refusal: `WebhookError.code`, the `invalid` event's `reason`, the end of the problem `type`. */
export type WebhookErrorCode = keyof typeof PROBLEMS;

/** The start of every problem document's `type`; the refusal's code follows. */
export const PROBLEM_TYPE_PREFIX = "urn:imagegen-webhooks:problem:";

/**
 * A refusal, thrown inside a stage and turned into an answer in one place. `code` is the word to
 * switch on (body-parser's `type`); the message never holds a secret or the body.
 */
export class WebhookError extends Error {
  readonly code: WebhookErrorCode;
  readonly status: number;
  readonly errors?: SchemaError[];
  readonly headers?: Record<string, string>;
  /** RFC 9457 `detail`: what to change, for a sender or a setup mistake; never a secret or the body. */
  readonly detail?: string;

  constructor(code: WebhookErrorCode, options: { errors?: SchemaError[]; headers?: Record<string, string>; detail?: string } = {}) {
    super(PROBLEMS[code].title);
    this.name = "WebhookError";
    this.code = code;
    this.status = PROBLEMS[code].status;
    if (options.errors) this.errors = options.errors;
    if (options.headers) this.headers = options.headers;
    if (options.detail) this.detail = options.detail;
  }

  /** The RFC 9457 problem document for this refusal. */
  toProblem(): Problem {
    return {
      type: PROBLEM_TYPE_PREFIX + this.code,
      title: PROBLEMS[this.code].title,
      status: this.status,
      ...(this.detail && { detail: this.detail }),
      ...(this.errors && { errors: this.errors }),
    };
  }
}

/** An RFC 9457 problem document: the body of every refusal. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  /** What to change, where saying so reveals nothing secret: e.g. the content type received and the one expected. */
  detail?: string;
  errors?: SchemaError[];
}
