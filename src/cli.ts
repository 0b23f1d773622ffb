import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { CommandFactory } from 'nest-commander';
import { StderrLogger } from './cli/cli-dispatcher';
import { COMMANDS } from './cli/commands';
import { latchkeyVersion } from './common/version';
import { ConfigError, loadEnvironment } from './config/environment';

/** `npm run cli -- <command>`: parsing only; the work happens where the data is (see cli-dispatcher.ts). */
@Module({ providers: COMMANDS })
class CliCommandsModule {}

/** commander reports its own errors (unknown command or option, missing value) and sets the exit code. */
interface CommanderExit extends Error {
  code?: string;
  exitCode?: number;
}

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
  // no command at all: the help, as `help` prints it (on stdout, exit 0)
  if (process.argv.length <= 2) process.argv.push('help');
  await CommandFactory.run(CliCommandsModule, {
    logger: new StderrLogger(),
    version: latchkeyVersion(),
    // commander has already written its message (help, version, "unknown option '--nme'"): only exit, once
    errorHandler: (err: CommanderExit) => {
      if (err.code?.startsWith('commander.')) process.exit(err.exitCode ?? 1);
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
