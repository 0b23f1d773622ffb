import { Module } from '@nestjs/common';
import { AuthorizationPurge } from './authorization.purge';
import { ClientsModule } from '../clients/clients.module';
import { UsersModule } from '../users/users.module';
import { AuthorizationCodesRepository } from './authorization-codes.repository';
import { AuthorizationCodesService } from './authorization-codes.service';
import { AuthorizationRequestsRepository } from './authorization-requests.repository';
import { AuthorizationService } from './authorization.service';
import { AuthorizeRequestValidator } from './authorize-request.validator';
import { AuthorizeController } from './authorize.controller';
import { ConsentController } from './consent.controller';
import { PendingRequestsService } from './pending-requests.service';
import { PushedRequestsRepository } from './pushed-requests.repository';
import { PushedRequestsService } from './pushed-requests.service';

/**
 * GET /oauth/authorize (every rule of docs/authorization.md, one check per file in ./checks), the consent page, and
 * authorization codes (issued here; found and consumed by the token endpoint through AuthorizationCodesService).
 */
@Module({
  imports: [ClientsModule, UsersModule],
  controllers: [AuthorizeController, ConsentController],
  providers: [
    AuthorizationPurge,
    AuthorizationCodesRepository,
    AuthorizationCodesService,
    AuthorizationRequestsRepository,
    PendingRequestsService,
    AuthorizationService,
    AuthorizeRequestValidator,
    PushedRequestsRepository,
    PushedRequestsService,
  ],
  exports: [AuthorizationPurge, AuthorizationCodesService, PushedRequestsService],
})
export class AuthorizationModule {}
