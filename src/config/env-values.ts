// Parsers of one environment variable each: they name the variable and what is wrong with it on failure.
import { parseDuration } from './duration';

/** A configuration error names the variable and what is wrong with it, and nothing else. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
  }
}

/** The process environment (or a test's), as loadEnvironment reads it. */
export type Env = Record<string, string | undefined>;

export function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer (got "${raw}")`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${n})`);
  return n;
}

export function duration(env: Env, name: string, fallback: string, minSeconds = 0): number {
  const raw = str(env, name, fallback);
  const seconds = parseDuration(raw);
  if (seconds === undefined)
    throw new ConfigError(name, `must be a duration like 60s, 15m, 12h or 30d (got "${raw}")`);
  if (seconds < minSeconds) throw new ConfigError(name, `must be at least ${minSeconds}s (got "${raw}")`);
  return seconds;
}

/** An on/off setting (none left since TRUST_PROXY took a hop count or addresses; kept for the next). */
export function bool(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'off', 'no'].includes(raw)) return false;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  throw new ConfigError(name, `must be on/off, true/false or 1/0 (got "${env[name]}")`);
}

export function oneOf<T extends string>(env: Env, name: string, fallback: T, values: readonly T[]): T {
  const raw = str(env, name, fallback).trim().toLowerCase();
  if (!values.includes(raw as T))
    throw new ConfigError(name, `must be one of ${values.join(', ')} (got "${raw}")`);
  return raw as T;
}

export function absoluteUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute http(s) URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(name, 'must use http or https');
  if (url.search || url.hash || raw.includes('?') || raw.includes('#'))
    throw new ConfigError(name, 'must not have a query or fragment');
  if (raw.endsWith('/')) throw new ConfigError(name, 'must not end with a slash');
  return raw;
}
