/** Redis did not answer within commandTimeoutMs: the claim is released in the background, not left to expire. */
export class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`imagegen-webhooks: Redis did not answer within ${ms} ms (commandTimeoutMs)`);
    this.name = "RedisTimeoutError";
  }
}
