// lib/options/stores.ts: where deliveries and generations are kept: the `dedupe` store, the
// `inbox`, and the `generations` store, whose default follows from the other two.
import type { Inbox } from "../inbox/inbox";
import { MemoryGenerations } from "../stores/memory-generations";
import { MemoryStore } from "../stores/memory-store";
import type { DedupeStore, GenerationStore } from "../stores/store";
import { ConfigError, isObject } from "./checks";

export function resolveStore(dedupe: DedupeStore | false | undefined): DedupeStore | undefined {
  if (dedupe === false) return undefined;
  if (dedupe === undefined) return new MemoryStore();
  const store = dedupe as unknown as Record<string, unknown>;
  if (
    !isObject(store) ||
    typeof store.claim !== "function" ||
    typeof store.complete !== "function" ||
    typeof store.release !== "function"
  ) {
    throw new ConfigError(
      "dedupe must be a store with claim(), complete() and release() (see memoryStore()), or false to turn deduplication off",
    );
  }
  return dedupe;
}

export function resolveInbox(inbox: unknown): Inbox | undefined {
  if (inbox === undefined) return undefined;
  const methods = ["enqueue", "startWorker", "list", "get", "replay", "close"];
  if (!isObject(inbox) || methods.some((method) => typeof inbox[method] !== "function")) {
    throw new ConfigError('inbox must be an inbox such as bullmqInbox({ connection }) from "imagegen-webhooks/bullmq"');
  }
  return inbox as unknown as Inbox;
}

export function resolveGenerations(
  generations: unknown,
  inbox: Inbox | undefined,
  store: DedupeStore | undefined,
): GenerationStore | undefined {
  if (generations === false) return undefined;
  if (generations !== undefined) {
    if (!isGenerationStore(generations)) {
      throw new ConfigError(
        "generations must be a store with advance() (see redisStore()), or false to fire every delivery's generation events",
      );
    }
    return generations;
  }
  if (inbox?.generations) return inbox.generations;
  return isGenerationStore(store) ? store : new MemoryGenerations();
}

function isGenerationStore(value: unknown): value is GenerationStore {
  return isObject(value) && typeof value.advance === "function";
}
