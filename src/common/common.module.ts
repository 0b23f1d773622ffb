import { Global, Module } from '@nestjs/common';
import { AuditEmitter } from './events';

/** Infrastructure every feature module uses (not a feature module): the audit event emitter. */
@Global()
@Module({ providers: [AuditEmitter], exports: [AuditEmitter] })
export class CommonModule {}
