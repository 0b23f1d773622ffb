/** What each scope means, in words, for the consent page. */
const DESCRIPTIONS: Record<string, string> = {
  // OpenID Connect: what signing in with Latchkey tells the application
  openid: 'Know who you are: your account identifier, and when you signed in.',
  profile: 'See your profile: your name and username.',
  email: 'See your email address, and whether it is verified.',
  'api:read': 'See your data through the API, without changing anything.',
  'api:write': 'Create, change and delete your data through the API.',
};

export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? `Use the “${scope}” permission on your behalf.`;
}

/** True when a consent already given covers every requested scope. */
export function consentCovers(consented: string | undefined, requested: readonly string[]): boolean {
  if (consented === undefined) return false;
  const given = new Set(consented.split(' ').filter(Boolean));
  return requested.every((s) => given.has(s));
}
