import { ListenerTimeoutError } from "../errors/listener-timeout-error";

export { ListenerTimeoutError };
/** Returned by `settleWithin` when the time ran out first. */
export const TIMED_OUT = Symbol("timed out");
/** setTimeout fires at once past this; a longer timeout means no timeout. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What `running` came to (`failure` undefined: it fulfilled), or `TIMED_OUT` after `ms`. Never rejects. */
export function settleWithin(running: Promise<void>, ms: number): Promise<{ failure: unknown } | typeof TIMED_OUT> {
  const settled = running.then(
    () => ({ failure: undefined }),
    (failure: unknown) => ({ failure: failure ?? new Error("a listener rejected with no reason") }),
  );
  if (ms > MAX_TIMER_MS) return settled;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
    // A number in browsers, Deno and Workers, which have nothing to unref.
    (timer as { unref?: () => void }).unref?.();
  });
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}
