import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { runMigrations } from '../database/migrator';
import { CliCommand } from './cli-command.decorator';

@Injectable()
export class MigrateOperation {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @CliCommand('migrate')
  async migrate(): Promise<Record<string, unknown>> {
    const applied = await runMigrations(this.dataSource);
    const pending = await this.dataSource.showMigrations();
    return { applied, pending };
  }
}
