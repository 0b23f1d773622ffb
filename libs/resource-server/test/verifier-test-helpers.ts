import { AccessTokenVerifier, TokenError } from '@latchkey/resource-server';

/** The resource server's audience and one of its URLs, in the verifier specs. */
export const AUD = 'https://api.example';
export const API = 'https://api.example/invoices';

/** A bearer request to API. */
export const bearer = (token: string, extra: Partial<Parameters<AccessTokenVerifier['verify']>[0]> = {}) => ({
  method: 'GET',
  url: API,
  authorization: `Bearer ${token}`,
  dpop: undefined,
  ...extra,
});

export async function refused(promise: Promise<unknown>): Promise<TokenError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof TokenError)) throw new Error(`expected a TokenError, got ${String(e)}`);
  return e;
}

export function encode(part: object): string {
  return Buffer.from(JSON.stringify(part)).toString('base64url');
}
