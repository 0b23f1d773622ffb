import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { environment } from '../../../src/config/config.namespaces';
import { configureApp, createHttpAdapter } from '../../../src/extensions';
import { ExtendedLatchkeyModule } from './app.module';

/**
 * Latchkey with the team's extensions: the same start as src/main.ts (settings validated first, the same
 * Fastify adapter and configureApp), with ExtendedLatchkeyModule as the root. Every Latchkey setting applies;
 * SIEM_URL (optional) sends the audit events to an HTTP endpoint instead of stdout.
 */
async function main(): Promise<void> {
  const env = environment();
  const app = await NestFactory.create<NestFastifyApplication>(
    ExtendedLatchkeyModule.forRoot({
      directory: { ada: { department: 'research', employee_number: 'E-1815' } },
      siem: { url: process.env.SIEM_URL || undefined },
    }),
    createHttpAdapter(env),
    { bufferLogs: true, bodyParser: false },
  );
  await configureApp(app);
  await app.listen(env.port, env.host);
  process.stderr.write(`Latchkey with extensions at ${env.issuer}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
