/** The authorization request's query parameters, every occurrence kept (repetition is itself an error). */
export type QueryParameters = ReadonlyMap<string, readonly string[]>;

/**
 * Parses a raw query string (`a=1&b=2&a=3`) with URLSearchParams semantics (`+` is a space, malformed
 * percent-escapes are kept literally), keeping repeated names. Never throws.
 */
export function parseQueryParameters(rawQuery: string): QueryParameters {
  const params = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    const values = params.get(name);
    if (values) values.push(value);
    else params.set(name, [value]);
  }
  return params;
}

/** The query string of a request URL (`/oauth/authorize?x=1` → `x=1`). */
export function rawQueryOf(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i + 1);
}

/** RFC 6749 §3.1: a parameter sent without a value is treated as omitted. */
export function single(params: QueryParameters, name: string): string | undefined {
  const v = params.get(name)?.[0];
  return v === '' ? undefined : v;
}
