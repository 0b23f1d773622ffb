import { branding, DEFAULT_BRANDING } from './branding';

/** Minimal HTML helpers shared by server-rendered pages (no front-end build, work without JavaScript). */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const BASE_STYLES = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b6470;--bg:#f6f7f9;--card:#fff;--accent:#2f5bd3;--danger:#b42318;--border:#d6dae1}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaee;--muted:#a2aab5;--bg:#14171c;--card:#1d2128;--accent:#7aa2ff;--danger:#ff8a80;--border:#323843}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:26rem;margin:8vh auto;padding:2rem;background:var(--card);border:1px solid var(--border);border-radius:12px}
h1{font-size:1.35rem;margin:0 0 1rem}p.muted{color:var(--muted)}label{display:block;font-weight:600;margin:.9rem 0 .3rem}
input[type=text],input[type=password]{width:100%;padding:.6rem .7rem;border:1px solid var(--border);border-radius:8px;font:inherit;background:transparent;color:inherit}
input:focus,button:focus{outline:3px solid var(--accent);outline-offset:2px}
button{font:inherit;padding:.6rem 1.1rem;border-radius:8px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;margin-top:1.2rem}
button.secondary{background:transparent;color:var(--accent)}
.error{color:var(--danger);border:1px solid var(--danger);border-radius:8px;padding:.6rem .8rem;margin:.8rem 0}
.brand{font-weight:700;letter-spacing:.02em;color:var(--muted);font-size:.85rem;text-transform:uppercase;margin-bottom:.5rem}
code{font-size:.9em}a{color:var(--accent)}p.small{font-size:.9rem}img.logo{display:block;max-height:32px;max-width:100%}ul.links{padding-left:1.1rem}ul.links li{margin:.35rem 0}span.small{font-size:.9rem}
button.wide{width:100%}.actions{display:flex;gap:.8rem}.actions button{flex:1}
ul.scopes{list-style:none;padding:0;margin:.8rem 0 1rem;border:1px solid var(--border);border-radius:8px}
ul.scopes li{padding:.7rem .9rem;border-top:1px solid var(--border)}ul.scopes li:first-child{border-top:0}
code.scope{display:inline-block;font-weight:600;background:var(--bg);border:1px solid var(--border);border-radius:5px;padding:.05rem .4rem}
.scope-description{display:block;color:var(--muted);font-size:.95rem;margin-top:.25rem}
.detail{background:var(--bg);border:1px solid var(--border);border-radius:8px;padding:.6rem .8rem;font-size:.9rem;overflow-wrap:anywhere}
`;

/** The configured primary colour replaces the accent in both colour schemes; the default keeps today's pair. */
export function brandStyles(): string {
  const { primaryColor } = branding();
  return primaryColor === DEFAULT_BRANDING.primaryColor ? '' : `:root{--accent:${primaryColor}}`;
}

/** The brand mark at the top of every page: the logo (with the name as its alt text) or the name. */
export function brandMark(): string {
  const { name, logoUrl } = branding();
  return `<div class="brand">${
    logoUrl
      ? `<img class="logo" src="${escapeHtml(logoUrl)}" alt="${escapeHtml(name)}" height="32">`
      : escapeHtml(name)
  }</div>`;
}

/**
 * The document every page shares (login, consent, errors, logout, the home page, the audit console): the
 * deployment's name in the title, its brand mark and colour. `wide` for tables (reports), narrow for forms.
 */
export function documentShell(
  title: string,
  body: string,
  options: { styles?: string; mainClass?: string; head?: string } = {},
): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${options.head ?? ''}<title>${escapeHtml(title)} · ${escapeHtml(branding().name)}</title><style>${options.styles ?? BASE_STYLES}${brandStyles()}</style></head>
<body><main${options.mainClass ? ` class="${options.mainClass}"` : ''}>${brandMark()}${body}</main></body></html>`;
}

export function layout(title: string, body: string): string {
  return documentShell(title, body);
}

export function errorPage(title: string, message: string, requestId?: string | null): string {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1><p role="alert">${escapeHtml(message)}</p>` +
      (requestId ? `<p class="muted">Request id: <code>${escapeHtml(requestId)}</code></p>` : ''),
  );
}
