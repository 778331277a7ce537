/**
 * A bad option, thrown at start-up: a `TypeError` whose message names where it was set, the
 * package (`createWebhooks`'s options) by default, or the function that took it (`"bullmqInbox"`);
 * `""` for a message a caller puts its own prefix before. `err instanceof ConfigError` tells a
 * configuration mistake from any other failure at start-up, e.g. to print it and exit.
 */
export class ConfigError extends TypeError {
  constructor(message: string, where = "imagegen-webhooks") {
    super(where === "" ? message : `${where}: ${message}`);
    this.name = "ConfigError";
  }
}
