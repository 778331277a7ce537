/**
 * A bad option, thrown at start-up: a `TypeError` whose message names where it was set, the
 * package (`createWebhooks`'s options) by default, or the function that took it (`"bullmqInbox"`);
 * `""` for a message a caller puts its own prefix before.
 */
export class ConfigError extends TypeError {
  constructor(message: string, where = "imagegen-webhooks") {
    super(where === "" ? message : `${where}: ${message}`);
    this.name = "ConfigError";
  }
}
