import { randomUUID } from 'node:crypto';
import { AuditWriter } from '../../src/audit/audit-writer';
import type { AuditRow } from '../../src/audit/audit-row';
import { AuditEmitter, type AuditEventInput } from '../../src/events/events';
import { runWithRequestContext, type RequestContext } from '../../src/http/request-context';
import { KeyStore } from '../../src/keys/key-store.service';
import type { TestApp } from '../helpers/test-app';
import { createClient } from './clients';

export interface ApiToken {
  token: string;
  clientId: string;
  grantId: string;
}

/**
 * A client_credentials access token for the audit API, minted without the token endpoint: a confidential
 * client row (createClient) and a grant row inserted with SQL, then a JWT signed by the server's KeyStore — exactly the
 * claims the token endpoint issues (iss, sub = client_id, aud, client_id, scope, iat, exp, jti, gid).
 */
export async function apiToken(
  t: TestApp,
  options: { scope?: string; clientId?: string; ttlSeconds?: number } = {},
): Promise<ApiToken> {
  const scope = options.scope ?? 'audit:read';
  const clientId = options.clientId ?? `auditor-${randomUUID().slice(0, 8)}`;
  const ttl = options.ttlSeconds ?? 900;
  await createClient(t, {
    clientId,
    clientName: `Auditor ${clientId}`,
    grantTypes: ['client_credentials'],
    scope,
    redirectUris: [],
    secret: null,
    ifAbsent: true,
  });
  const [grant]: Array<{ id: string }> = await t.dataSource.query(
    `INSERT INTO grants (client_id, grant_type, scope, expires_at)
     VALUES ($1, 'client_credentials', $2, now() + make_interval(secs => $3)) RETURNING id`,
    [clientId, scope, ttl],
  );
  const iat = Math.floor(Date.now() / 1000);
  const token = t.get(KeyStore).signJwt({
    iss: t.url,
    sub: clientId,
    aud: t.url,
    client_id: clientId,
    scope,
    iat,
    exp: iat + ttl,
    jti: randomUUID(),
    gid: grant.id,
  });
  return { token, clientId, grantId: grant.id };
}

/** An `audit:read` token (the auditor). */
export const auditorToken = (t: TestApp, clientId?: string) => apiToken(t, { scope: 'audit:read', clientId });

export interface RequestFacts {
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string;
}

/**
 * Emits an event through AuditEmitter as if during an HTTP request from `facts.ip` (the request
 * context is what the middleware would set). Resolves once the event is stored.
 */
export function recordAs(t: TestApp, facts: RequestFacts, event: AuditEventInput): Promise<void> {
  const requestId = facts.requestId ?? randomUUID();
  let ctx = contexts.get(requestId);
  if (!ctx) {
    ctx = {
      requestId,
      ip: facts.ip ?? null,
      userAgent: facts.userAgent ?? 'audit-tests',
      startedAt: process.hrtime.bigint(),
      path: '/test',
    };
    contexts.set(requestId, ctx);
  }
  return runWithRequestContext(ctx, () => t.get(AuditEmitter).record(event));
}

/** Events recorded with the same requestId belong to one request (one context, as in the app). */
const contexts = new Map<string, RequestContext>();

/**
 * Writes rows with chosen timestamps through the group-commit writer (backdated events for reports).
 * Each row is its own request unless rows share a requestId; the request flags are set as the listener
 * would (the first row of a request, the first failure of a request).
 */
export async function writeRows(t: TestApp, rows: Array<Partial<AuditRow> & Pick<AuditRow, 'type'>>) {
  const writer = t.get(AuditWriter);
  const seen = new Map<string, { failed: boolean }>();
  const flags = (requestId: string | null | undefined, failure: boolean) => {
    if (!requestId) return { requestFirst: false, requestFirstFailure: false };
    const state = seen.get(requestId);
    if (!state) {
      seen.set(requestId, { failed: failure });
      return { requestFirst: true, requestFirstFailure: failure };
    }
    const first = failure && !state.failed;
    if (failure) state.failed = true;
    return { requestFirst: false, requestFirstFailure: first };
  };
  await Promise.all(
    rows
      .map((r) => ({ ...r, requestId: r.requestId === undefined ? randomUUID() : r.requestId }))
      .map((r) =>
        writer.write({
          occurredAt: new Date(),
          outcome: 'success',
          errorCode: null,
          reason: null,
          clientId: null,
          subject: null,
          ip: null,
          userAgent: null,
          durationMs: 1,
          ...flags(r.requestId, r.outcome === 'failure'),
          ...r,
          details: { ...(r.reason ? { reason: r.reason } : {}), ...(r.details ?? {}) },
        }),
      ),
  );
}

/** Every stored audit row, every column, as text (for "no secret is ever stored" checks). */
export async function auditRowsAsText(t: TestApp): Promise<string[]> {
  const rows: Array<{ row: string }> = await t.dataSource.query(`SELECT a::text AS row FROM audit_events a`);
  return rows.map((r) => r.row);
}

/** Finds the stored rows containing any of `secrets` (expect an empty list). */
export async function rowsLeaking(
  t: TestApp,
  secrets: string[],
): Promise<Array<{ secret: string; row: string }>> {
  const rows = await auditRowsAsText(t);
  const leaks: Array<{ secret: string; row: string }> = [];
  for (const secret of secrets.filter((s) => s && s.length >= 6))
    for (const row of rows) if (row.includes(secret)) leaks.push({ secret, row });
  return leaks;
}
