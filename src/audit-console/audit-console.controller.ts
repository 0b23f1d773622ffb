import { Controller, Get, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AuditEventsService } from '../audit/audit-events.service';
import { AuditEventsQueryDto } from '../audit/dto/audit-events-query.dto';
import { SecurityReportQueryDto } from '../audit/dto/security-report-query.dto';
import { renderSecurityReport } from '../audit/security-report.html';
import { SecurityReportService } from '../audit/security-report.service';
import { AUDIT_EVENT_TYPES, AuditEmitter } from '../events/events';
import { errorPage } from '../http/html';
import type { HttpReply, HttpRequest } from '../http/http';
import { serverConfig, type ServerConfig } from '../config/config.namespaces';
import { AccessTokenVerifier } from '../keys/access-token.verifier';
import { CookieJar } from '../users/cookies';
import { consoleNav, eventsPage, forbiddenPage } from './audit-console.pages';
import {
  CONSOLE_CLIENT_ID,
  CONSOLE_FLOW_COOKIE,
  CONSOLE_SESSION_COOKIE,
  SignedValue,
} from './console-session';
import { UserPermissionsRepository } from './user-permissions.repository';

const DAY_MS = 86_400_000;
const FLOW_TTL = 600;
const PERMISSION = 'audit:read';

/** Where a sign-in may return to: the console's own pages (and /docs), never elsewhere. */
export function safeReturn(value: unknown): string {
  return typeof value === 'string' && /^\/(audit\/console(\/[a-z]+)?|docs\/?)(\?[^\s#]*)?$/.test(value)
    ? value
    : '/audit/console/report';
}

/**
 * The audit console (docs/audit-in-the-browser.md): the security report and the events list as pages. An auditor
 * signs in through Latchkey's own login as an OAuth client of this server (the built-in public client
 * `latchkey-audit-console`, authorization code + PKCE S256); the console then requires the user permission
 * `audit:read` (user_permissions) on every request. Its session is a signed cookie, no token is kept.
 */
@ApiExcludeController()
@Controller('audit')
export class AuditConsoleController {
  private readonly signer: SignedValue;
  private readonly cookies: CookieJar;

  constructor(
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
    private readonly adapter: HttpAdapterHost,
    private readonly verifier: AccessTokenVerifier,
    private readonly permissions: UserPermissionsRepository,
    private readonly reports: SecurityReportService,
    private readonly events: AuditEventsService,
    private readonly audit: AuditEmitter,
  ) {
    this.signer = new SignedValue(server.sessionSecret);
    this.cookies = new CookieJar(server.secureCookies);
  }

  private get callbackUri() {
    return `${this.server.issuer}/audit/callback`;
  }

  @Get()
  root(@Res() res: HttpReply) {
    void res.redirect('/audit/console/report', 302);
  }

  @Get('console')
  home(@Res() res: HttpReply) {
    void res.redirect('/audit/console/report', 302);
  }

  /** Starts the sign-in: state and PKCE verifier in a short-lived signed cookie, then /oauth/authorize. */
  @Get('console/sign-in')
  signIn(@Query('return') returnTo: unknown, @Res() res: HttpReply) {
    const state = randomBytes(16).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    this.cookies.set(
      res,
      CONSOLE_FLOW_COOKIE,
      this.signer.sign({ state, verifier, return: safeReturn(returnTo) }, FLOW_TTL),
      FLOW_TTL,
    );
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: CONSOLE_CLIENT_ID,
      redirect_uri: this.callbackUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
    });
    void res.header('Cache-Control', 'no-store').redirect(`/oauth/authorize?${q}`, 302);
  }

  /** The redirect back: check state and iss, exchange the code at this server's token endpoint, check the permission. */
  @Get('callback')
  async callback(@Req() req: HttpRequest, @Res() res: HttpReply) {
    const q = req.query as Record<string, unknown>;
    const flow = this.signer.verify<{ state: string; verifier: string; return: string }>(
      this.cookies.read(req, CONSOLE_FLOW_COOKIE),
    );
    this.cookies.clear(res, CONSOLE_FLOW_COOKIE);
    res.header('Cache-Control', 'no-store');
    if (!flow || q.state !== flow.state || q.iss !== this.server.issuer) {
      await this.deny('state_mismatch');
      return this.html(
        res,
        400,
        errorPage(
          'Sign-in failed',
          'This sign-in link is not valid any more. Start again from the audit console.',
        ),
      );
    }
    if (typeof q.error === 'string' || typeof q.code !== 'string') {
      await this.deny('authorization_failed');
      return this.html(res, 403, errorPage('Sign-in cancelled', 'You did not sign in to the audit console.'));
    }
    // RFC 6749 §4.1.3 at this server's own token endpoint, over loopback HTTP: the same guards, limits and
    // audit events as any client (Fastify's inject() would need light-my-request's ESM-only cookie package)
    const reply = await fetch(`${this.ownUrl()}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: q.code,
        redirect_uri: this.callbackUri,
        code_verifier: flow.verifier,
        client_id: CONSOLE_CLIENT_ID,
      }),
    }).catch(() => undefined);
    const token = reply?.ok ? ((await reply.json()) as { access_token?: string }).access_token : undefined;
    const claims = token ? await this.verifier.verify(token) : null;
    if (!claims || claims.client_id !== CONSOLE_CLIENT_ID) {
      await this.deny('code_exchange_failed');
      return this.html(
        res,
        400,
        errorPage('Sign-in failed', 'The sign-in could not be completed. Start again.'),
      );
    }
    const username = await this.permissions.holder(claims.sub, PERMISSION);
    if (!username) {
      await this.deny('no_permission', claims.sub);
      return this.html(res, 403, forbiddenPage(undefined));
    }
    const ttl = Math.max(1, claims.exp - Math.floor(Date.now() / 1000));
    this.cookies.set(res, CONSOLE_SESSION_COOKIE, this.signer.sign({ sub: claims.sub }, ttl), ttl);
    await this.audit.record({
      type: 'audit_console.signed_in',
      outcome: 'success',
      clientId: CONSOLE_CLIENT_ID,
      subject: claims.sub,
      details: { permission: PERMISSION },
    });
    void res.redirect(flow.return, 302);
  }

  @Post('sign-out')
  @HttpCode(303)
  signOut(@Res() res: HttpReply) {
    this.cookies.clear(res, CONSOLE_SESSION_COOKIE);
    void res.redirect('/', 303);
  }

  @Get('console/report')
  async report(@Query() query: SecurityReportQueryDto, @Req() req: HttpRequest, @Res() res: HttpReply) {
    const auditor = await this.auditor(req, res);
    if (!auditor) return;
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - DAY_MS);
    if (!(from.getTime() < to.getTime()) || to.getTime() - from.getTime() > 366 * DAY_MS)
      return this.html(
        res,
        400,
        errorPage('Bad window', 'from must come before to, at most 366 days apart.'),
      );
    const window = { from, to };
    const report = await this.reports.generate(window);
    await this.audit.record({
      type: 'audit.report_generated',
      outcome: 'success',
      clientId: CONSOLE_CLIENT_ID,
      subject: auditor.sub,
      details: { window: report.window, format: 'html', findings: report.findings.length, console: true },
    });
    const timeline = await this.reports.timeline(window);
    this.html(
      res,
      200,
      renderSecurityReport(report, timeline, this.reports.rules(), consoleNav(auditor.username)),
    );
  }

  @Get('console/events')
  async list(@Query() query: AuditEventsQueryDto, @Req() req: HttpRequest, @Res() res: HttpReply) {
    const auditor = await this.auditor(req, res);
    if (!auditor) return;
    const filters = {
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      type: query.type,
      outcome: query.outcome,
      clientId: query.client_id,
      ip: query.ip,
    };
    await this.audit.record({
      type: 'audit.queried',
      outcome: 'success',
      clientId: CONSOLE_CLIENT_ID,
      subject: auditor.sub,
      details: {
        format: 'html',
        console: true,
        filters: { type: query.type ?? null, outcome: query.outcome ?? null },
      },
    });
    const page = await this.events.page(filters, query.limit ?? 50, query.cursor);
    const kept: Record<string, string> = {};
    for (const key of ['type', 'outcome', 'client_id', 'ip', 'from', 'to'] as const)
      if (typeof query[key] === 'string' && query[key]) kept[key] = query[key] as string;
    const next = page.next_cursor
      ? `/audit/console/events?${new URLSearchParams({ ...kept, cursor: page.next_cursor })}`
      : null;
    this.html(
      res,
      200,
      eventsPage({
        username: auditor.username,
        items: page.items,
        nextHref: next,
        filters: kept,
        types: AUDIT_EVENT_TYPES,
      }),
    );
  }

  /** The signed-in auditor, re-checking the permission; otherwise answers (sign-in redirect or 403) and returns undefined. */
  private async auditor(
    req: HttpRequest,
    res: HttpReply,
  ): Promise<{ sub: string; username: string } | undefined> {
    const session = this.signer.verify<{ sub: string }>(this.cookies.read(req, CONSOLE_SESSION_COOKIE));
    if (!session || typeof session.sub !== 'string') {
      void res
        .header('Cache-Control', 'no-store')
        .redirect(`/audit/console/sign-in?${new URLSearchParams({ return: req.url })}`, 302);
      return undefined;
    }
    const username = await this.permissions.holder(session.sub, PERMISSION);
    if (!username) {
      this.cookies.clear(res, CONSOLE_SESSION_COOKIE);
      await this.deny('no_permission', session.sub);
      this.html(res, 403, forbiddenPage(undefined));
      return undefined;
    }
    return { sub: session.sub, username };
  }

  /** This process's own listener (a wildcard address is reached on loopback). */
  private ownUrl(): string {
    const address = this.adapter.httpAdapter.getHttpServer().address() as AddressInfo;
    const host = ['0.0.0.0', '::', ''].includes(address.address)
      ? '127.0.0.1'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
    return `http://${host}:${address.port}`;
  }

  private deny(reason: string, subject?: string) {
    return this.audit.record({
      type: 'audit_console.access_denied',
      outcome: 'failure',
      reason,
      clientId: CONSOLE_CLIENT_ID,
      subject: subject ?? null,
      details: { reason },
    });
  }

  private html(res: HttpReply, status: number, body: string) {
    void res.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
  }
}
