import type { AuditEmitter } from '../../../src/events/events';
import type { AbuseConfig } from '../../../src/config/config.namespaces';
import { PasswordCheckLimiter, SUSPECT_IP_FAILURES } from '../../../src/users/password-check-limiter';

const config = { rateLimitWindow: 60, loginConcurrency: 1, loginQueue: 8, loginBudget: 1000 } as AbuseConfig;
const audit = { record: async () => undefined } as unknown as AuditEmitter;
const caller = (ip: string) => ({ ip, isGone: () => false });

describe('PasswordCheckLimiter', () => {
  it('makes an IP with failed logins wait behind an IP without (its checks become suspect)', async () => {
    const limiter = new PasswordCheckLimiter(config, audit);
    const failed = (ok: boolean) => !ok;
    for (let i = 0; i < SUSPECT_IP_FAILURES; i++)
      expect(await limiter.run(caller('attacker'), async () => false, failed)).toEqual({
        ran: true,
        value: false,
      });

    let finish!: () => void;
    const running = limiter.run(
      caller('someone'),
      () => new Promise<boolean>((r) => (finish = () => r(true))),
    );
    const order: string[] = [];
    const attacker = limiter.run(caller('attacker'), async () => (order.push('attacker'), false), failed);
    const user = limiter.run(caller('user'), async () => (order.push('user'), true), failed);
    finish();
    await Promise.all([running, attacker, user]);
    expect(order).toEqual(['user', 'attacker']);
  });

  it('does not count successful checks as failures', async () => {
    const limiter = new PasswordCheckLimiter(config, audit);
    for (let i = 0; i < SUSPECT_IP_FAILURES + 2; i++)
      await limiter.run(
        caller('office'),
        async () => true,
        (ok: boolean) => !ok,
      );
    let finish!: () => void;
    const running = limiter.run(caller('x'), () => new Promise<boolean>((r) => (finish = () => r(true))));
    const order: string[] = [];
    const office = limiter.run(caller('office'), async () => (order.push('office'), true));
    const other = limiter.run(caller('other'), async () => (order.push('other'), true));
    finish();
    await Promise.all([running, office, other]);
    expect(order).toEqual(['office', 'other']);
  });

  it('counts a client that left before its check ran as a failure of its IP', async () => {
    const limiter = new PasswordCheckLimiter(config, audit);
    let finish!: () => void;
    const running = limiter.run(caller('x'), () => new Promise<boolean>((r) => (finish = () => r(true))));
    let gone = false;
    const abandoned = limiter.run({ ip: 'burst', isGone: () => gone }, async () => true);
    gone = true;
    finish();
    expect(await abandoned).toEqual({ ran: false, gone: true });
    await running;

    const hold = limiter.run(caller('x'), () => new Promise<boolean>((r) => (finish = () => r(true))));
    const order: string[] = [];
    const burst = limiter.run(caller('burst'), async () => (order.push('burst'), true));
    const user = limiter.run(caller('user'), async () => (order.push('user'), true));
    finish();
    await Promise.all([hold, burst, user]);
    expect(order).toEqual(['user', 'burst']);
  });
});
