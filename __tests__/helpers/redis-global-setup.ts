// When REDIS_URL is unset, a throwaway redis-server for the whole run (if the binary is on PATH),
// so that a developer runs the Redis store's tests with no setup. Without one, only the Redis
// tests fail, with the command that installs it: the rest of the suite is not held hostage.
import { MISSING_REDIS_ENV, startRedisServer, type RedisServer } from "./redis-server";

declare global {
  // The handle, for the globalTeardown (same process).

  var __imagegenWebhooksRedis: RedisServer | undefined;
}

export default async function redisGlobalSetup(): Promise<void> {
  if (process.env.REDIS_URL) return;
  try {
    const server = await startRedisServer();
    globalThis.__imagegenWebhooksRedis = server;
    process.env.REDIS_URL = server.url;
  } catch (err) {
    process.env[MISSING_REDIS_ENV] = err instanceof Error ? err.message : String(err);
  }
}
