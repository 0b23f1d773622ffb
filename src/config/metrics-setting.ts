import { isIP } from 'node:net';

/**
 * METRICS (docs/configuration.md): how GET /metrics (Prometheus text) is served.
 * - `off`: no metrics are collected and no route answers;
 * - `bearer` (default): GET /metrics on the main port, for a client_credentials token holding `metrics:read`;
 * - `port:<n>`: an open listener on port n bound to METRICS_HOST (default 127.0.0.1), nothing on the main port.
 */
export type MetricsSetting =
  { mode: 'off' } | { mode: 'bearer' } | { mode: 'port'; port: number; host: string };

type Env = Record<string, string | undefined>;

/** A problem with METRICS or METRICS_HOST: [variable, problem], or the parsed setting. */
export function parseMetricsSetting(
  env: Env,
  mainPort: number,
): { ok: true; value: MetricsSetting } | { ok: false; variable: string; problem: string } {
  const raw = (env.METRICS ?? '').trim().toLowerCase() || 'bearer';
  const host = env.METRICS_HOST?.trim() || '127.0.0.1';
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(host) || (host.includes(':') && !isIP(host)))
    return { ok: false, variable: 'METRICS_HOST', problem: `is not a host name or address (got "${host}")` };
  // (METRICS_HOST is read with port:<n> only, but a bad value is refused whatever the mode)
  if (raw === 'off' || raw === 'bearer') return { ok: true, value: { mode: raw } };
  const m = /^port:(\d{1,5})$/.exec(raw);
  if (!m)
    return {
      ok: false,
      variable: 'METRICS',
      problem: `must be off, bearer or port:<n> (got "${env.METRICS}")`,
    };
  const port = Number(m[1]);
  if (port < 1 || port > 65535)
    return { ok: false, variable: 'METRICS', problem: `port must be between 1 and 65535 (got ${port})` };
  if (port === mainPort && mainPort !== 0)
    return { ok: false, variable: 'METRICS', problem: `port must differ from PORT (${mainPort})` };
  return { ok: true, value: { mode: 'port', port, host } };
}
