const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** Parses the contract's duration syntax `<integer><s|m|h|d>` into seconds; undefined when malformed. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d{1,9})([smhd])$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}
