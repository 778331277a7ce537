import "./redis-global-setup";

export default async function redisGlobalTeardown(): Promise<void> {
  const server = globalThis.__imagegenWebhooksRedis;
  globalThis.__imagegenWebhooksRedis = undefined;
  if (!server) return;
  delete process.env.REDIS_URL;
  await server.stop();
}
