import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../http/http';
import { latchkeyVersion } from '../common/version';
import { serverConfig, type ServerConfig } from '../config/config.namespaces';
import { faviconIco } from './favicon';
import { homePage } from './home.page';

/** The server's front door: `/` (a small page with links) and `/favicon.ico`. */
@ApiTags('server')
@Controller()
export class HomeController {
  private page?: string;
  private readonly favicon: Buffer;

  constructor(@Inject(serverConfig.KEY) private readonly server: ServerConfig) {
    this.favicon = faviconIco(server.branding.primaryColor);
  }

  @Get()
  @ApiOperation({ summary: 'A small page: name, version, links to the docs, metadata, keys and health' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'HTML' })
  home(@Res() res: HttpReply) {
    // rendered at the first request: the branding is set by configureApp, after the controllers are built
    this.page ??= homePage({
      version: latchkeyVersion(),
      issuer: this.server.issuer,
      docs: this.server.docs !== 'off',
    });
    void res.header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(this.page);
  }

  @Get('favicon.ico')
  @ApiExcludeEndpoint()
  icon(@Res() res: HttpReply) {
    void res.header('Cache-Control', 'public, max-age=86400').type('image/x-icon').send(this.favicon);
  }
}
