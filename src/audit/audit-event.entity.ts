import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * audit_events (initial migration): range-partitioned by day on occurred_at, hence the composite key.
 * Written and read with explicit SQL by AuditEventsRepository (multi-row group-commit inserts, keyset
 * pages, report aggregations); the entity documents the table for TypeORM.
 */
@Entity({ name: 'audit_events' })
export class AuditEventEntity {
  @PrimaryColumn({ type: 'bigint' })
  id: string;

  @PrimaryColumn({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ type: 'varchar', length: 64 })
  type: string;

  @Column({ type: 'varchar', length: 8 })
  outcome: 'success' | 'failure';

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  reason: string | null;

  @Column({ name: 'client_id', type: 'varchar', length: 128, nullable: true })
  clientId: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  subject: string | null;

  @Column({ type: 'inet', nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs: number | null;

  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true })
  requestId: string | null;

  @Column({ type: 'jsonb' })
  details: Record<string, unknown>;

  /** first event of its request (migration AuditReportIndexes) */
  @Column({ name: 'request_first', type: 'boolean', nullable: true })
  requestFirst: boolean | null;

  /** first failure event of its request */
  @Column({ name: 'request_first_failure', type: 'boolean', nullable: true })
  requestFirstFailure: boolean | null;
}
