/** Headers as Node gives them (lower-case keys), as a plain record, or as a fetch `Headers`. */
export type HeadersInput =
  | Record<string, string | readonly string[] | undefined>
  | {
      /** Reads one header by name, as a fetch `Headers` does. */
      get(name: string): string | null;
    };

/** Query parameters as a string (`token=…`), a `URLSearchParams`, or a parsed record. */
export type QueryInput = string | URLSearchParams | Record<string, string | readonly string[] | undefined>;

function first(value: string | readonly string[] | undefined | null): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === "string" ? value : value[0];
}

/** Reads one header whatever the shape and the case of the keys. */
export function getHeader(headers: HeadersInput | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof headers.get === "function") return first((headers as { get(name: string): string | null }).get(name));
  const record = headers as Record<string, string | readonly string[] | undefined>;
  const direct = record[name];
  if (direct !== undefined) return first(direct);
  // Names are lower-case here, and most records already are (Node's are): only a key of the same
  // length can be the name in another case.
  for (const key of Object.keys(record)) {
    if (key.length === name.length && key.toLowerCase() === name) return first(record[key]);
  }
  return undefined;
}

/** Every value of one query parameter. */
export function getQueryValues(query: QueryInput | undefined, name: string): string[] {
  if (query === undefined || query === null) return [];
  if (typeof query === "string") return query === "" ? [] : new URLSearchParams(query).getAll(name);
  if (query instanceof URLSearchParams) return query.getAll(name);
  if (!Object.prototype.hasOwnProperty.call(query, name)) return [];
  const value = query[name];
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : value.filter((v): v is string => typeof v === "string");
}
