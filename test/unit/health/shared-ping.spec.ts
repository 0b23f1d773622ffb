import type { HealthIndicatorResult } from '@nestjs/terminus';
import { SharedPing } from '../../../src/health/shared-ping';

const up: HealthIndicatorResult = { database: { status: 'up' } };
const down: HealthIndicatorResult = { database: { status: 'down' } };

function fakePing(results: HealthIndicatorResult[]) {
  let calls = 0;
  const pending: Array<() => void> = [];
  const ping = () => {
    const result = results[Math.min(calls++, results.length - 1)];
    return new Promise<HealthIndicatorResult>((resolve) => pending.push(() => resolve(result)));
  };
  return { ping, calls: () => calls, settle: () => pending.splice(0).forEach((f) => f()) };
}

describe('SharedPing (the database ping of /health/ready)', () => {
  it('shares one ping between concurrent callers', async () => {
    const fake = fakePing([up]);
    const shared = new SharedPing(fake.ping, 1000, () => 0);
    const answers = [shared.check(), shared.check(), shared.check()];
    fake.settle();
    expect(await Promise.all(answers)).toEqual([up, up, up]);
    expect(fake.calls()).toBe(1);
  });

  it('answers from a successful ping younger than the max age, refreshing it in the background after half', async () => {
    let now = 0;
    const fake = fakePing([up, up]);
    const shared = new SharedPing(fake.ping, 1000, () => now);
    const first = shared.check();
    fake.settle();
    await first;
    now = 400;
    expect(await shared.check()).toBe(up);
    expect(fake.calls()).toBe(1);
    now = 600; // answered at once, and one background ping starts
    expect(await shared.check()).toBe(up);
    expect(fake.calls()).toBe(2);
  });

  it('waits for a fresh ping once the last success is too old, and never keeps a failure', async () => {
    let now = 0;
    const fake = fakePing([up, down, up]);
    const shared = new SharedPing(fake.ping, 1000, () => now);
    let answer = shared.check();
    fake.settle();
    expect(await answer).toBe(up);
    now = 1500;
    answer = shared.check();
    fake.settle();
    expect(await answer).toBe(down);
    answer = shared.check(); // a failure is not remembered: the next caller pings again
    expect(fake.calls()).toBe(3);
    fake.settle();
    expect(await answer).toBe(up);
  });
});
