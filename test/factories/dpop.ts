import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A DPoP key pair as a client holds it: the private key, the public JWK and its RFC 7638 thumbprint. */
export interface DpopKey {
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
}

export async function dpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

/** The `ath` of an access token (RFC 9449 §4.2). */
export function athOf(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

export interface ProofOptions {
  htm?: string;
  /** full URL; default: the app URL + `path` */
  htu?: string;
  iat?: number;
  jti?: string;
  ath?: string;
  nonce?: string;
  typ?: string;
  /** the JWK put in the header (default: the key's public JWK) */
  jwk?: JWK;
  /** omit these claims */
  without?: string[];
}

/** A DPoP proof built by hand (jose), for `POST <url>` unless told otherwise. */
export async function dpopProof(key: DpopKey, url: string, o: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    htm: o.htm ?? 'POST',
    htu: o.htu ?? url,
    jti: o.jti ?? randomUUID(),
    ...(o.ath !== undefined ? { ath: o.ath } : {}),
    ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
  };
  for (const name of o.without ?? []) delete claims[name];
  const jwt = new SignJWT(claims).setProtectedHeader({
    alg: key.alg,
    typ: o.typ ?? 'dpop+jwt',
    jwk: o.jwk ?? key.jwk,
  });
  if (!(o.without ?? []).includes('iat')) jwt.setIssuedAt(o.iat ?? Math.floor(Date.now() / 1000));
  return jwt.sign(key.privateKey);
}

/** A compact JWS with any header and an arbitrary signature (alg none, HS256…): never a valid proof. */
export function forgedProof(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signature = 'AAAA',
) {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part(header)}.${part(claims)}.${signature}`;
}
