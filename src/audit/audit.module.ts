import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiAuthModule } from '../api-auth/api-auth.module';
import { AuditEventEntity } from './audit-event.entity';
import { AuditEventsController } from './audit-events.controller';
import { AuditEventsRepository } from './audit-events.repository';
import { AuditEventsService } from './audit-events.service';
import { AuditListener } from './audit.listener';
import { AuditPartitionsRepository } from './audit-partitions.repository';
import { AuditQueryLimiter } from './audit-query-limiter';
import { AuditRetentionService } from './audit-retention.service';
import { AuditRollupsRepository } from './audit-rollups.repository';
import { AuditWriter } from './audit-writer';
import { SecurityReportController } from './security-report.controller';
import { SecurityReportRepository } from './security-report.repository';
import { SecurityReportService } from './security-report.service';

/**
 * The audit trail: persists every AUDIT_EVENT (group commit, or in the emitter's transaction),
 * daily partitions and retention (`audit:purge`), the auditor API and the security report.
 * Other modules only emit through AuditEmitter (EventsModule); nothing here is imported by them.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity]), ApiAuthModule],
  controllers: [AuditEventsController, SecurityReportController],
  providers: [
    AuditEventsRepository,
    AuditPartitionsRepository,
    AuditRollupsRepository,
    SecurityReportRepository,
    AuditWriter,
    AuditListener,
    AuditRetentionService,
    AuditEventsService,
    SecurityReportService,
    AuditQueryLimiter,
  ],
  exports: [AuditEventsService, SecurityReportService, AuditRetentionService],
})
export class AuditModule {}
