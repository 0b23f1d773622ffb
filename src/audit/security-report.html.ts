import { documentShell, escapeHtml } from '../http/html';
import type { ReportRule, Severity } from './rules/report-rule';
import type { TimelineBucket } from './security-report.repository';
import type { SecurityReport } from './security-report.service';

/**
 * The security report for people: summary numbers, failures over time as a server-rendered SVG bar
 * chart (no JavaScript, no front-end build), the findings table and the event counts by type.
 * Every value from the database is escaped: client ids, subjects and descriptions are attacker-supplied.
 */
const STYLES = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b6470;--bg:#f6f7f9;--card:#fff;--accent:#2f5bd3;--border:#d6dae1;
--critical:#8f1d1d;--high:#b42318;--medium:#b54708;--low:#475467;--bar:#d92d20;--grid:#e4e7ec}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaee;--muted:#a2aab5;--bg:#14171c;--card:#1d2128;--accent:#7aa2ff;--border:#323843;
--critical:#ff8a80;--high:#ff9c8f;--medium:#fdb022;--low:#a2aab5;--bar:#f97066;--grid:#323843}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:72rem;margin:2rem auto;padding:0 1rem}
section{background:var(--card);border:1px solid var(--border);border-radius:12px;padding:1.2rem 1.4rem;margin:0 0 1.2rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.1rem;margin:0 0 .8rem}
.brand{font-weight:700;letter-spacing:.02em;color:var(--muted);font-size:.85rem;text-transform:uppercase}
.muted{color:var(--muted)}img.logo{display:block;max-height:32px;max-width:100%}a{color:var(--accent)}
nav.console{display:flex;gap:1rem;align-items:center;margin:.6rem 0 1rem}nav.console form{margin:0 0 0 auto}
nav.console button{font:inherit;background:none;border:0;color:var(--accent);cursor:pointer;padding:0}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:1rem}
.stat{border:1px solid var(--border);border-radius:10px;padding:.7rem .9rem}
.stat b{display:block;font-size:1.6rem;font-variant-numeric:tabular-nums}
table{width:100%;border-collapse:collapse;font-size:.92rem}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid var(--border);vertical-align:top}
th{font-weight:600;color:var(--muted)}td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{font-weight:700;text-transform:uppercase;font-size:.78rem;letter-spacing:.03em}
.sev-critical{color:var(--critical)}.sev-high{color:var(--high)}.sev-medium{color:var(--medium)}.sev-low{color:var(--low)}
code{font-size:.88em;word-break:break-all}
svg{width:100%;height:auto;display:block}
svg .bar{fill:var(--bar)}svg .grid{stroke:var(--grid)}svg text{fill:var(--muted);font:11px system-ui,sans-serif}
`;

const utc = (iso: string) => iso.replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');

function bucketLabel(seconds: number): string {
  if (seconds % 86400 === 0) return seconds === 86400 ? 'day' : `${seconds / 86400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? 'hour' : `${seconds / 3600} hours`;
  return `${seconds / 60} minutes`;
}

