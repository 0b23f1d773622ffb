import type { Branding } from '../config/environment';

export const DEFAULT_BRANDING: Branding = { name: 'Latchkey', logoUrl: null, primaryColor: '#2f5bd3' };

let current: Branding = DEFAULT_BRANDING;

/**
 * The deployment's look (BRAND_NAME, BRAND_LOGO_URL, BRAND_PRIMARY_COLOR) for every server-rendered page. Set once
 * at start-up by configureApp (pages are pure functions of their model; the look is per process, like the issuer).
 */
export function setBranding(branding: Branding): void {
  current = branding;
}

export function branding(): Branding {
  return current;
}
