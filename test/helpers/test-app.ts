import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServer } from 'node:net';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp, createHttpAdapter } from '../../src/bootstrap';
import { environment, setEnvironment } from '../../src/config/config.namespaces';
import { loadEnvironment } from '../../src/config/environment';
import { createTestDatabase, TestDatabase } from './test-database';

/** Fixed development secrets for tests (never used outside tests). */
export const TEST_KEY_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64url');
export const TEST_SESSION_SECRET = Buffer.alloc(32, 9).toString('base64url');

export interface TestApp {
  app: INestApplication;
  /** e.g. http://127.0.0.1:41234 — also the ISSUER */
  url: string;
  port: number;
  dataSource: DataSource;
  database: TestDatabase;
  get<T>(token: { new (...args: any[]): T } | string | symbol): T;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts the whole application, listening on a real port, on an isolated database: a fresh in-memory
 * PGlite by default, or a fresh database on the PostgreSQL server in DATABASE_URL (npm run test:pg).
 * `env` overrides any setting (e.g. { REFRESH_REUSE_GRACE: '5s' }).
 */
export async function createTestApp(
  env: Record<string, string> = {},
  options: { database?: TestDatabase; imports?: Array<Type<unknown> | DynamicModule> } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  setEnvironment(
    loadEnvironment({
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: url,
      DATABASE_URL: database.url,
      DATA_DIR: database.dataDir,
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      SESSION_SECRET: TEST_SESSION_SECRET,
      LOG_LEVEL: 'silent',
      DATABASE_POOL_SIZE: '4',
      ...env,
    }),
  );
  // `imports`: modules started next to AppModule (extensions, docs/extending.md)
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule, ...(options.imports ?? [])],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(environment()), {
    bodyParser: false,
    logger: ['error'],
    abortOnError: false,
  });
  await configureApp(app);
  await app.listen(port, '127.0.0.1');
  setEnvironment(undefined);
  const dataSource = app.get(DataSource);
  return {
    app,
    url,
    port,
    dataSource,
    database,
    get: (token) => app.get(token as never, { strict: false }),
    close: async () => {
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}
