import type { Coverage } from '../audit-rollup-coverage';

/**
 * The security report's rules: one file per rule, each a small object implementing ReportRule.
 * A rule aggregates in SQL over the window (never loading events), then turns each result row into a
 * finding with pure functions (unit-tested): thresholds from configuration, severity, description.
 */
export type Severity = 'low' | 'medium' | 'high' | 'critical';

export const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** [from, to): `to` exclusive. */
export interface ReportWindow {
  from: Date;
  to: Date;
}

/** Who the finding is about. `window` is used by failure_rate_spike, which is about all traffic. */
export interface FindingSubject {
  type: 'ip' | 'client_id' | 'username' | 'window';
  value: string;
}

export interface Finding {
  rule: string;
  severity: Severity;
  subject: FindingSubject;
  count: number;
  first_seen: string;
  last_seen: string;
  description: string;
  sample_event_ids: string[];
}

/** Requests and failures of a window (distinct request_id), as in the report's summary. */
export interface WindowTotals {
  requests: number;
  failures: number;
  failureEvents: number;
  firstFailure: Date | null;
  lastFailure: Date | null;
}

export type Sql = <T = Record<string, unknown>>(text: string, params: unknown[]) => Promise<T[]>;

export type { Coverage };

export interface RuleContext {
  window: ReportWindow;
  /** This rule's thresholds: its defaults overridden by REPORT_<RULE>_<NAME>. */
  thresholds: Record<string, number>;
  sql: Sql;
  /** Totals of any window (memoised: the report's own window is computed once). */
  totals(window: ReportWindow): Promise<WindowTotals>;
  /**
   * Runs `fn` in one snapshot, with the window's coverage by valid rollups (AuditRollupsRepository): what a
   * rule reads from audit_rollup_hours for `rolledUp` and from audit_events for `raw` is then exactly what
   * it would read from audit_events for the whole window.
   */
  withRollups<T>(fn: (sql: Sql, coverage: Coverage) => Promise<T>): Promise<T>;
}

export interface ReportRule {
  name: string;
  severity: Severity;
  /** Threshold names (lower case) and their defaults; configured as REPORT_<RULE>_<NAME>. */
  defaults: Record<string, number>;
  /** One line for the README and the HTML page. */
  summary: string;
  query(ctx: RuleContext): Promise<Finding[]>;
}

/** At most this many findings per rule (the worst first). */
export const MAX_FINDINGS_PER_RULE = 100;
/** Sample event ids per finding. */
export const SAMPLE_IDS = 5;

/** A rule's thresholds: defaults overridden by configured `<rule>_<name>` values. */
export function resolveThresholds(
  rule: Pick<ReportRule, 'name' | 'defaults'>,
  configured: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, fallback] of Object.entries(rule.defaults)) {
    const value = configured[`${rule.name}_${key}`];
    out[key] = typeof value === 'number' && Number.isFinite(value) ? value : fallback;
  }
  return out;
}

/** Configured REPORT_* names that no rule knows (likely typos), as environment variable names. */
export function unknownThresholds(
  rules: ReadonlyArray<Pick<ReportRule, 'name' | 'defaults'>>,
  configured: Record<string, number>,
): string[] {
  const known = new Set(rules.flatMap((r) => Object.keys(r.defaults).map((k) => `${r.name}_${k}`)));
  return Object.keys(configured)
    .filter((k) => !known.has(k))
    .map((k) => `REPORT_${k.toUpperCase()}`);
}

/** The row shape every grouped rule query returns. */
export interface GroupRow {
  subject_type: FindingSubject['type'];
  subject_value: string;
  count: number | string;
  first_seen: Date | string;
  last_seen: Date | string;
  sample_ids: string[] | null;
  [extra: string]: unknown;
}

