import { ApiAuthModule } from '../api-auth/api-auth.module';
import { GrantsModule } from '../grants/grants.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { ConsentsRepository } from './consents.repository';
import { ConsentsService } from './consents.service';
import { UsersAdminController } from './users-admin.controller';
import { UsersAdminService } from './users-admin.service';
import { Module } from '@nestjs/common';
import { UsersPurge } from './users.purge';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CsrfService } from './csrf.service';
import { LocalStrategy } from './local.strategy';
import { LoginController } from './login.controller';
import { LocalAuthGuard, LoginCsrfGuard } from './login.guards';
import { LoginLockoutService } from './login-lockout.service';
import { PasswordCheckLimiter } from './password-check-limiter';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { UserCreateOperation } from './user-create.operation';
import { UserEntity } from './user.entity';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/**
 * End users: accounts (scrypt password hashes), the login and logout pages (passport-local), server-side
 * sessions, per-username lockout and the CSRF tokens of every HTML form.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([UserEntity]),
    PassportModule,
    ApiAuthModule,
    GrantsModule,
    RateLimitModule,
  ],
  controllers: [LoginController, UsersAdminController],
  providers: [
    UsersPurge,
    UsersRepository,
    UsersService,
    SessionsRepository,
    SessionsService,
    LoginLockoutService,
    PasswordCheckLimiter,
    CsrfService,
    LocalStrategy,
    LocalAuthGuard,
    LoginCsrfGuard,
    UserCreateOperation,
    ConsentsRepository,
    ConsentsService,
    UsersAdminService,
  ],
  exports: [UsersPurge, UsersService, SessionsService, CsrfService, ConsentsService],
})
export class UsersModule {}
