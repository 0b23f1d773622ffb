import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { auditRowColumns, toAuditRow } from '../audit/audit-row';
import type { ReportRule } from '../audit/rules/report-rule';
import { AUDIT_EVENT, type AuditEventPayload } from '../events/events';
import { UsersService } from '../users/users.service';
import {
  extensionKindOf,
  REGISTERED_CLAIMS,
  type AuditSink,
  type AuditSinkEvent,
  type TokenClaimsContext,
  type TokenClaimsInput,
  type TokenClaimsProvider,
  type TokenClaimsUser,
} from './extension-points';

const REGISTERED = new Set(REGISTERED_CLAIMS);

/**
 * The extensions registered in the running app (docs/extending.md): every provider marked with
 * @ReportRuleExtension, @TokenClaimsExtension or @AuditSinkExtension, in whichever module it is declared. Found
 * once, when first asked (every provider exists by then), and kept.
 */
@Injectable()
export class LatchkeyExtensions implements OnModuleInit {
  private readonly logger = new Logger('Extensions');
  private found?: { rules: ReportRule[]; claims: TokenClaimsProvider[]; sinks: AuditSink[] };

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly events: EventEmitter2,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const { rules, claims, sinks } = this.extensions();
    if (rules.length + claims.length + sinks.length)
      this.logger.log(
        `extensions: ${rules.length} report rule(s), ${claims.length} claims provider(s), ${sinks.length} audit sink(s)`,
      );
    // the audit sinks hear every audit event as the audit listener does (AUDIT_EVENT), only when there are some
    if (sinks.length)
      this.events.on(AUDIT_EVENT, (payload: AuditEventPayload) => this.deliver(sinks, payload));
  }

  /** Report rules of extensions (after the built-in ones in the report). */
  get reportRules(): readonly ReportRule[] {
    return this.extensions().rules;
  }

  get hasClaimsProviders(): boolean {
    return this.extensions().claims.length > 0;
  }

  /** The claims every provider adds for this token, registered claims removed; {} without providers. */
  async claims(input: TokenClaimsInput): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    let loading: Promise<TokenClaimsUser | null> | undefined;
    const context: TokenClaimsContext = {
      ...input,
      user: () => (loading ??= this.loadUser(input.userId)),
    };
    for (const provider of this.extensions().claims) {
      const claims = await provider.claims(context);
      for (const [name, value] of Object.entries(claims ?? {}))
        if (!REGISTERED.has(name) && value !== undefined) out[name] = value;
    }
    return out;
  }

  private async loadUser(id: string | null): Promise<TokenClaimsUser | null> {
    if (!id) return null;
    const users = this.moduleRef.get(UsersService, { strict: false });
    const row = await users?.findProfile(id);
    if (!row) return null;
    return {
      id: row.id,
      username: row.username,
      name: row.name,
      email: row.email,
      email_verified: row.email_verified,
    };
  }

  private deliver(sinks: AuditSink[], payload: AuditEventPayload): void {
    const event: AuditSinkEvent = { ...auditRowColumns(toAuditRow(payload)), type: payload.type };
    // off the request's path: the response never waits for a sink, and a sink's failure is only logged
    setImmediate(() => {
      for (const sink of sinks)
        void Promise.resolve()
          .then(() => sink.receive(event))
          .catch((err: unknown) =>
            this.logger.warn(`audit sink ${sink.constructor.name} failed: ${(err as Error)?.message ?? err}`),
          );
    });
  }

  private extensions() {
    if (this.found) return this.found;
    const seen = new Set<unknown>();
    const found = {
      rules: [] as ReportRule[],
      claims: [] as TokenClaimsProvider[],
      sinks: [] as AuditSink[],
    };
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || seen.has(instance)) continue;
      const kind = extensionKindOf(instance);
      if (!kind) continue;
      seen.add(instance);
      if (kind === 'report-rule') found.rules.push(instance as ReportRule);
      else if (kind === 'token-claims') found.claims.push(instance as TokenClaimsProvider);
      else found.sinks.push(instance as AuditSink);
    }
    this.found = found;
    return found;
  }
}
