import { createHash } from "node:crypto";
import { ConfigError } from "../../options/checks";

// cluster-key-slot (ioredis's own) ships no types: its one function, typed here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const calculateSlot = require("cluster-key-slot") as (key: string) => number;

/** Redis Cluster's number of hash slots. */
export const CLUSTER_SLOTS = 16384;

/** A prefix's hash tag: what Redis Cluster hashes a key by (the first `{…}` with something inside). */
export function hashTagOf(prefix: string): { before: string; tag: string; after: string } | undefined {
  const open = prefix.indexOf("{");
  if (open < 0) return undefined;
  const close = prefix.indexOf("}", open + 1);
  if (close <= open + 1) return undefined;
  return { before: prefix.slice(0, open), tag: prefix.slice(open + 1, close), after: prefix.slice(close + 1) };
}

/**
 * Each partition's BullMQ prefix: the given one for a single partition (today's keys), else the
 * prefix with its hash tag extended for each partition. A partition's tag is chosen by its slot,
 * in the middle half of the partition's equal share of the 16384 slots: the shares a cluster of N
 * primaries gets from `redis-cli --cluster create`, so that each partition sits on its own primary
 * without reading the live cluster's layout (which would make two processes disagree after a
 * resharding). The middle half leaves room for shares that are not quite equal.
 */
export function partitionPrefixes(prefix: string, partitions: number): string[] {
  if (partitions === 1) return [prefix];
  const parts = hashTagOf(prefix);
  if (!parts) throw new ConfigError(`with partitions the prefix must hold a hash tag in braces, got "${prefix}"`, "bullmqInbox");
  const { before, tag, after } = parts;
  return Array.from({ length: partitions }, (_, i) => `${before}{${partitionTag(tag, i, partitions)}}${after}`);
}

function partitionTag(tag: string, index: number, partitions: number): string {
  const share = CLUSTER_SLOTS / partitions;
  const from = index * share + share / 4;
  const to = index * share + (3 * share) / 4;
  // Each try lands in the range with a chance of 1 in 2N: the search is short and always the same.
  for (let salt = 0; ; salt++) {
    const candidate = `${tag}/${index}.${salt}`;
    const slot = calculateSlot(candidate);
    if (slot >= from && slot < to) return candidate;
  }
}

/** The slot of a prefix's keys on a cluster. */
export function slotOf(prefix: string): number {
  return calculateSlot(prefix);
}

/**
 * The partition of a delivery: a hash of its key, the same in every process and every version,
 * so that a delivery and its duplicates (a retry, the same webhook at another edge) meet in one
 * queue, where the job id refuses the second.
 */
export function partitionOf(key: string, partitions: number): number {
  if (partitions === 1) return 0;
  return createHash("sha1").update(key).digest().readUInt32BE(0) % partitions;
}