export function iso(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** Builds a finding from a grouped row; `describe` words it. */
export function toFinding(
  rule: Pick<ReportRule, 'name' | 'severity'>,
  row: GroupRow,
  describe: (row: GroupRow) => string,
  severity: Severity = rule.severity,
): Finding {
  return {
    rule: rule.name,
    severity,
    subject: { type: row.subject_type, value: String(row.subject_value) },
    count: Number(row.count),
    first_seen: iso(row.first_seen),
    last_seen: iso(row.last_seen),
    description: describe(row),
    sample_event_ids: (row.sample_ids ?? []).slice(0, SAMPLE_IDS).map(String),
  };
}

/** "client_id \"app\"" / "IP 203.0.113.7" / "username (subject) …" — how descriptions name a subject. */
export function subjectLabel(type: FindingSubject['type'], value: string): string {
  switch (type) {
    case 'ip':
      return `IP ${value}`;
    case 'client_id':
      return `client_id ${JSON.stringify(value)}`;
    case 'username':
      return `login subject ${JSON.stringify(value)}`;
    case 'window':
      return 'all traffic';
  }
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** SQL fragments shared by the rules. `$1`/`$2` are always the window. */
export const IN_WINDOW = 'occurred_at >= $1 AND occurred_at < $2';
export const SAMPLE_IDS_SQL = `(array_agg(id::text ORDER BY occurred_at DESC, id DESC))[1:${SAMPLE_IDS}]`;

export interface Grouping {
  /** subject type of the findings of this grouping */
  subject: 'ip' | 'client_id' | 'username';
  /** threshold on count(*) of the group */
  min: number;
}

/** One GROUP BY of a rule over its events `e` (see groupedFindingsSql). */
export interface GroupSpec {
  subject: FindingSubject['type'];
  /** a column of `e` to group by */
  key: string;
  /** the subject's value: an expression of the group key `g.k` or an aggregate over `e` (default g.k::text) */
  label?: string;
  /** count distinct values of this column of `e` instead of events (the measure compared with `min`) */
  distinct?: string;
  /** further aggregates over `e` (alias e) for the findings' descriptions, named: `count(*)::int AS attempts` */
  extra?: string;
  min: number;
}

/**
 * SQL turning a rule's events into grouped findings. `source` selects the events `e` (at least id and
 * occurred_at; `$1`/`$2` are the window). For each spec, a first hash aggregate keeps the groups whose
 * measure reaches the threshold (`$3`, `$4`, … in spec order); only those groups are then joined back to
 * their events for first/last seen, sample ids and extras — an ordered array_agg or a count(DISTINCT)
 * over every group would sort them all.
 */
export function groupedFindingsSql(source: string, specs: GroupSpec[], extraColumns: string[] = []): string {
  const ctes: string[] = [`e AS MATERIALIZED (${source})`];
  const selects: string[] = [];
  specs.forEach((s, i) => {
    const param = `$${i + 3}`;
    const counted = s.distinct
      ? `(SELECT DISTINCT ${s.key}, ${s.distinct} FROM e WHERE ${s.key} IS NOT NULL AND ${s.distinct} IS NOT NULL) d`
      : `e`;
    ctes.push(
      `g${i} AS (SELECT ${s.key} AS k, count(*)::int AS count FROM ${counted}
                  ${s.distinct ? '' : `WHERE ${s.key} IS NOT NULL`}
                  GROUP BY ${s.key} HAVING count(*) >= ${param}
                  ORDER BY count DESC LIMIT ${MAX_FINDINGS_PER_RULE})`,
      `s${i} AS (SELECT ${s.label ?? 'g.k::text'} AS subject_value, g.count,
                        min(e.occurred_at) AS first_seen, max(e.occurred_at) AS last_seen,
                        (array_agg(e.id::text ORDER BY e.occurred_at DESC, e.id DESC))[1:${SAMPLE_IDS}] AS sample_ids
                        ${s.extra ? `, ${s.extra}` : ''}
                   FROM e JOIN g${i} g ON e.${s.key} = g.k GROUP BY g.k, g.count)`,
    );
    selects.push(
      `SELECT '${s.subject}' AS subject_type, subject_value, count, first_seen, last_seen, sample_ids` +
        extraColumns.map((c) => `, ${c}`).join('') +
        ` FROM s${i}`,
    );
  });
  return `WITH ${ctes.join(',\n')}
          ${selects.join('\n UNION ALL \n')}
          ORDER BY count DESC, subject_value
          LIMIT ${MAX_FINDINGS_PER_RULE}`;
}

/** The events of the window matching `predicate`, as `e` for groupedFindingsSql. */
export function eventsWhere(predicate: string, columns = 'id, occurred_at, client_id, ip, subject'): string {
  return `SELECT ${columns} FROM audit_events WHERE ${IN_WINDOW} AND (${predicate})`;
}

const GROUP_KEY: Record<Grouping['subject'], Pick<GroupSpec, 'key' | 'label'>> = {
  ip: { key: 'ip', label: 'host(g.k)' },
  client_id: { key: 'client_id' },
  username: { key: 'subject' },
};

/**
 * SQL for the common shape "events matching `predicate` in the window, grouped by one or more subjects,
 * each group with at least `min` events". Threshold parameters follow the window ($3, $4, …).
 */
export function groupedSql(
  predicate: string,
  groupings: Grouping[],
): { text: string; params: (window: ReportWindow) => unknown[] } {
  return {
    text: groupedFindingsSql(
      eventsWhere(predicate),
      groupings.map((g) => ({ subject: g.subject, ...GROUP_KEY[g.subject], min: g.min })),
    ),
    params: (window) => [window.from, window.to, ...groupings.map((g) => threshold(g.min))],
  };
}

/** A count threshold as SQL wants it: a whole number ≥ 1. */
export function threshold(value: number, min = 1): number {
  return Math.max(min, Math.ceil(value));
}
