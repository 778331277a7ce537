import { nodePlatform } from "../platform/node";
import { createWebhooksFor } from "./webhooks";

/**
 * Creates a receiver. Every option is checked here: a configuration mistake throws a message that
 * says what to change. Its events are typed by the providers configured: with only crazyhorse,
 * `on("replicate.succeeded")` does not compile.
 */
export const createWebhooks = createWebhooksFor(nodePlatform);
