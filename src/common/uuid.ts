const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True for a UUID in its canonical text form (any version). Ids taken from requests or tokens are checked with
 * it before they reach a `uuid` column: a malformed one is "not found" (or inactive), never a failed statement.
 */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
