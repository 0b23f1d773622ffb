import 'reflect-metadata';
import cluster from 'node:cluster';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp, createHttpAdapter } from './bootstrap';
import { environment } from './config/config.namespaces';
import { latchkeyVersion } from './common/version';
import { ConfigError } from './config/environment';
import { describeDatabase, startupBanner } from './startup-banner';

async function bootstrap() {
  const started = process.hrtime.bigint();
  let env;
  try {
    env = environment(); // validates every variable; fails fast naming the bad one
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (cluster.isPrimary && env.clusterWorkers > 1) {
    if (env.database.kind !== 'postgres') {
      process.stderr.write(
        'Invalid configuration: CLUSTER_WORKERS > 1 needs DATABASE_URL=postgres://… (PGlite belongs to one process)\n',
      );
      process.exit(1);
    }
    return runPrimary(env.clusterWorkers);
  }
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(env), {
    bufferLogs: true,
    bodyParser: false,
  });
  await configureApp(app);
  const logger = app.get(Logger);
  // only when this start generated them: reused development secrets are the normal case after the first start
  if (env.generatedSecrets) {
    logger.warn(
      `KEY_ENCRYPTION_KEY and/or SESSION_SECRET were not set: generated development values into ${env.dataDir}/secrets.json (reused on later starts). ` +
        'Set both (the same on every instance) in production.',
      'Bootstrap',
    );
  }
  await app.listen(env.port, env.host);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (env.logFormat === 'text' && cluster.isPrimary) {
    process.stdout.write(startupBanner(env, latchkeyVersion(), ms));
    return;
  }
  logger.log(
    {
      issuer: env.issuer,
      listen: `${env.host}:${env.port}`,
      database: describeDatabase(env),
      version: latchkeyVersion(),
      ms: Math.round(ms),
    },
    `Latchkey ready at ${env.issuer}`,
    'Bootstrap',
  );
}

/**
 * CLUSTER_WORKERS > 1 (PostgreSQL only): the primary forks that many identical workers sharing the port
 * (node:cluster round-robin); all state is in PostgreSQL, so any worker can serve any request. A worker
 * that dies is replaced; SIGTERM/SIGINT are forwarded and the primary exits when every worker has drained.
 */
function runPrimary(workers: number) {
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    process.stderr.write(`worker ${worker.process.pid} exited (${code}); starting another\n`);
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void bootstrap().catch((err) => {
  process.stderr.write(`Latchkey failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
