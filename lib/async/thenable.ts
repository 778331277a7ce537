/** A promise, or anything else with a `then` method, which `await` would wait for. */
export function isThenable<T = unknown>(value: unknown): value is PromiseLike<T> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<T>).then === "function";
}
