import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp } from './bootstrap';
import { environment } from './config/config.namespaces';
import { ConfigError } from './config/environment';

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
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApp(app);
  const logger = app.get(Logger);
  if (env.generatedSecrets) {
    logger.warn(
      `KEY_ENCRYPTION_KEY and/or SESSION_SECRET were not set: using development values generated into ${env.dataDir}/secrets.json. ` +
        'Set both (the same on every instance) in production.',
      'Bootstrap',
    );
  }
  await app.listen(env.port, env.host);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  logger.log(
    `Latchkey ready at ${env.issuer} (listening on ${env.host}:${env.port}, database: ${env.database.kind === 'postgres' ? 'PostgreSQL' : env.database.dataDir ? `PGlite ${env.database.dataDir}` : 'PGlite in memory'}) in ${Math.round(ms)} ms`,
    'Bootstrap',
  );
}

void bootstrap().catch((err) => {
  process.stderr.write(`Latchkey failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
