import type { WebhooksOptions } from "./options";
import { nodePlatform } from "./platform/node";
import type { AnyProvider } from "./providers/provider";
import { Webhooks, type WithCustomProviders } from "./webhooks";

/** Creates a receiver. Every option is checked here: a configuration mistake throws a message that says what to change. */
export function createWebhooks<const Custom extends readonly AnyProvider[] = readonly []>(
  options: WebhooksOptions<Custom>,
): Webhooks<WithCustomProviders<Custom>> {
  return new Webhooks<WithCustomProviders<Custom>>(options, nodePlatform);
}
