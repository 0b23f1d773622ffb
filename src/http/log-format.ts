import type { LoggerService } from '@nestjs/common';

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * LOG_FORMAT=text: pino's JSON line as one line for people (`12:00:01.123 info  [HTTP] GET /oauth/token 200 4ms`).
 * The same fields as the JSON (redaction happens before), only arranged; a line that is not JSON passes as is.
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { level, time, pid: _pid, hostname: _host, context, msg, reqId, err, ...rest } = entry;
  const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const label = (LEVELS[level as number] ?? String(level)).padEnd(5);
  let message = typeof msg === 'string' ? msg : '';
  if (typeof rest.method === 'string' && typeof rest.url === 'string' && rest.statusCode !== undefined) {
    const { method, url, statusCode, responseTime, ...others } = rest;
    message = `${method} ${url} ${statusCode} ${responseTime}ms${message === 'request completed' ? '' : ` (${message})`}`;
    for (const key of Object.keys(rest)) delete rest[key];
    Object.assign(rest, others);
  }
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  const stack =
    err && typeof err === 'object' && typeof (err as { stack?: unknown }).stack === 'string'
      ? `\n${(err as { stack: string }).stack}`
      : '';
  return `${at} ${label} ${context ? `[${String(context)}] ` : ''}${message}${extra}${reqId ? ` req=${String(reqId)}` : ''}${stack}\n`;
}

/** A pino destination writing formatLogLine's lines to stdout. */
export function textLogDestination(out: NodeJS.WritableStream = process.stdout): {
  write(line: string): void;
} {
  return { write: (line: string) => void out.write(formatLogLine(line)) };
}

/** Nest's start-up chatter (a line per module and per route: ~60 lines) is debug, not info. */
const FRAMEWORK_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

/** Wraps the app's logger: Nest's framework messages go to `debug`; everything else unchanged. */
export function quietFrameworkLogs(logger: LoggerService): LoggerService {
  const contextOf = (params: unknown[]) => params[params.length - 1];
  return {
    log: (message: unknown, ...params: unknown[]) =>
      FRAMEWORK_CONTEXTS.has(contextOf(params) as string)
        ? logger.debug?.(message, ...params)
        : logger.log(message, ...params),
    error: (message: unknown, ...params: unknown[]) => logger.error(message, ...params),
    warn: (message: unknown, ...params: unknown[]) => logger.warn(message, ...params),
    debug: (message: unknown, ...params: unknown[]) => logger.debug?.(message, ...params),
    verbose: (message: unknown, ...params: unknown[]) => logger.verbose?.(message, ...params),
    fatal: (message: unknown, ...params: unknown[]) =>
      (logger.fatal ?? logger.error).call(logger, message, ...params),
    setLogLevels: logger.setLogLevels?.bind(logger),
  };
}
