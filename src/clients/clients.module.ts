import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiAuthModule } from '../api-auth/api-auth.module';
import { GrantsModule } from '../grants/grants.module';
import { ClientChangeHooks } from './client-change-hooks';
import { ClientEntity } from './client.entity';
import { ClientCreateOperation } from './client-create.operation';
import { ClientRowCache } from './client-row-cache';
import { ClientsAdminController } from './clients-admin.controller';
import { ClientsAdminService } from './clients-admin.service';
import { ClientsRepository } from './clients.repository';
import { ClientsService } from './clients.service';

@Module({
  imports: [TypeOrmModule.forFeature([ClientEntity]), ApiAuthModule, GrantsModule],
  controllers: [ClientsAdminController],
  providers: [
    ClientsRepository,
    ClientRowCache,
    ClientsService,
    ClientsAdminService,
    ClientCreateOperation,
    ClientChangeHooks,
  ],
  exports: [ClientsService, ClientChangeHooks],
})
export class ClientsModule {}
