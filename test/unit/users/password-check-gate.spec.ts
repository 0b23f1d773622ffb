import { PasswordCheckGate } from '../../../src/users/password-check-gate';

/** A check that finishes when the test says so. */
function pending<T>(value: T) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { work: async () => (await done, value), finish };
}
const here = () => false;
const tick = () => new Promise((r) => setImmediate(r));

describe('PasswordCheckGate', () => {
  it('runs at most `concurrency` checks, queues `queue` more and refuses the rest at once', async () => {
    const gate = new PasswordCheckGate({ concurrency: 1, queue: 1, budget: 100, windowMs: 60_000 });
    const a = pending('a');
    const b = pending('b');
    const first = gate.run('1.1.1.1', here, a.work);
    const second = gate.run('1.1.1.1', here, b.work);
    const third = await gate.run('1.1.1.1', here, async () => 'c');
    expect(third).toEqual({ ran: false, refused: 'busy', retryAfter: 1 });
    expect(gate.load).toEqual({ active: 1, waiting: 1 });
    a.finish();
    expect(await first).toEqual({ ran: true, value: 'a' });
    await tick();
    expect(gate.load).toEqual({ active: 1, waiting: 0 });
    b.finish();
    expect(await second).toEqual({ ran: true, value: 'b' });
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });

  it('gives a newcomer from a quiet IP the place of the busiest IP’s newest entry, and serves IPs in turn', async () => {
    const gate = new PasswordCheckGate({ concurrency: 1, queue: 3, budget: 100, windowMs: 60_000 });
    const order: string[] = [];
    const running = pending('x');
    const head = gate.run('flood', here, running.work);
    const flood = ['f1', 'f2', 'f3'].map((name) =>
      gate.run('flood', here, async () => (order.push(name), name)),
    );
    const mine = gate.run('me', here, async () => (order.push('me'), 'me'));
    expect(await flood[2]).toEqual({ ran: false, refused: 'busy', retryAfter: 1 });
    running.finish();
    await Promise.all([head, mine, flood[0], flood[1]]);
    expect(order).toEqual(['f1', 'me', 'f2']);
  });

  it("serves a clean IP before every suspect one, and gives it a suspect entry's place when full", async () => {
    const gate = new PasswordCheckGate({ concurrency: 1, queue: 4, budget: 100, windowMs: 60_000 });
    const order: string[] = [];
    const running = pending('x');
    const head = gate.run('s1', here, running.work, true);
    const suspects = ['s1', 's2', 's3', 's4'].map((ip) =>
      gate.run(ip, here, async () => (order.push(ip), ip), true),
    );
    // the queue is full of suspect entries: a clean newcomer takes the newest place of the busiest suspect IP
    const mine = gate.run('me', here, async () => (order.push('me'), 'me'));
    const refused = await Promise.race(suspects.map((p, i) => p.then((r) => ({ i, r }))));
    expect(refused.r).toEqual({ ran: false, refused: 'busy', retryAfter: 1 });
    // another suspect newcomer cannot displace the clean entry, nor a suspect IP with as few entries as its own
    expect(await gate.run('s5', here, async () => 's5', true)).toEqual({
      ran: false,
      refused: 'busy',
      retryAfter: 1,
    });
    running.finish();
    await Promise.all([head, mine, ...suspects]);
    expect(order[0]).toBe('me');
    expect(order).toHaveLength(4);
  });

  it('moves the waiting entries of an IP that became suspect while they waited behind clean ones', async () => {
    const suspects = new Set<string>();
    const gate = new PasswordCheckGate({
      concurrency: 1,
      queue: 8,
      budget: 100,
      windowMs: 60_000,
      isSuspect: (ip) => suspects.has(ip),
    });
    const order: string[] = [];
    const running = pending('x');
    const head = gate.run('flood', here, running.work);
    const early = gate.run('flood', here, async () => (order.push('flood'), 'flood'));
    const mine = gate.run('me', here, async () => (order.push('me'), 'me'));
    suspects.add('flood'); // its first checks failed meanwhile
    running.finish();
    await Promise.all([head, early, mine]);
    expect(order).toEqual(['me', 'flood']);
  });

  it('skips a check whose client went away while it waited', async () => {
    const gate = new PasswordCheckGate({ concurrency: 1, queue: 5, budget: 100, windowMs: 60_000 });
    let gone = false;
    let ran = false;
    const running = pending('x');
    const head = gate.run('a', here, running.work);
    const waiting = gate.run(
      'b',
      () => gone,
      async () => (ran = true),
    );
    gone = true;
    running.finish();
    await head;
    expect(await waiting).toEqual({ ran: false, gone: true });
    expect(ran).toBe(false);
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });

  it('starts at most `budget` checks per window, then says how long to wait', async () => {
    let now = 1_000_000;
    const gate = new PasswordCheckGate({
      concurrency: 4,
      queue: 4,
      budget: 2,
      windowMs: 60_000,
      now: () => now,
    });
    expect((await gate.run('a', here, async () => 1)).ran).toBe(true);
    now += 10_000;
    expect((await gate.run('b', here, async () => 2)).ran).toBe(true);
    expect(await gate.run('c', here, async () => 3)).toEqual({
      ran: false,
      refused: 'budget',
      retryAfter: 50,
    });
    now += 50_000;
    expect((await gate.run('c', here, async () => 3)).ran).toBe(true);
  });
});
