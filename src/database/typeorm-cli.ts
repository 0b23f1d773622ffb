// DataSource for the TypeORM CLI (npm run migration:generate|run|revert), built from the same environment.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadEnvironment } from '../config/environment';
import { createDataSourceOptions } from './data-source';

const env = loadEnvironment();
export default createDataSourceOptions({ target: env.database, poolSize: 2 }).then((o) => new DataSource(o));
