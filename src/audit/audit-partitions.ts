/** Daily partitions of audit_events, named audit_events_pYYYYMMDD, covering [day 00:00 UTC, next day). */
export const PARTITION_NAME = /^audit_events_p(\d{4})(\d{2})(\d{2})$/;
export const DAY_MS = 86_400_000;

/** 00:00 UTC of the day holding `at`. */
export function utcDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

export function partitionName(day: Date): string {
  const d = utcDay(day).toISOString();
  return `audit_events_p${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}`;
}

/** The day a partition name stands for, or undefined when the name is not one of ours. */
export function partitionDay(name: string): Date | undefined {
  const m = PARTITION_NAME.exec(name);
  if (!m) return undefined;
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return partitionName(day) === name ? day : undefined;
}

/** Every day from `first` to `last` (inclusive), as 00:00 UTC dates. */
export function daysBetween(first: Date, last: Date): Date[] {
  const out: Date[] = [];
  for (let t = utcDay(first).getTime(); t <= utcDay(last).getTime(); t += DAY_MS) out.push(new Date(t));
  return out;
}

/** Partitions wholly older than the cutoff (their upper bound ≤ cutoff) can be dropped. */
export function droppable(names: string[], cutoff: Date): string[] {
  return names
    .filter((n) => {
      const day = partitionDay(n);
      return day !== undefined && day.getTime() + DAY_MS <= cutoff.getTime();
    })
    .sort();
}
