import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createPrivateKey, createPublicKey, KeyObject, randomUUID, sign } from 'node:crypto';
import { exportJWK, generateKeyPair, JWK } from 'jose';
import { CliCommand } from '../operations/cli-command.decorator';
import { AuditEmitter } from '../events/events';
import { keysConfig, type KeysConfig } from '../config/config.namespaces';
import type { ReadinessCheck } from '../common/readiness';
import { decryptPrivateKey, encryptPrivateKey } from './key-encryption';
import { SigningKeyEntity } from './signing-key.entity';
import { SigningKeysRepository } from './signing-keys.repository';

interface LoadedKey {
  kid: string;
  activatesAt: Date;
  publicJwk: JWK;
  publicKey: KeyObject;
  privateKey: KeyObject | null; // null: stored under another KEY_ENCRYPTION_KEY, kept for verification only
}

/** How often every instance re-reads the key table (rotation on one instance reaches the others within this). */
export const KEY_REFRESH_INTERVAL_MS = 10_000;

/**
 * ES256 signing keys: generated with jose, private halves encrypted at rest (AES-256-GCM), cached in
 * memory. Signing uses node:crypto directly (≈4× faster than WebCrypto for one JWT at a time).
 */
@Injectable()
export class KeyStore implements OnModuleInit, OnApplicationShutdown, ReadinessCheck {
  readonly name = 'signing_key';
  private readonly logger = new Logger('KeyStore');
  private keys: LoadedKey[] = [];
  private timer?: NodeJS.Timeout;
  private lastReload = 0;

  constructor(
    private readonly repository: SigningKeysRepository,
    private readonly audit: AuditEmitter,
    @Inject(keysConfig.KEY) private readonly config: KeysConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    if (!this.currentKey()) {
      await this.repository.exclusively(async (manager) => {
        await this.reload();
        if (!this.currentKey()) await this.createKey(manager, new Date());
      });
      await this.reload();
    }
    this.timer = setInterval(() => this.reload().catch(() => undefined), KEY_REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  isReady(): boolean {
    return this.currentKey() !== undefined;
  }

  /** Adds a key that becomes current after KEY_PUBLISH_DELAY (so that JWKS caches see it first). */
  @CliCommand('keys:rotate')
  async rotate(): Promise<{ kid: string; activates_at: string }> {
    const activatesAt = new Date(Date.now() + this.config.publishDelay * 1000);
    const kid = await this.repository.exclusively((manager) => this.createKey(manager, activatesAt));
    await this.reload();
    await this.audit.record({ type: 'signing_key.rotated', outcome: 'success', details: { kid } });
    return { kid, activates_at: activatesAt.toISOString() };
  }

  /** The JWK Set: public members only. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** Signs a JWT (compact JWS, ES256) with the current key. */
  signJwt(payload: Record<string, unknown>, typ = 'at+jwt'): string {
    const key = this.currentKey();
    if (!key?.privateKey) throw new Error('no usable signing key');
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ, kid: key.kid })).toString('base64url');
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const input = `${header}.${body}`;
    const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  /** The public key for a kid; an unknown kid triggers one reload (a key rotated on another instance). */
  async publicKey(kid: string): Promise<KeyObject | undefined> {
    let key = this.keys.find((k) => k.kid === kid);
    if (!key && Date.now() - this.lastReload > 1000) {
      await this.reload();
      key = this.keys.find((k) => k.kid === kid);
    }
    return key?.publicKey;
  }

  private currentKey(): LoadedKey | undefined {
    const now = Date.now();
    return this.keys.find((k) => k.privateKey && k.activatesAt.getTime() <= now);
  }

  private async reload(): Promise<void> {
    this.lastReload = Date.now();
    const rows = await this.repository.findPublished();
    const loaded: LoadedKey[] = [];
    for (const row of rows) {
      const cached = this.keys.find((k) => k.kid === row.kid);
      if (cached) {
        loaded.push({ ...cached, activatesAt: row.activatesAt });
        continue;
      }
      loaded.push(this.load(row));
    }
    this.keys = loaded;
    if (rows.length && !loaded.some((k) => k.privateKey)) {
      this.logger.warn(
        'no stored signing key can be decrypted with KEY_ENCRYPTION_KEY; they stay in the JWKS for verification only',
      );
    }
  }

  private load(row: SigningKeyEntity): LoadedKey {
    const publicJwk = row.publicJwk as JWK;
    const publicKey = createPublicKey({ key: publicJwk as never, format: 'jwk' });
    let privateKey: KeyObject | null = null;
    try {
      const jwk = JSON.parse(
        decryptPrivateKey(this.config.keyEncryptionKey, row.kid, row.privateKeyEncrypted),
      );
      privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    } catch {
      this.logger.warn(
        `signing key ${row.kid} cannot be decrypted with KEY_ENCRYPTION_KEY: verification only`,
      );
    }
    return { kid: row.kid, activatesAt: row.activatesAt, publicJwk, publicKey, privateKey };
  }

  private async createKey(
    manager: Parameters<SigningKeysRepository['insertAndRetireOthers']>[0],
    activatesAt: Date,
  ) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    const privateJwk = await exportJWK(privateKey);
    const entity = Object.assign(new SigningKeyEntity(), {
      kid,
      alg: 'ES256',
      publicJwk,
      privateKeyEncrypted: encryptPrivateKey(this.config.keyEncryptionKey, kid, JSON.stringify(privateJwk)),
      createdAt: new Date(),
      activatesAt,
      retiredAt: null,
      expiresAt: null,
    });
    await this.repository.insertAndRetireOthers(manager, entity, this.config.maxTokenLifetime);
    this.logger.log(`signing key ${kid} created (current from ${activatesAt.toISOString()})`);
    return kid;
  }
}
