import { createServer, type Server } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

/**
 * A stand-in for Latchkey in the libraries' unit tests: serves RFC 8414 metadata and a JWKS over real HTTP on
 * 127.0.0.1 (the key set can be rotated), answers introspection from a set of revoked jtis, and mints RFC 9068
 * access tokens and DPoP proofs with keys the test controls.
 */
export class FakeIssuer {
  url = '';
  jwksFetches = 0;
  introspections = 0;
  readonly revoked = new Set<string>();
  private server?: Server;
  private keys: { kid: string; privateKey: CryptoKey; publicJwk: JWK }[] = [];

  static async start(): Promise<FakeIssuer> {
    const issuer = new FakeIssuer();
    await issuer.rotate();
    issuer.server = createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/.well-known/oauth-authorization-server') {
        return send(200, {
          issuer: issuer.url,
          jwks_uri: `${issuer.url}/oauth/jwks`,
          token_endpoint: `${issuer.url}/oauth/token`,
          introspection_endpoint: `${issuer.url}/oauth/introspect`,
        });
      }
      if (req.url === '/oauth/jwks') {
        issuer.jwksFetches++;
        return send(200, { keys: issuer.keys.map((k) => k.publicJwk) });
      }
      if (req.url === '/oauth/introspect' && req.method === 'POST') {
        let body = '';
        req.on('data', (d) => (body += String(d)));
        req.on('end', () => {
          issuer.introspections++;
          // RFC 6749 §2.3.1: id and secret are form-encoded inside Basic
          const basic = Buffer.from(
            (req.headers.authorization ?? '').replace(/^Basic /, ''),
            'base64',
          ).toString();
          if (basic.split(':').map(decodeURIComponent).join(':') !== 'rs:rs-secret') {
            return send(401, { error: 'invalid_client' });
          }
          const token = new URLSearchParams(body).get('token') ?? '';
          const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}');
          if (issuer.revoked.has(claims.jti)) return send(200, { active: false });
          return send(200, { active: true, ...claims });
        });
        return;
      }
      send(404, {});
    });
    await new Promise<void>((r) => issuer.server!.listen(0, '127.0.0.1', r));
    issuer.url = `http://127.0.0.1:${(issuer.server.address() as { port: number }).port}`;
    return issuer;
  }

  /** A new current signing key (published in the JWKS beside the old ones); returns its kid. */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const kid = randomUUID();
    this.keys.unshift({
      kid,
      privateKey,
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
    });
    return kid;
  }

  /** An access token as Latchkey mints it; `claims` override, `header` overrides the protected header. */
  async token(
    claims: JWTPayload = {},
    header: Record<string, unknown> = {},
    key = this.keys[0],
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: this.url,
      sub: '3f1e2a4c-9b7d-4e21-8c55-0a1b2c3d4e5f',
      aud: 'https://api.example',
      client_id: 'web-app',
      scope: 'api:read',
      iat: now,
      exp: now + 900,
      jti: randomUUID(),
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header } as never)
      .sign(key.privateKey);
  }

  async close(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

/** A DPoP key of a client, and proofs signed with it. */
export class DpopKey {
  private constructor(
    readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly jkt: string,
  ) {}

  static async generate(alg = 'ES256'): Promise<DpopKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    return new DpopKey(privateKey, jwk, await calculateJwkThumbprint(jwk, 'sha256'));
  }

  async proof(
    htm: string,
    htu: string,
    accessToken: string,
    claims: JWTPayload = {},
    header: Record<string, unknown> = {},
  ): Promise<string> {
    return new SignJWT({
      htm,
      htu,
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      ath: createHash('sha256').update(accessToken).digest('base64url'),
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: this.publicJwk, ...header } as never)
      .sign(this.privateKey);
  }
}
