import { Controller, Get, Header, Inject, Req, UseGuards } from '@nestjs/common';
import {
  LatchkeyClientService,
  LatchkeySession,
  readCookie,
  SignedInGuard,
  type LatchkeyRequestSession,
} from '@latchkey/pkce-client';
import { EXAMPLE_CONFIG } from './tokens';
import type { ExampleConfig } from './example.config';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The page (sign in / call the API / sign out) and the backend-for-frontend route the page's script calls. */
@Controller()
export class PageController {
  constructor(
    @Inject(LatchkeyClientService) private readonly latchkey: LatchkeyClientService,
    @Inject(EXAMPLE_CONFIG) private readonly config: ExampleConfig,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async home(@Req() req: { headers: Record<string, string | string[] | undefined>; url: string }) {
    const session = await this.latchkey.session(readCookie(req, 'latchkey_session'));
    const body = session
      ? `<p id="who">Signed in as <code>${escape(session.subject ?? '?')}</code> (scope <code>${escape(session.scope)}</code>)</p>
<button id="call" type="button">Call the API</button>
<pre id="result"></pre>
<form method="post" action="/auth/logout"><button id="signout" type="submit">Sign out</button></form>
<script>
document.getElementById('call').addEventListener('click', async () => {
  const res = await fetch('/bff/invoices');
  document.getElementById('result').textContent = res.status + ' ' + JSON.stringify(await res.json(), null, 2);
});
</script>`
      : `<p id="who">Not signed in.</p><p><a id="signin" href="/auth/login?returnTo=/">Sign in with Latchkey</a></p>`;
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Latchkey example</title></head>
<body><h1>Invoices (Latchkey example)</h1>${body}</body></html>`;
  }

  /**
   * The browser never holds a token: this route takes the session's access token (refreshed when needed) and
   * calls the protected API over HTTP, as a BFF calls a team's API.
   */
  @Get('bff/invoices')
  @UseGuards(SignedInGuard)
  async invoices(@LatchkeySession() session: LatchkeyRequestSession) {
    const res = await fetch(`${this.config.url}/api/invoices`, {
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    return { status: res.status, body: await res.json() };
  }
}
