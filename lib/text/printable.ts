/**
 * Control characters (C0, DEL, C1: `\p{Cc}`), the Unicode line and paragraph separators, and the
 * bidirectional overrides: what lets a value start a line of its own in a log, or move, recolour
 * or retitle a terminal, or show its text in another order than it is.
 */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `text` with each unprintable character written as its `\u` escape: how a value from a request
 * (a provider's name from a URL, an event's name, an id) is put into a log message or printed by
 * the CLI, so that it reads as the one value it is.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Text of several lines (a JSON document, a receiver's answer), each made printable: its line feeds stay. */
export function printableLines(text: string): string {
  return text.split("\n").map(printable).join("\n");
}
