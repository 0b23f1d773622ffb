import { createHash } from 'node:crypto';

/** SHA-256, base64url: how state and session ids are keyed in the store (never in clear). */
export function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * Only a local path: never another origin (no open redirect after sign-in). Browsers drop tabs and newlines
 * from URLs and read `\\` as `/`, so `/\t/evil.example` and `/\\evil.example` would be `//evil.example`.
 */
export function safeReturnTo(value: string | undefined): string {
  if (!value || value.length > 2048 || !value.startsWith('/')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value) || value.startsWith('//')) return '/';
  return value;
}

export function decodePayload(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
}

export function callbackProblem(e: unknown): string {
  const code = codeOf(e);
  const message = e instanceof Error ? e.message : String(e);
  if (/iss/i.test(message)) return `wrong or missing iss in the callback (RFC 9207): ${message}`;
  return `invalid callback (${code}): ${message}`;
}

export function codeOf(e: unknown): string {
  return (e as { code?: string })?.code ?? (e instanceof Error ? e.name : 'error');
}
