import { Module } from '@nestjs/common';
import { FEATURE_MODULES, INFRASTRUCTURE_MODULES } from '../app-modules';
import { OperationsModule } from '../operations/operations.module';

/** What the CLI boots when it runs a command in its own process: the app's modules, without HTTP. */
@Module({ imports: [...INFRASTRUCTURE_MODULES, ...FEATURE_MODULES, OperationsModule] })
export class CliWorkModule {}
