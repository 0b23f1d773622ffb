import { iso, ReportRule, ReportWindow, SAMPLE_IDS, WindowTotals } from './report-rule';

export function precedingWindow(window: ReportWindow): ReportWindow {
  const length = window.to.getTime() - window.from.getTime();
  return { from: new Date(window.from.getTime() - length), to: window.from };
}

export function failureRate(totals: Pick<WindowTotals, 'requests' | 'failures'>): number {
  return totals.requests === 0 ? 0 : totals.failures / totals.requests;
}

/**
 * The decision, pure: the window has ≥ `min_failures` failed requests and a failure rate ≥ `ratio` ×
 * the preceding window's (a preceding window without traffic counts as rate 0).
 */
export function isFailureRateSpike(
  current: Pick<WindowTotals, 'requests' | 'failures'>,
  previous: Pick<WindowTotals, 'requests' | 'failures'>,
  t: Record<string, number>,
): boolean {
  if (current.failures < t.min_failures || current.failures === 0) return false;
  return failureRate(current) >= t.ratio * failureRate(previous);
}

const pct = (rate: number) => `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)}%`;

export function describeFailureRateSpike(
  current: Pick<WindowTotals, 'requests' | 'failures'>,
  previous: Pick<WindowTotals, 'requests' | 'failures'>,
  t: Record<string, number>,
): string {
  const before =
    previous.requests === 0
      ? 'no requests in the preceding window'
      : `${pct(failureRate(previous))} (${previous.failures}/${previous.requests}) in the preceding window`;
  return (
    `failure rate ${pct(failureRate(current))} (${current.failures}/${current.requests} requests) vs ${before} ` +
    `(threshold ×${t.ratio} with ≥ ${t.min_failures} failures)`
  );
}

/** All events: the window's failure rate ≥ `ratio` × the preceding window of equal length, with ≥ `min_failures`. */
export const failureRateSpikeRule: ReportRule = {
  name: 'failure_rate_spike',
  severity: 'medium',
  defaults: { ratio: 2, min_failures: 20 },
  summary: "the window's failure rate ≥ 2× the preceding window's, with ≥ 20 failures",
  async query({ window, thresholds: t, sql, totals }) {
    const [current, previous] = await Promise.all([totals(window), totals(precedingWindow(window))]);
    if (!isFailureRateSpike(current, previous, t)) return [];
    const samples = await sql<{ id: string }>(
      `SELECT id::text AS id FROM audit_events
        WHERE occurred_at >= $1 AND occurred_at < $2 AND outcome = 'failure'
        ORDER BY occurred_at DESC, id DESC LIMIT ${SAMPLE_IDS}`,
      [window.from, window.to],
    );
    return [
      {
        rule: this.name,
        severity: this.severity,
        subject: {
          type: 'window',
          value: `${window.from.toISOString()}/${window.to.toISOString()}`,
        },
        count: current.failures,
        first_seen: iso(current.firstFailure ?? window.from),
        last_seen: iso(current.lastFailure ?? window.to),
        description: describeFailureRateSpike(current, previous, t),
        sample_event_ids: samples.map((s) => String(s.id)),
      },
    ];
  },
};
