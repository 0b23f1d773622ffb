import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CliOperations } from './cli-operations.service';
import { CliSocketServer } from './cli-socket.server';
import { MigrateOperation } from './migrate.operation';

/** The server side of the CLI: the command registry and (embedded database) the Unix socket. */
@Module({
  imports: [DiscoveryModule],
  providers: [CliOperations, CliSocketServer, MigrateOperation],
  exports: [CliOperations],
})
export class OperationsModule {}
