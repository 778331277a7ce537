import { printable } from "../text/printable";

/** A listener threw or rejected; the listeners after it were not called. */
export class ListenerFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly eventName: string,
  ) {
    super(`a listener of "${printable(eventName)}" failed`);
    this.name = "ListenerFailure";
  }
}
