// lib/pipeline/complete.ts: a generation whose webhook only says that it ended (OpenAI's) completed
// from its provider's API before its events fire: the provider's `complete` (lib/providers/provider.ts),
// read through the reconciler's hardened fetch and checked against the API's own schema.
import { WebhookError } from "../errors";
import { ProviderApiError } from "../providers/provider-api";
import type { Delivery } from "./delivery";
import { callProviderApi, DEFAULT_READ_BACK_MAX_BYTES, isReadableId } from "./read-back-fetch";
import { compileValidator } from "./validate";

/** How long a completing read-back may take, its answer's body included, unless `reconcile.timeoutMs` says longer. */
export const COMPLETION_TIMEOUT_MS = 30_000;

/** The generation could not be read back from its provider's API: the delivery fails, for a retry. */
export class GenerationNotCompleted extends Error {
  constructor(override readonly cause: unknown) {
    super(`the generation could not be read back from its provider's API: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "GenerationNotCompleted";
  }
}

/**
 * Reads the delivery's generation back and lays what the API says over it (its images), where its
 * provider completes generations that way, has its credential, and says this one needs it.
 * `undefined` when there is nothing to read, so that every other delivery stays synchronous.
 */
export function completeGeneration(delivery: Delivery): Promise<void> | undefined {
  const { provider, event } = delivery;
  const completion = provider.provider.complete;
  if (!completion || !provider.api || !completion.needs(event.generation)) return undefined;
  return readBack(delivery).then(
    (answer) => void Object.assign(event.generation, completion.apply(event.generation, answer)),
    (err: unknown) => {
      throw new GenerationNotCompleted(err);
    },
  );
}

async function readBack({ receiver, provider, event }: Delivery): Promise<unknown> {
  const completion = provider.provider.complete!;
  const api = provider.api!;
  const { id } = event.generation;
  if (!isReadableId(id)) throw new ProviderApiError("the generation's id cannot be read back (empty, . or .., or too long)", 0);
  const { logger, reconcile } = receiver.options;
  const answer = await callProviderApi(
    {
      provider: provider.name,
      generation: id,
      baseUrl: api.baseUrl,
      timeoutMs: Math.max(COMPLETION_TIMEOUT_MS, reconcile?.timeoutMs ?? 0),
      maxBytes: completion.maxBytes ?? reconcile?.maxBytes ?? DEFAULT_READ_BACK_MAX_BYTES,
      logger,
    },
    (fetch, signal) => completion.read(event.generation, { ...api, fetch, signal }),
  );
  try {
    compileValidator(completion.schema)(answer);
  } catch (err) {
    if (err instanceof WebhookError) throw new ProviderApiError("the API's answer does not match its schema", 200);
    throw err;
  }
  if (completion.idOf(answer) !== id)
    throw new ProviderApiError("the API's answer is about another generation than the one asked for", 200);
  return answer;
}
