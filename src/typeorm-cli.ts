// DataSource for the TypeORM CLI (npm run migration:generate|run|revert), built from the same environment.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadEnvironment } from './config/environment';
import { createDataSourceOptions } from './database/data-source';
import { ENTITIES } from './entities';

const env = loadEnvironment();
export default createDataSourceOptions({ target: env.database, poolSize: 2, entities: ENTITIES }).then(
  (o) => new DataSource(o),
);
