import type { OAuthConfig } from '../../../src/config/config.namespaces';
import { DpopProofVerifier } from '../../../src/dpop/dpop-proof.verifier';
import type { DpopProofsRepository } from '../../../src/dpop/dpop-proofs.repository';
import { ProofKeyCache } from '../../../src/dpop/proof-key-cache';
import { dpopKey, dpopProof } from '../../factories/dpop';

/** The proof checks with the replay store in memory (the e2e tests run them against the database). */
class MemoryProofs {
  readonly seen = new Set<string>();
  remember(hash: string): Promise<boolean> {
    if (this.seen.has(hash)) return Promise.resolve(false);
    this.seen.add(hash);
    return Promise.resolve(true);
  }
}

const URL_ = 'https://as.example/oauth/token';

function verifier(): DpopProofVerifier {
  const config = { sessionSecret: Buffer.alloc(32, 1), dpopProofMaxAge: 60, dpopRequireNonce: false };
  return new DpopProofVerifier(new MemoryProofs() as unknown as DpopProofsRepository, config as OAuthConfig);
}
const verify = (v: DpopProofVerifier, proof: string) =>
  v.verify({ headers: [proof], method: 'POST', url: URL_ });
const reasonOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    return (err as { reason?: string }).reason;
  }
};

describe('DpopProofVerifier: proof keys imported once (ProofKeyCache)', () => {
  it('imports a key on its first verified proof and reuses it for the next ones, with the same thumbprint', async () => {
    const v = verifier();
    const key = await dpopKey();
    expect((await verify(v, await dpopProof(key, URL_))).jkt).toBe(key.jkt);
    expect(v.keys.size).toBe(1);
    expect((await verify(v, await dpopProof(key, URL_))).jkt).toBe(key.jkt);
    expect(v.keys.size).toBe(1);
    const other = await dpopKey('EdDSA');
    expect((await verify(v, await dpopProof(other, URL_))).jkt).toBe(other.jkt);
    expect(v.keys.size).toBe(2);
  });

  it('still checks every signature: a proof carrying a remembered key but signed by another is refused', async () => {
    const v = verifier();
    const key = await dpopKey();
    await verify(v, await dpopProof(key, URL_));
    const attacker = await dpopKey();
    const forged = await dpopProof(attacker, URL_, { jwk: key.jwk });
    expect(await reasonOf(verify(v, forged))).toBe('dpop_proof_bad_signature');
  });

  it('still checks every claim and the replay store with a remembered key', async () => {
    const v = verifier();
    const key = await dpopKey();
    const proof = await dpopProof(key, URL_);
    await verify(v, proof);
    expect(await reasonOf(verify(v, proof))).toBe('dpop_proof_replayed');
    expect(await reasonOf(verify(v, await dpopProof(key, URL_, { htm: 'GET' })))).toBe(
      'dpop_proof_htm_mismatch',
    );
    expect(await reasonOf(verify(v, await dpopProof(key, URL_, { iat: 1 })))).toBe('dpop_proof_iat');
  });

  it('remembers no key whose proof did not verify, and refuses the same jwk under an alg it does not fit', async () => {
    const v = verifier();
    const key = await dpopKey();
    const attacker = await dpopKey();
    expect(await reasonOf(verify(v, await dpopProof(attacker, URL_, { jwk: key.jwk })))).toBe(
      'dpop_proof_bad_signature',
    );
    expect(v.keys.size).toBe(0);
    await verify(v, await dpopProof(key, URL_));
    // the P-256 key, remembered for ES256, announced in a PS256 proof: a different entry, refused as before
    const rsa = await dpopKey('PS256');
    const mismatched = await dpopProof(rsa, URL_, { jwk: key.jwk });
    expect(await reasonOf(verify(v, mismatched))).toBe('dpop_proof_jwk');
    expect(v.keys.size).toBe(1);
  });
});

describe('ProofKeyCache', () => {
  const entry = (jkt: string) => ({ key: {} as never, jkt });

  it('keys by alg and the JWK as sent', () => {
    expect(ProofKeyCache.keyOf('ES256', { kty: 'EC', x: 'a' })).not.toBe(
      ProofKeyCache.keyOf('PS256', { kty: 'EC', x: 'a' }),
    );
  });

  it('evicts the least recently used entry when full', () => {
    const cache = new ProofKeyCache(2);
    cache.remember('a', entry('A'));
    cache.remember('b', entry('B'));
    expect(cache.get('a')?.jkt).toBe('A'); // a is now the most recent
    cache.remember('c', entry('C'));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.jkt).toBe('A');
    expect(cache.get('c')?.jkt).toBe('C');
  });

  it('keeps the first entry of a key', () => {
    const cache = new ProofKeyCache(2);
    cache.remember('a', entry('A'));
    cache.remember('a', entry('other'));
    expect(cache.get('a')?.jkt).toBe('A');
  });
});
