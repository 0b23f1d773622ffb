import { Controller, Get } from '@nestjs/common';
import { AccessToken, Scopes, type VerifiedAccessToken } from '@latchkey/resource-server';

/** The team's protected API: only a valid Latchkey access token with api:read gets in. */
@Controller('api')
export class InvoicesController {
  @Get('invoices')
  @Scopes('api:read')
  list(@AccessToken() token: VerifiedAccessToken) {
    return {
      subject: token.subject,
      client_id: token.clientId,
      invoices: [
        { number: 'INV-1001', amount: '120.00 EUR' },
        { number: 'INV-1002', amount: '75.50 EUR' },
      ],
    };
  }
}
