import { documentShell, escapeHtml, layout } from '../http/html';
import type { AuditEventsService } from '../audit/audit-events.service';

type AuditEventView = Awaited<ReturnType<AuditEventsService['page']>>['items'][number];

/** The console's navigation (report, events, who is signed in, sign out), on every console page. */
export function consoleNav(username: string): string {
  return `<nav class="console" aria-label="Audit console"><a href="/audit/console/report">Security report</a>
<a href="/audit/console/events">Events</a><span class="muted">Signed in as <strong>${escapeHtml(username)}</strong></span>
<form method="post" action="/audit/sign-out"><button type="submit">Sign out</button></form></nav>`;
}

export function forbiddenPage(username: string | undefined): string {
  return layout(
    'No access to the audit trail',
    `<h1>No access to the audit trail</h1>
<p role="alert">${username ? `<strong>${escapeHtml(username)}</strong> is` : 'You are'} signed in, but this account may not read the audit trail.</p>
<p class="muted">An operator grants it with <code>npm run cli -- user:permit --username NAME --permission audit:read</code>.</p>`,
  );
}

const STYLES = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b6470;--bg:#f6f7f9;--card:#fff;--accent:#2f5bd3;--border:#d6dae1;--danger:#b42318}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaee;--muted:#a2aab5;--bg:#14171c;--card:#1d2128;--accent:#7aa2ff;--border:#323843;--danger:#ff8a80}}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:90rem;margin:1.5rem auto;padding:0 1rem}h1{font-size:1.4rem;margin:.2rem 0 .8rem}
.brand{font-weight:700;letter-spacing:.02em;color:var(--muted);font-size:.85rem;text-transform:uppercase}img.logo{display:block;max-height:32px}
.muted{color:var(--muted)}a{color:var(--accent)}
nav.console{display:flex;gap:1rem;align-items:center;margin:.6rem 0 1rem}nav.console form{margin:0 0 0 auto}
nav.console button{font:inherit;background:none;border:0;color:var(--accent);cursor:pointer;padding:0}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;background:var(--card);border:1px solid var(--border);border-radius:10px;padding:.8rem;margin-bottom:1rem}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
form.filters input,form.filters select{font:inherit;padding:.35rem .45rem;border:1px solid var(--border);border-radius:6px;background:transparent;color:inherit}
form.filters button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--border)}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--border);vertical-align:top}
th{color:var(--muted);font-weight:600}td.failure{color:var(--danger);font-weight:600}
code{font-size:.85em;word-break:break-all}
`;

export interface EventsPageModel {
  username: string;
  items: AuditEventView[];
  nextHref: string | null;
  filters: Record<string, string>;
  types: readonly string[];
}

/** GET /audit/console/events: the events list as a filterable table, newest first, one page at a time. */
export function eventsPage(m: EventsPageModel): string {
  const input = (name: string, label: string, placeholder = '') =>
    `<label>${label}<input name="${name}" value="${escapeHtml(m.filters[name] ?? '')}" placeholder="${escapeHtml(placeholder)}"></label>`;
  const select = (name: string, label: string, values: readonly string[]) =>
    `<label>${label}<select name="${name}"><option value="">any</option>${values
      .map((v) => `<option${m.filters[name] === v ? ' selected' : ''}>${escapeHtml(v)}</option>`)
      .join('')}</select></label>`;
  const rows = m.items
    .map(
      (e) => `<tr><td>${escapeHtml(e.occurred_at)}</td><td><code>${escapeHtml(e.type)}</code></td>
<td class="${e.outcome === 'failure' ? 'failure' : ''}">${escapeHtml(e.outcome)}</td><td>${escapeHtml(e.error_code ?? '')}</td>
<td><code>${escapeHtml(e.client_id ?? '')}</code></td><td><code>${escapeHtml(e.subject ?? '')}</code></td><td>${escapeHtml(e.ip ?? '')}</td>
<td><code>${escapeHtml(e.details ? JSON.stringify(e.details) : '')}</code></td></tr>`,
    )
    .join('');
  return documentShell(
    'Audit events',
    `${consoleNav(m.username)}<h1>Audit events</h1>
<form class="filters" method="get" action="/audit/console/events">
${select('type', 'Type', m.types)}${select('outcome', 'Outcome', ['success', 'failure'])}
${input('client_id', 'Client id')}${input('ip', 'IP')}${input('from', 'From (RFC 3339)', '2026-12-01T00:00:00Z')}${input('to', 'To (exclusive)')}
<button type="submit">Filter</button></form>
<table><thead><tr><th>When (UTC)</th><th>Type</th><th>Outcome</th><th>Error</th><th>Client</th><th>Subject</th><th>IP</th><th>Details</th></tr></thead>
<tbody>${rows || '<tr><td colspan="8" class="muted">No events match.</td></tr>'}</tbody></table>
${m.nextHref ? `<p><a rel="next" href="${escapeHtml(m.nextHref)}">Older events →</a></p>` : ''}`,
    { styles: STYLES, mainClass: 'wide', head: '<meta name="robots" content="noindex">' },
  );
}
