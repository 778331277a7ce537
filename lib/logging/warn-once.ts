import { silentLogger, type Logger } from "./logger";

const said = new WeakMap<object, Set<string>>();

/**
 * Said once per receiver (`key`; else per logger): a misconfiguration repeats on every delivery,
 * and the log need not. With no logger set (silent by default), a process warning says it instead:
 * a setup mistake reaches the developer with no setup, since Node (and Bun and Deno) print warnings
 * on stderr; a runtime with no `process` gets the console's warning.
 */
export function warnOnce(logger: Logger, message: string, level: "warn" | "error" = "warn", key: object = logger): void {
  const messages = said.get(key) ?? new Set<string>();
  if (messages.has(message)) return;
  said.set(key, messages.add(message));
  if (logger !== silentLogger) return logger[level]({}, message);
  const runtime = (globalThis as { process?: { emitWarning?: (message: string, options: { type: string; code: string }) => void } })
    .process;
  if (typeof runtime?.emitWarning === "function") {
    runtime.emitWarning(message, { type: "ImagegenWebhooksWarning", code: "IMAGEGEN_WEBHOOKS_SETUP" });
  } else {
    console.warn(message);
  }
}
