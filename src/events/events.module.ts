import { Global, Module } from '@nestjs/common';
import { AuditEmitter } from './events';
import { RefusalAuditor } from './refusal-auditor';

/** Infrastructure every feature module uses (not a feature module): the audit event emitter and the
 * once-per-window auditing of repeatable refusals. */
@Global()
@Module({ providers: [AuditEmitter, RefusalAuditor], exports: [AuditEmitter, RefusalAuditor] })
export class EventsModule {}
