import { isIP } from 'node:net';
import { ConfigError, type Env } from './env-values';

/**
 * TRUST_PROXY (docs/configuration.md): which peers are proxies whose X-Forwarded-For is believed. `false`: none (the
 * socket peer is the client); `hops`: the socket peer and the hops-1 right-most entries; `addresses`: peers
 * whose address is in the list (addresses, CIDRs, or proxy-addr's `loopback`/`linklocal`/`uniquelocal`).
 */
export type TrustProxy = false | { hops: number } | { addresses: string[] };

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

export function trustProxy(env: Env): TrustProxy {
  const raw = (env.TRUST_PROXY ?? '').trim();
  if (['', '0', 'false', 'off', 'no'].includes(raw.toLowerCase())) return false;
  if (['on', 'true', 'yes'].includes(raw.toLowerCase()))
    throw new ConfigError(
      'TRUST_PROXY',
      `no longer accepts "${raw}" (it believed the left-most X-Forwarded-For entry, which the client writes): give the number of proxies in front (1, 2, …) or their addresses/CIDRs`,
    );
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 32) throw new ConfigError('TRUST_PROXY', `must be a hop count from 1 to 32 (got ${raw})`);
    return { hops };
  }
  const addresses = raw.split(',').map((a) => a.trim());
  for (const a of addresses) {
    if (PROXY_NAMES.includes(a)) continue;
    const [ip, prefix, extra] = a.split('/');
    const family = isIP(ip);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!family || !prefixOk || extra !== undefined)
      throw new ConfigError(
        'TRUST_PROXY',
        `must be off, a hop count or a comma-separated list of proxy addresses/CIDRs (got "${a}")`,
      );
  }
  return { addresses };
}
