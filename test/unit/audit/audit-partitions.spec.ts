import {
  daysBetween,
  droppable,
  partitionDay,
  partitionName,
  utcDay,
} from '../../../src/audit/audit-partitions';

describe('audit partitions (naming and retention arithmetic)', () => {
  it('names a day audit_events_pYYYYMMDD in UTC', () => {
    expect(partitionName(new Date('2025-03-09T23:59:59.999Z'))).toBe('audit_events_p20250309');
    expect(partitionName(new Date('2025-03-10T00:00:00+02:00'))).toBe('audit_events_p20250309');
    expect(utcDay(new Date('2025-03-09T13:00:00Z')).toISOString()).toBe('2025-03-09T00:00:00.000Z');
  });

  it('reads the day back from a name, and nothing from other names', () => {
    expect(partitionDay('audit_events_p20250309')?.toISOString()).toBe('2025-03-09T00:00:00.000Z');
    expect(partitionDay('audit_events_p20250230')).toBeUndefined();
    expect(partitionDay('audit_events_default')).toBeUndefined();
    expect(partitionDay('audit_events_p2025030')).toBeUndefined();
  });

  it('lists every day of a range, inclusive', () => {
    expect(
      daysBetween(new Date('2025-02-27T10:00:00Z'), new Date('2025-03-02T01:00:00Z')).map((d) =>
        d.toISOString().slice(0, 10),
      ),
    ).toEqual(['2025-02-27', '2025-02-28', '2025-03-01', '2025-03-02']);
  });

  it('drops only partitions whose whole day is older than the cutoff', () => {
    const names = [
      'audit_events_p20250101',
      'audit_events_p20250102',
      'audit_events_p20250103',
      'audit_events_default',
    ];
    expect(droppable(names, new Date('2025-01-03T00:00:00Z'))).toEqual([
      'audit_events_p20250101',
      'audit_events_p20250102',
    ]);
    expect(droppable(names, new Date('2025-01-02T23:59:59Z'))).toEqual(['audit_events_p20250101']);
    expect(droppable(names, new Date('2024-12-31T00:00:00Z'))).toEqual([]);
  });
});
