/** What each scope means, in words, for the consent page. */
const DESCRIPTIONS: Record<string, string> = {
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
