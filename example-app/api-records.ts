import type { Redis } from "ioredis";

/**
 * What the demo's fake provider APIs answer from: each job as the simulator played it, by id. In
 * memory for one process; in Redis beside the inbox's queue when several demos share it, since the
 * process that reads a job back (its worker, its reconciler) may not be the one that played it.
 */
export interface ApiRecords<T> {
  set(id: string, value: T): Promise<void>;
  get(id: string): Promise<T | undefined>;
}

/** The latest `max` records, in this process. */
export function memoryRecords<T>(max: number): ApiRecords<T> {
  const records = new Map<string, T>();
  return {
    set(id, value) {
      records.delete(id);
      records.set(id, value);
      // A Map iterates in insertion order: the first key is the oldest.
      if (records.size > max) records.delete(records.keys().next().value as string);
      return Promise.resolve();
    },
    get(id) {
      return Promise.resolve(records.get(id));
    },
  };
}

/** How long a record stays in Redis: longer than any simulated job plays, retries and is read back. */
const RECORD_TTL_SECONDS = 24 * 60 * 60;

/** One Redis key per record, under `prefix`, each expiring on its own. */
export function redisRecords<T>(connection: Redis, prefix: string): ApiRecords<T> {
  return {
    async set(id, value) {
      await connection.set(`${prefix}:${id}`, JSON.stringify(value), "EX", RECORD_TTL_SECONDS);
    },
    async get(id) {
      const text = await connection.get(`${prefix}:${id}`);
      return text === null ? undefined : (JSON.parse(text) as T);
    },
  };
}
