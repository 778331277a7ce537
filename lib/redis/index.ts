export {
  RedisStore,
  redisStore,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_IN_FLIGHT_TTL_MS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_REDIS_TTL_MS,
  type RedisScriptClient,
  type RedisStoreOptions,
} from "../stores/redis-store";
export type { ClaimResult, DedupeStore } from "../stores/store";
