import { isIPv6 } from 'node:net';

/**
 * The key a per-IP limit counts under: an IPv4 address as is, an IPv6 address by its /64 prefix
 * (`2001:db8:1:2::/64`). One IPv6 subscriber usually holds a whole /64 (RFC 6177), so counting per /128
 * would give an attacker 2^64 fresh budgets. IPv4-mapped addresses (`::ffff:1.2.3.4`) count as IPv4.
 */
export function ipBucket(ip: string | null | undefined): string {
  if (!ip) return 'unknown';
  if (!isIPv6(ip)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  const hextets = expandIPv6(ip);
  if (!hextets) return ip;
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (zone id dropped), or undefined. */
function expandIPv6(ip: string): number[] | undefined {
  let text = ip.split('%')[0];
  // an embedded IPv4 tail (::1.2.3.4 forms) becomes two groups
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const values = groups.map((g) => parseInt(g, 16));
  return values.length === 8 && values.every((v) => v >= 0 && v <= 0xffff) ? values : undefined;
}
