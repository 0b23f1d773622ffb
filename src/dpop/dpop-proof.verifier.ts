import { Inject, Injectable } from '@nestjs/common';
import {
  calculateJwkThumbprint,
  type CryptoKey,
  decodeProtectedHeader,
  EmbeddedJWK,
  errors as joseErrors,
  jwtVerify,
  type JWK,
} from 'jose';
import { sha256Base64url, sha256Hex } from '../common/crypto';
import { DpopProofError } from '../common/oauth-errors';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { DpopNonces } from './dpop-nonces';
import { DpopProofsRepository } from './dpop-proofs.repository';
import { ProofKeyCache } from './proof-key-cache';

/** RFC 9449 §5.1, docs/sender-constrained-tokens.md: the asymmetric algorithms a proof may use (metadata lists the same). */
export const DPOP_SIGNING_ALGS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;

/**
 * What a proof's `alg` may be: the list above, plus `Ed25519`, the fully-specified name of EdDSA with Ed25519
 * (RFC 9864) that current clients (oauth4webapi) put in their proofs for the same keys.
 */
const ACCEPTED_ALGS: readonly string[] = [...DPOP_SIGNING_ALGS, 'Ed25519'];

/** Clock skew tolerated on `iat` (RFC 9449 §11.1: "a few seconds"). */
export const DPOP_CLOCK_SKEW_SECONDS = 5;

/** A proof is a few hundred bytes (an RSA-4096 key ~1.5 KB); anything much longer is not one. */
const MAX_PROOF_LENGTH = 8192;

/** Proof keys remembered per instance (a few hundred bytes each): clients with a key in use, and then some. */
export const DPOP_KEY_CACHE_SIZE = 10_000;

/** JWK members that only private (or symmetric) keys have (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** What a request presents: the DPoP header values, and what the proof must be bound to. */
export interface DpopProofInput {
  /** every `DPoP` header line of the request (more than one is refused) */
  headers: string[];
  /** the request's method (`htm`) */
  method: string;
  /** the endpoint URL, issuer-based, without query and fragment (`htu`) */
  url: string;
  /** at a resource: the access token the proof must hash (`ath`) */
  accessToken?: string;
}

/** A valid proof: the RFC 7638 thumbprint of its key (what `cnf.jkt` and `dpop_jkt` carry). */
export interface VerifiedDpopProof {
  jkt: string;
}

/**
 * DPoP proof validation (RFC 9449 §4.3), shared by the token endpoint, PAR and the protected resources:
 * one DPoP header; a compact JWS with `typ: dpop+jwt`, an `alg` from DPOP_SIGNING_ALGS and a public `jwk` that
 * verifies it (jose); `htm` and `htu` equal to the request's; `iat` within DPOP_PROOF_MAX_AGE (plus a small skew);
 * `ath` when an access token is presented; the server nonce when DPOP_REQUIRE_NONCE is on; and the `jti` never
 * accepted before for that key on any instance (stored in the database). Every refusal is a DpopProofError
 * whose `reason` is the reason code (docs/audit.md); the caller audits it.
 */
@Injectable()
export class DpopProofVerifier {
  private readonly nonces: DpopNonces;
  /** imported keys of proofs that verified (ProofKeyCache) */
  readonly keys = new ProofKeyCache(DPOP_KEY_CACHE_SIZE);

  constructor(
    private readonly proofs: DpopProofsRepository,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {
    this.nonces = new DpopNonces(oauth.sessionSecret, Math.max(oauth.dpopProofMaxAge, 60));
  }

  get requireNonce(): boolean {
    return this.oauth.dpopRequireNonce;
  }

  /** A fresh server nonce (RFC 9449 §8), for a `DPoP-Nonce` response header. */
  nonce(): string {
    return this.nonces.current();
  }

  /** The DPoP header lines of a Node/Fastify request (Node joins repeated unknown headers; count them raw). */
  static headersOf(req: { headers: Record<string, unknown>; raw?: { rawHeaders?: string[] } }): string[] {
    const raw = req.raw?.rawHeaders;
    if (raw) {
      const values: string[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        if (raw[i].length === 4 && raw[i].toLowerCase() === 'dpop') values.push(raw[i + 1]);
      }
      return values;
    }
    const value = req.headers.dpop;
    if (value === undefined) return [];
    return Array.isArray(value) ? value.map(String) : [String(value)];
  }

  /** Verifies the proof of a request that carries one; undefined when it carries none. */
  async verifyIfPresent(input: DpopProofInput): Promise<VerifiedDpopProof | undefined> {
    if (input.headers.length === 0) return undefined;
    return this.verify(input);
  }

  async verify(input: DpopProofInput): Promise<VerifiedDpopProof> {
    if (input.headers.length !== 1) {
      throw invalid('exactly one DPoP header is allowed', 'dpop_proof_multiple');
    }
    const proof = input.headers[0].trim();
    if (proof.length === 0 || proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) {
      throw invalid('the DPoP proof is not a compact JWS', 'dpop_proof_malformed');
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw invalid('the DPoP proof header cannot be decoded', 'dpop_proof_malformed');
    }
    if (header.typ !== 'dpop+jwt') throw invalid('the DPoP proof must have typ dpop+jwt', 'dpop_proof_typ');
    if (typeof header.alg !== 'string' || !ACCEPTED_ALGS.includes(header.alg)) {
      throw invalid(`the DPoP proof alg must be one of ${DPOP_SIGNING_ALGS.join(', ')}`, 'dpop_proof_alg');
    }
    const jwk = header.jwk as Record<string, unknown> | undefined;
    if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk) || PRIVATE_MEMBERS.some((m) => m in jwk)) {
      throw invalid('the DPoP proof jwk must be a public key', 'dpop_proof_jwk');
    }

