import { CheckResult, fail, pass } from './rejection';

/** `http://127.0.0.1[:port]rest` or `http://[::1][:port]rest`, where rest is empty or starts with / ? or #. */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?((?:[/?#].*)?)$/s;

function loopbackParts(uri: string): { host: string; port: number | null; rest: string } | null {
  const m = LOOPBACK.exec(uri);
  if (!m) return null;
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && (port < 1 || port > 65535 || m[2].startsWith('0'))) return null;
  return { host: m[1], port, rest: m[3] };
}

/**
 * Exact string equality with a registered URI; for a registered loopback URI (`http://127.0.0.1:{port}/…`
 * or `http://[::1]:{port}/…`) only the port may differ (RFC 8252 §7.3: native apps listen on an ephemeral
 * port). Nothing is normalised: `HTTP://…`, a trailing slash, `localhost` or an added query all differ.
 */
export function redirectUriMatches(registered: readonly string[], sent: string): boolean {
  if (registered.includes(sent)) return true;
  const s = loopbackParts(sent);
  if (!s) return false;
  return registered.some((uri) => {
    const r = loopbackParts(uri);
    return r !== null && r.host === s.host && r.rest === s.rest;
  });
}

/** Rule 1: a redirect_uri that is not registered is a 400 page (an open redirector otherwise). */
export function checkRedirectUri(registered: readonly string[], sent: string): CheckResult<string> {
  if (redirectUriMatches(registered, sent)) return pass(sent);
  return fail(
    'invalid_request',
    'redirect_uri_mismatch',
    'the redirect_uri is not registered for this client',
  );
}
