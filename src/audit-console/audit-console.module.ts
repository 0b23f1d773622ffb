import { Inject, Injectable, Module, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import accepts from 'accepts';
import type { FastifyInstance } from 'fastify';
import { AuditModule } from '../audit/audit.module';
import { ClientsModule } from '../clients/clients.module';
import { ClientsService } from '../clients/clients.service';
import { requestPath } from '../http/http';
import { serverConfig, type ServerConfig } from '../config/config.namespaces';
import { KeysModule } from '../keys/keys.module';
import { AuditConsoleController } from './audit-console.controller';
import { CookieJar } from '../users/cookies';
import { CONSOLE_CLIENT_ID, CONSOLE_SESSION_COOKIE, SignedValue } from './console-session';
import { UserPermissionsRepository } from './user-permissions.repository';
import { UserPermitOperation } from './user-permit.operation';

/** The console's paths for the audit API's own paths, when a browser asks for a page without a token. */
const BROWSER_ROUTES: Record<string, string> = {
  '/audit/reports/security': '/audit/console/report',
  '/audit/events': '/audit/console/events',
};

/**
 * The built-in client of the console (kept in step with ISSUER and BRAND_NAME), and the way in for a browser:
 * GET /audit/reports/security or /audit/events that prefers HTML and carries no Authorization header goes to
 * the console page with the same query (an API client with a token, or asking for JSON/CSV, is untouched).
 */
@Injectable()
export class AuditConsoleSetup implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly clients: ClientsService,
    private readonly permissions: UserPermissionsRepository,
    @Inject(serverConfig.KEY) private readonly server: ServerConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return; // the CLI's own process has no HTTP server
    if (this.server.docs === 'protected') {
      // DOCS=protected: /docs and /docs-json only for a signed-in console user (audit:read)
      const signer = new SignedValue(this.server.sessionSecret);
      const cookies = new CookieJar(this.server.secureCookies);
      fastify.addHook('onRequest', async (req, reply) => {
        const path = requestPath(req);
        if (path !== '/docs' && !path.startsWith('/docs/') && !path.startsWith('/docs-')) return;
        const session = signer.verify<{ sub: string }>(cookies.read(req as never, CONSOLE_SESSION_COOKIE));
        if (session && (await this.permissions.holder(session.sub, 'audit:read'))) return;
        return reply
          .code(302)
          .header('Cache-Control', 'no-store')
          .header('Location', '/audit/console/sign-in?return=%2Fdocs')
          .send();
      });
    }
    fastify.addHook('onRequest', (req, reply, done) => {
      if (req.method !== 'GET' || req.headers.authorization) return done();
      const target = BROWSER_ROUTES[requestPath(req)];
      if (!target) return done();
      const at = req.url.indexOf('?');
      const query = new URLSearchParams(at >= 0 ? req.url.slice(at + 1) : '');
      const format = query.get('format');
      const wantsHtml = format
        ? format === 'html'
        : accepts(req.raw).type(['application/json', 'text/csv', 'text/html']) === 'text/html';
      if (!wantsHtml) return done();
      query.delete('format'); // the console's pages are HTML only
      const rest = query.toString();
      void reply
        .code(303)
        .header('Location', rest ? `${target}?${rest}` : target)
        .send();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.adapter.httpAdapter) return;
    try {
      await this.clients.ensureBuiltInClient(
        CONSOLE_CLIENT_ID,
        `${this.server.branding.name} audit console`,
        `${this.server.issuer}/audit/callback`,
      );
    } catch (err) {
      // several instances starting at once on one PostgreSQL: another one inserted it first
      if (
        (err as { code?: string }).code !== '23505' &&
        (err as { driverError?: { code?: string } }).driverError?.code !== '23505'
      )
        throw err;
    }
  }
}

@Module({
  imports: [AuditModule, KeysModule, ClientsModule],
  controllers: [AuditConsoleController],
  providers: [UserPermissionsRepository, UserPermitOperation, AuditConsoleSetup],
})
export class AuditConsoleModule {}
