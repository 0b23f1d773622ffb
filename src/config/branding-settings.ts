import { ConfigError, str, type Env } from './env-values';

/** How the pages look (BRAND_*): the product name, an optional logo and the primary colour. */
export interface Branding {
  name: string;
  logoUrl: string | null;
  primaryColor: string;
}

export /** BRAND_NAME, BRAND_LOGO_URL (an absolute http(s) URL), BRAND_PRIMARY_COLOR (#rgb or #rrggbb). */
function branding(env: Env): Branding {
  const name = str(env, 'BRAND_NAME', 'Latchkey').trim();
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (name.length > 60 || /[\x00-\x1f\x7f]/.test(name))
    throw new ConfigError('BRAND_NAME', 'must be at most 60 printable characters');
  const logo = env.BRAND_LOGO_URL?.trim() || null;
  if (logo !== null) {
    let url: URL | undefined;
    try {
      url = new URL(logo);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      throw new ConfigError('BRAND_LOGO_URL', `must be an absolute http(s) URL (got "${logo}")`);
  }
  const primaryColor = str(env, 'BRAND_PRIMARY_COLOR', '#2f5bd3').trim().toLowerCase();
  if (!/^#([0-9a-f]{3}|[0-9a-f]{6})$/.test(primaryColor))
    throw new ConfigError('BRAND_PRIMARY_COLOR', `must be a colour like #2f5bd3 (got "${primaryColor}")`);
  return { name, logoUrl: logo, primaryColor };
}
