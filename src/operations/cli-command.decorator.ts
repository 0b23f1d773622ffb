import { SetMetadata } from '@nestjs/common';

export const CLI_COMMAND = 'latchkey:cli-command';

/**
 * Marks a provider method as the implementation of a CLI command (`npm run cli -- <name>`).
 * The method takes the parsed options object and returns a plain JSON-serialisable result;
 * it throws CliError for a failure the user should read.
 */
export const CliCommand = (name: string) => SetMetadata(CLI_COMMAND, name);

export class CliError extends Error {}
