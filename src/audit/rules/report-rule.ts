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

export interface RuleContext {
  window: ReportWindow;
  /** This rule's thresholds: its defaults overridden by REPORT_<RULE>_<NAME>. */
  thresholds: Record<string, number>;
  sql: Sql;
  /** Totals of any window (memoised: the report's own window is computed once). */
  totals(window: ReportWindow): Promise<WindowTotals>;
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

const GROUP_COLUMN: Record<Grouping['subject'], { key: string; label: string }> = {
  ip: { key: 'ip', label: 'host(ip)' },
  client_id: { key: 'client_id', label: 'client_id' },
  username: { key: 'subject', label: 'subject' },
};

/**
 * SQL for the common shape "events matching `predicate` in the window, grouped by one or more subjects,
 * each group with at least `min` events": one CTE over the window, one GROUP BY per subject.
 * Threshold parameters follow the window ($3, $4, …).
 */
export function groupedSql(
  predicate: string,
  groupings: Grouping[],
): { text: string; params: (window: ReportWindow) => unknown[] } {
  const selects = groupings.map((g, i) => {
    const col = GROUP_COLUMN[g.subject];
    return `SELECT '${g.subject}' AS subject_type, ${col.label} AS subject_value, count(*)::int AS count,
                   min(occurred_at) AS first_seen, max(occurred_at) AS last_seen, ${SAMPLE_IDS_SQL} AS sample_ids
              FROM e WHERE ${col.key} IS NOT NULL
             GROUP BY ${col.key} HAVING count(*) >= $${i + 3}`;
  });
  return {
    text: `WITH e AS (
             SELECT id, occurred_at, client_id, ip, subject FROM audit_events
              WHERE ${IN_WINDOW} AND (${predicate}))
           ${selects.join('\n UNION ALL \n')}
           ORDER BY count DESC, subject_value
           LIMIT ${MAX_FINDINGS_PER_RULE}`,
    params: (window) => [window.from, window.to, ...groupings.map((g) => Math.max(1, Math.ceil(g.min)))],
  };
}
