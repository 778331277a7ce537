// The imagegen-webhooks/redis entry point: the Redis store, and nothing that loads ioredis (the
// store takes the user's client).
export {
  RedisStore,
  redisStore,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_IN_FLIGHT_TTL_MS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_REDIS_TTL_MS,
  type RedisScriptClient,
  type RedisStoreOptions,
} from "../../stores/redis-store";
export type { Advance, ClaimResult, DedupeStore, GenerationStore, TrackedStatus } from "../../stores/store";