    // the key: imported once per (alg, jwk) as sent (ProofKeyCache), else as jose's EmbeddedJWK imports it
    const cacheKey = ProofKeyCache.keyOf(header.alg, jwk);
    const known = this.keys.get(cacheKey);
    let imported: CryptoKey | undefined;
    let payload: Record<string, unknown>;
    try {
      const options = { typ: 'dpop+jwt', algorithms: [...ACCEPTED_ALGS] };
      if (known) ({ payload } = await jwtVerify(proof, known.key, options));
      else ({ payload, key: imported } = await jwtVerify(proof, EmbeddedJWK, options));
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw invalid('the DPoP proof signature does not verify', 'dpop_proof_bad_signature');
      }
      if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JOSENotSupported) {
        throw invalid('the DPoP proof jwk is not a usable public key for its alg', 'dpop_proof_jwk');
      }
      throw invalid('the DPoP proof is malformed', 'dpop_proof_malformed');
    }

    let jkt = known?.jkt;
    if (!jkt) {
      // the signature verified: this key is worth remembering
      jkt = await calculateJwkThumbprint(jwk as JWK, 'sha256');
      if (imported) this.keys.remember(cacheKey, { key: imported, jkt });
    }

    if (payload.htm !== input.method) {
      throw invalid('the DPoP proof htm does not match the request method', 'dpop_proof_htm_mismatch');
    }
    if (typeof payload.htu !== 'string' || !sameResource(payload.htu, input.url)) {
      throw invalid('the DPoP proof htu does not match the request URL', 'dpop_proof_htu_mismatch');
    }
    const now = Math.floor(Date.now() / 1000);
    const iat = payload.iat;
    if (
      typeof iat !== 'number' ||
      !Number.isFinite(iat) ||
      iat < now - this.oauth.dpopProofMaxAge - DPOP_CLOCK_SKEW_SECONDS ||
      iat > now + DPOP_CLOCK_SKEW_SECONDS
    ) {
      throw invalid('the DPoP proof iat is missing, too old or in the future', 'dpop_proof_iat');
    }
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
      throw invalid('the DPoP proof needs a jti of 1 to 256 characters', 'dpop_proof_malformed');
    }
    if (input.accessToken !== undefined && payload.ath !== sha256Base64url(input.accessToken)) {
      throw invalid('the DPoP proof ath does not match the access token', 'dpop_proof_ath_mismatch');
    }
    if (this.oauth.dpopRequireNonce && !this.nonces.isValid(payload.nonce)) {
      throw new DpopProofError(
        'use_dpop_nonce',
        'a DPoP proof with the server nonce is required',
        payload.nonce === undefined ? 'dpop_nonce_missing' : 'dpop_nonce_invalid',
        false,
        this.nonces.current(),
      );
    }

    // RFC 9449 §11.1: a jti is accepted once per key while the proof could still be accepted
    const ttl = this.oauth.dpopProofMaxAge + 2 * DPOP_CLOCK_SKEW_SECONDS;
    if (!(await this.proofs.remember(sha256Hex(`${jkt}.${jti}`), ttl))) {
      throw invalid('the DPoP proof was used before (jti replayed)', 'dpop_proof_replayed');
    }
    return { jkt };
  }
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function invalid(description: string, reason: string): DpopProofError {
  return new DpopProofError('invalid_dpop_proof', description, reason);
}

/** RFC 9449 §4.3 step 9: `htu` without query and fragment, after syntax-based normalisation (RFC 3986 §6.2.2-3). */
function sameResource(htu: string, expected: string): boolean {
  let a: URL;
  let b: URL;
  try {
    a = new URL(htu);
    b = new URL(expected);
  } catch {
    return false;
  }
  return a.origin === b.origin && a.pathname === b.pathname;
}
