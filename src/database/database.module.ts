import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { databaseConfig, type DatabaseConfig } from '../config/config.namespaces';
import { createDataSourceOptions } from './data-source';
import { runMigrations } from './migrator';
import { guardPoolClients } from './sql';

/** TypeORM on PGlite or PostgreSQL; pending migrations are applied before the app serves anything. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY],
      // every module registers its own entities (TypeOrmModule.forFeature): the database knows no feature
      useFactory: async (db: DatabaseConfig) => ({
        ...(await createDataSourceOptions({ target: db.target, poolSize: db.poolSize })),
        autoLoadEntities: true,
      }),
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        const logger = new Logger('Database');
        guardPoolClients(dataSource, (err) => logger.warn(`connection lost: ${err.message}`));
        await runMigrations(dataSource);
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
