import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { CommandFactory } from 'nest-commander';
import { StderrLogger } from './cli/cli-dispatcher';
import { COMMANDS } from './cli/commands';
import { ConfigError, loadEnvironment } from './config/environment';

/** `npm run cli -- <command>`: parsing only; the work happens where the data is (see cli-dispatcher.ts). */
@Module({ providers: COMMANDS })
class CliCommandsModule {}

async function main() {
  try {
    loadEnvironment();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  await CommandFactory.run(CliCommandsModule, {
    logger: new StderrLogger(),
    errorHandler: (err) => {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    },
    serviceErrorHandler: (err) => {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    },
  });
}

void main();
