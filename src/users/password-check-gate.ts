/**
 * Bounds the CPU that password checks may take, whatever the traffic (issue 20, finding 1): a failed login
 * with a random username costs one scrypt (~100–160 ms of CPU) and costs the sender one small POST.
 *
 * - at most `concurrency` checks run at a time; further ones wait in a short queue of at most `queue` entries;
 * - the queue is fair between client IPs: it is served round-robin by IP, and when it is full a newcomer from an
 *   IP with fewer waiting entries than the busiest IP takes the place of that IP's newest entry. One IP (or a few)
 *   flooding the login form therefore delays someone else's login by at most a few checks, never by the flood;
 * - entries from IPs whose recent logins failed (`suspect`: the caller decides, e.g. a failed login in the window;
 *   `isSuspect` is asked again when an entry comes up)
 *   wait behind every other entry: they are served, and evicted, only when no entry of a clean IP waits. A
 *   flood of failing logins therefore delays a login from an IP without failures by at most the checks already
 *   running, not by one check per flooding IP;
 * - at most `budget` checks start per `windowMs` (a global login budget, per instance);
 * - a check whose client has disconnected by the time its turn comes is skipped.
 * Whoever is refused learns it at once (`busy`, with the seconds to wait), never after queueing behind the flood.
 *
 * Pure logic with no Nest or HTTP dependency (unit-tested with fakes); PasswordCheckLimiter wires it in.
 */
export type GateRefusal = { refused: 'busy' | 'budget'; retryAfter: number };
export type GateOutcome<T> =
  { ran: true; value: T } | { ran: false; gone: true } | ({ ran: false } & GateRefusal);

export interface GateOptions {
  concurrency: number;
  queue: number;
  budget: number;
  windowMs: number;
  now?: () => number;
  /**
   * Whether an IP is suspect now (asked again when its entries come up: an IP that became suspect while its
   * entries waited goes behind the clean ones).
   */
  isSuspect?: (ip: string) => boolean;
}

interface Waiter {
  ip: string;
  start: () => void;
  refuse: (refusal: GateRefusal) => void;
}

export class PasswordCheckGate {
  private active = 0;
  private waiting = 0;
  /** per IP FIFO; Map iteration order is the round-robin order: IPs without recent failures, then suspect ones */
  private readonly queues = new Map<string, Waiter[]>();
  private readonly suspectQueues = new Map<string, Waiter[]>();
  private windowStart = 0;
  private started = 0;
  private readonly now: () => number;

  constructor(private readonly options: GateOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Checks being run and waiting (for tests and the bench). */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting };
  }

  async run<T>(
    ip: string,
    isGone: () => boolean,
    work: () => Promise<T>,
    suspect = false,
  ): Promise<GateOutcome<T>> {
    if (isGone()) return { ran: false, gone: true };
    const budget = this.budgetLeft();
    if (budget !== true) return { ran: false, ...budget };
    if (this.active >= this.options.concurrency) {
      const turn = await this.enqueue(ip, suspect);
      if (turn !== true) return { ran: false, ...turn };
      if (isGone()) {
        this.release();
        return { ran: false, gone: true };
      }
      const again = this.budgetLeft();
      if (again !== true) {
        this.release();
        return { ran: false, ...again };
      }
    } else {
      this.active++;
    }
    this.started++;
    try {
      return { ran: true, value: await work() };
    } finally {
      this.release();
    }
  }

  private budgetLeft(): true | GateRefusal {
    const now = this.now();
    if (now - this.windowStart >= this.options.windowMs) {
      this.windowStart = now;
      this.started = 0;
    }
    if (this.started < this.options.budget) return true;
    return {
      refused: 'budget',
      retryAfter: Math.max(1, Math.ceil((this.windowStart + this.options.windowMs - now) / 1000)),
    };
  }

  /** Resolves true when a slot was handed over (already counted in `active`), or with the refusal. */
  private enqueue(ip: string, suspect: boolean): Promise<true | GateRefusal> {
    if (this.waiting >= this.options.queue && !this.evictFor(ip, suspect))
      return Promise.resolve({ refused: 'busy', retryAfter: 1 });
    return new Promise((resolve) => {
      const waiter: Waiter = { ip, start: () => resolve(true), refuse: (r) => resolve(r) };
      const queues = suspect ? this.suspectQueues : this.queues;
      const list = queues.get(ip);
      if (list) list.push(waiter);
      else queues.set(ip, [waiter]);
      this.waiting++;
    });
  }

  /**
   * Frees a queue place for `ip`: a clean newcomer takes the place of the newest entry of the suspect IP with
   * the most entries (if any waits); otherwise, among its own kind, the newest entry of the IP with the most
   * entries, if that IP has more than the newcomer's.
   */
  private evictFor(ip: string, suspect: boolean): boolean {
    if (this.options.queue === 0) return false;
    if (!suspect && this.evictHeaviest(this.suspectQueues, 0)) return true;
    const queues = suspect ? this.suspectQueues : this.queues;
    return this.evictHeaviest(queues, (queues.get(ip)?.length ?? 0) + 1);
  }

  /** Refuses the newest entry of the IP with the most entries in `queues`, if it has more than `than`. */
  private evictHeaviest(queues: Map<string, Waiter[]>, than: number): boolean {
    let heaviest: string | undefined;
    let most = than;
    for (const [key, list] of queues) {
      if (list.length > most) {
        most = list.length;
        heaviest = key;
      }
    }
    if (heaviest === undefined) return false;
    const list = queues.get(heaviest)!;
    const victim = list.pop()!;
    if (list.length === 0) queues.delete(heaviest);
    this.waiting--;
    victim.refuse({ refused: 'busy', retryAfter: 1 });
    return true;
  }

  /** A check ended: hand its slot to the next IP in round-robin order, clean IPs first. */
  private release(): void {
    this.demoteSuspects();
    const queues = this.queues.size > 0 ? this.queues : this.suspectQueues;
    const next = queues.entries().next();
    if (next.done) {
      this.active--;
      return;
    }
    const [ip, list] = next.value;
    const waiter = list.shift()!;
    queues.delete(ip);
    if (list.length > 0) queues.set(ip, list); // to the back of the round
    this.waiting--;
    waiter.start(); // the slot passes on: `active` is unchanged
  }

  /** Moves the waiting entries of IPs that have become suspect behind the clean ones. */
  private demoteSuspects(): void {
    const isSuspect = this.options.isSuspect;
    if (!isSuspect) return;
    for (const [ip, list] of this.queues) {
      if (!isSuspect(ip)) continue;
      this.queues.delete(ip);
      const behind = this.suspectQueues.get(ip);
      if (behind) behind.unshift(...list);
      else this.suspectQueues.set(ip, list);
    }
  }
}
