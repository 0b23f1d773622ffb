import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { sha256Hex } from '../common/crypto';
import {
  AuthorizationRequestsRepository,
  NewPendingRequest,
  PendingAuthorizationRequest,
} from './authorization-requests.repository';

/** How long a validated request waits for the user to sign in and decide. */
export const PENDING_REQUEST_TTL_SECONDS = 600;

/**
 * The format of a pending request's reference as the login and consent pages carry it (base64url; a sealed
 * request is ~0.2–2 KB: `state` ≤ 1 KB, `nonce` ≤ 255, a registered redirect URI).
 */
export const REQUEST_ID = /^[A-Za-z0-9_-]{40,6000}$/;

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What is sealed: short keys keep the URL short. */
interface Sealed {
  c: string;
  r: string;
  s: string;
  st: string | null;
  cc: string;
  n: string | null;
  /** minAuthTime, ms since the epoch */
  m: number | null;
  f: boolean;
  j: string | null;
  /** expiry, ms since the epoch */
  e: number;
  /** a random id: its SHA-256 marks the request used (single use) */
  i: string;
}

/**
 * The authorization request survives the login and consent round trip without being stored: the pages carry
 * it sealed (AES-256-GCM under a key derived from SESSION_SECRET, with its expiry and a random id), so an
 * unauthenticated `GET /oauth/authorize` — the first step of every sign-in, and free for anyone to repeat —
 * costs the server no row (issue 20, finding 3: ~2 KB per request before). Sealed, not just signed: the
 * request's `state`, `nonce` and PKCE challenge do not appear in the login page's URL or in logs.
 *
 * What stays on the server is only the *use*: taking a request (a decision by a signed-in user) inserts the
 * SHA-256 of its random id until the request would have expired, so a request is used once whatever the
 * number of instances (they share SESSION_SECRET and the database). The return after login can still go
 * nowhere but back to the request that was validated: nothing in it can be changed without the key, and the
 * consent step checks it against the client's current registration (a redirect URI removed or a scope taken
 * away since then ends it).
 */
@Injectable()
export class PendingRequestsService {
  private readonly key: Buffer;

  constructor(
    private readonly requests: AuthorizationRequestsRepository,
    @Inject(oauthConfig.KEY) oauth: Pick<OAuthConfig, 'sessionSecret'>,
  ) {
    this.key = Buffer.from(
      hkdfSync('sha256', oauth.sessionSecret, Buffer.alloc(0), 'latchkey pending authorization request', 32),
    );
  }

  /** Seals a validated request; `ttlSeconds` is for tests (an already expired request). */
  create(request: NewPendingRequest, ttlSeconds = PENDING_REQUEST_TTL_SECONDS): Promise<string> {
    const now = Date.now();
    const sealed: Sealed = {
      c: request.clientId,
      r: request.redirectUri,
      s: request.scope,
      st: request.state,
      cc: request.codeChallenge,
      n: request.nonce,
      m: request.minAuthAgeSeconds === null ? null : now - request.minAuthAgeSeconds * 1000,
      f: request.forceConsent,
      j: request.dpopJkt ?? null,
      e: now + ttlSeconds * 1000,
      i: randomBytes(16).toString('base64url'),
    };
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.of(VERSION));
    const body = Buffer.concat([cipher.update(JSON.stringify(sealed), 'utf8'), cipher.final()]);
    return Promise.resolve(
      Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]).toString('base64url'),
    );
  }

  /** The request, if `id` is one this server sealed and it has not expired (not whether it was used). */
  find(id: unknown): Promise<PendingAuthorizationRequest | undefined> {
    const sealed = this.open(id);
    return Promise.resolve(sealed && toRequest(sealed));
  }

  /** Single use: of concurrent callers (a double-submitted form) exactly one gets the request. */
  async take(id: unknown): Promise<PendingAuthorizationRequest | undefined> {
    const sealed = this.open(id);
    if (!sealed) return undefined;
    const first = await this.requests.markUsed(sha256Hex(sealed.i), new Date(sealed.e));
    return first ? toRequest(sealed) : undefined;
  }

  private open(id: unknown): Sealed | undefined {
    if (typeof id !== 'string' || !REQUEST_ID.test(id)) return undefined;
    const raw = Buffer.from(id, 'base64url');
    if (raw.length < 1 + IV_BYTES + TAG_BYTES + 2 || raw[0] !== VERSION) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.of(VERSION));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]);
      const sealed = JSON.parse(plain.toString('utf8')) as Sealed;
      return sealed.e > Date.now() ? sealed : undefined;
    } catch {
      return undefined; // not sealed with this key, or altered
    }
  }
}

function toRequest(s: Sealed): PendingAuthorizationRequest {
  return {
    clientId: s.c,
    redirectUri: s.r,
    scope: s.s,
    state: s.st,
    codeChallenge: s.cc,
    nonce: s.n,
    minAuthTime: s.m === null ? null : new Date(s.m),
    forceConsent: s.f,
    dpopJkt: s.j,
  };
}
