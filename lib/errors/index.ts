// lib/errors/: the package's error classes, one module per class or small family; this file exports them.
export { ConfigError } from "./config-error";
export { InvalidListenerError, WebhookHandlerError } from "./handler-error";
export { UsageError } from "./usage-error";
export * from "./webhook-error";
export { ImageKeepError, type ImageFailureReason } from "./image-keep-error";
export { ImagesNotKept } from "./images-not-kept";
export { InboxUnavailableError } from "./inbox-unavailable-error";
export { ListenerFailure } from "./listener-failure";
export { ListenerTimeoutError } from "./listener-timeout-error";
export { ProviderApiError } from "./provider-api-error";
export { RedisTimeoutError } from "./redis-timeout-error";