/** Failures per bucket as an SVG bar chart (viewBox-scaled, so it fits any width). */
export function failuresChart(
  from: Date,
  to: Date,
  bucketSeconds: number,
  buckets: TimelineBucket[],
): string {
  const count = Math.max(1, Math.ceil((to.getTime() - from.getTime()) / (bucketSeconds * 1000)));
  const byIndex = new Map<number, TimelineBucket>();
  for (const b of buckets)
    byIndex.set(Math.floor((b.start.getTime() - from.getTime()) / (bucketSeconds * 1000)), b);
  const max = Math.max(1, ...buckets.map((b) => b.failures));
  const W = 960;
  const H = 240;
  const left = 48;
  const bottom = 28;
  const top = 12;
  const plotW = W - left - 8;
  const plotH = H - top - bottom;
  const slot = plotW / count;
  const bars: string[] = [];
  for (let i = 0; i < count; i++) {
    const b = byIndex.get(i);
    if (!b || b.failures === 0) continue;
    const h = Math.max(1, (b.failures / max) * plotH);
    const x = left + i * slot + slot * 0.1;
    bars.push(
      `<rect class="bar" x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${Math.max(1, slot * 0.8).toFixed(1)}" height="${h.toFixed(1)}">` +
        `<title>${escapeHtml(utc(b.start.toISOString()))}: ${b.failures} failure(s) of ${b.events} event(s)</title></rect>`,
    );
  }
  // a middle line only when it falls on a whole number of failures
  const grid = (max % 2 === 0 ? [0, 0.5, 1] : [0, 1])
    .map((f) => {
      const y = top + plotH - f * plotH;
      return (
        `<line class="grid" x1="${left}" x2="${W - 8}" y1="${y}" y2="${y}"/>` +
        `<text x="${left - 6}" y="${y + 4}" text-anchor="end">${Math.round(f * max)}</text>`
      );
    })
    .join('');
  const ticks = [0, Math.floor(count / 2), count]
    .map((i, k) => {
      const at = new Date(from.getTime() + i * bucketSeconds * 1000);
      const x = left + i * slot;
      const anchor = k === 0 ? 'start' : k === 2 ? 'end' : 'middle';
      return `<text x="${x.toFixed(1)}" y="${H - 8}" text-anchor="${anchor}">${escapeHtml(utc(at.toISOString()).slice(0, 16))}</text>`;
    })
    .join('');
  const total = buckets.reduce((s, b) => s + b.failures, 0);
  return (
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Failures per ${bucketLabel(bucketSeconds)}: ${total} in total, at most ${buckets.length ? max : 0} in one ${bucketLabel(bucketSeconds)}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>Failures per ${bucketLabel(bucketSeconds)}</title>${grid}${bars.join('')}${ticks}</svg>`
  );
}

const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low'];

export function renderSecurityReport(
  report: SecurityReport,
  timeline: { bucketSeconds: number; buckets: TimelineBucket[] },
  rules: Array<{ rule: ReportRule; thresholds: Record<string, number> }>,
  /** the audit console's navigation, when the report is shown there */
  nav?: string,
): string {
  const from = new Date(report.window.from);
  const to = new Date(report.window.to);
  const bySeverity = SEVERITIES.map(
    (s) => `${report.findings.filter((f) => f.severity === s).length} ${s}`,
  ).join(' · ');
  const stat = (label: string, value: string) =>
    `<div class="stat"><span class="muted">${escapeHtml(label)}</span><b>${escapeHtml(value)}</b></div>`;

  const findings = report.findings.length
    ? `<table><thead><tr><th>Severity</th><th>Rule</th><th>Subject</th><th>Count</th><th>First seen</th><th>Last seen</th><th>Description</th><th>Sample events</th></tr></thead><tbody>` +
      report.findings
        .map(
          (f) =>
            `<tr><td class="sev sev-${escapeHtml(f.severity)}">${escapeHtml(f.severity)}</td>` +
            `<td><code>${escapeHtml(f.rule)}</code></td>` +
            `<td>${escapeHtml(f.subject.type)}<br><code>${escapeHtml(f.subject.value)}</code></td>` +
            `<td class="num">${escapeHtml(f.count)}</td>` +
            `<td>${escapeHtml(utc(f.first_seen))}</td><td>${escapeHtml(utc(f.last_seen))}</td>` +
            `<td>${escapeHtml(f.description)}</td>` +
            `<td><code>${f.sample_event_ids.map(escapeHtml).join(', ')}</code></td></tr>`,
        )
        .join('') +
      `</tbody></table>`
    : `<p>No suspicious pattern in this window.</p>`;

  const types = Object.entries(report.by_type);
  const byType = types.length
    ? `<table><thead><tr><th>Event type</th><th>Count</th></tr></thead><tbody>${types
        .map(
          ([t, n]) => `<tr><td><code>${escapeHtml(t)}</code></td><td class="num">${escapeHtml(n)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : `<p class="muted">No events in this window.</p>`;

  const ruleList = rules
    .map(
      ({ rule, thresholds }) =>
        `<tr><td><code>${escapeHtml(rule.name)}</code></td><td class="sev sev-${rule.severity}">${escapeHtml(rule.severity)}</td>` +
        `<td>${escapeHtml(rule.summary)}</td><td><code>${escapeHtml(
          Object.entries(thresholds)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        )}</code></td></tr>`,
    )
    .join('');

  const chartData = timeline.buckets
    .filter((b) => b.failures > 0)
    .map(
      (b) =>
        `<tr><td>${escapeHtml(utc(b.start.toISOString()))}</td><td class="num">${b.failures}</td><td class="num">${b.events}</td></tr>`,
    )
    .join('');

  return documentShell(
    'Security report',
    `${nav ?? ''}<header><h1>Security report</h1>
<p class="muted">${escapeHtml(utc(report.window.from))} — ${escapeHtml(utc(report.window.to))} (end exclusive)</p></header>
<section aria-labelledby="summary"><h2 id="summary">Summary</h2><div class="stats">
${stat('Requests', String(report.total_requests))}${stat('Failed requests', String(report.failures))}
${stat('Failure rate', `${(report.failure_rate * 100).toFixed(1)}%`)}${stat('Findings', String(report.findings.length))}
</div><p class="muted">Findings by severity: ${escapeHtml(bySeverity)}</p></section>
<section aria-labelledby="chart"><h2 id="chart">Failures per ${escapeHtml(bucketLabel(timeline.bucketSeconds))}</h2>
${failuresChart(from, to, timeline.bucketSeconds, timeline.buckets)}
<details><summary>Data</summary><table><thead><tr><th>From</th><th>Failures</th><th>Events</th></tr></thead><tbody>${chartData}</tbody></table></details></section>
<section aria-labelledby="findings"><h2 id="findings">Findings</h2>${findings}</section>
<section aria-labelledby="types"><h2 id="types">Events by type</h2>${byType}</section>
<section aria-labelledby="rules"><h2 id="rules">Rules</h2><table><thead><tr><th>Rule</th><th>Severity</th><th>Detects</th><th>Thresholds</th></tr></thead><tbody>${ruleList}</tbody></table></section>`,
    { styles: STYLES, head: '<meta name="robots" content="noindex">' },
  );
}
