import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ExampleModule } from './app.module';
import { exampleConfig } from './example.config';

async function main(): Promise<void> {
  const config = exampleConfig();
  const app = await NestFactory.create<NestFastifyApplication>(
    ExampleModule.forRoot(config),
    new FastifyAdapter(),
    {
      logger: ['error', 'warn'],
    },
  );
  app.enableShutdownHooks();
  await app.listen(config.port, '127.0.0.1');
  console.log(`Latchkey example on ${config.url} (issuer ${config.issuer}, client ${config.clientId})`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
