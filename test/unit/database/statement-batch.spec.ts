import { eachAloneIfRefused, firstUseOfEachKey } from '../../../src/database/statement-batch';

/** The pure parts of statement batching: the fallback when a shared statement is refused, and single-use keys. */
describe('statement batching helpers', () => {
  const warnings: string[] = [];
  const logger = {
    log: () => undefined,
    error: () => undefined,
    warn: (m: unknown) => void warnings.push(String(m)),
  };
  beforeEach(() => (warnings.length = 0));

  const refused = Object.assign(new Error('value too long'), { code: '22001' });
  /** a fake statement: doubles each number; refuses any batch that holds a negative one */
  const statement = (sent: number[][]) => async (calls: readonly number[]) => {
    sent.push([...calls]);
    if (calls.some((n) => n < 0)) throw refused;
    return calls.map((n) => n * 2);
  };

  describe('eachAloneIfRefused', () => {
    it('answers a batch from one statement when the database takes it', async () => {
      const sent: number[][] = [];
      expect(await eachAloneIfRefused(logger, 'x', [1, 2, 3], statement(sent))).toEqual([2, 4, 6]);
      expect(sent).toEqual([[1, 2, 3]]);
      expect(warnings).toEqual([]);
    });

    it('runs each call alone after a refusal, so that only the refused call fails', async () => {
      const sent: number[][] = [];
      const results = await eachAloneIfRefused(logger, 'x', [1, -1, 3], statement(sent));
      expect(results).toEqual([2, refused, 6]);
      expect(sent).toEqual([[1, -1, 3], [1], [-1], [3]]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('a shared statement (x) of 3 calls failed (value too long)');
      expect(warnings[0]).not.toContain('-1');
    });

    it('fails the whole batch when the database cannot be reached or the statement timed out', async () => {
      for (const code of ['ECONNREFUSED', '57014']) {
        const down = Object.assign(new Error('down'), { code });
        let calls = 0;
        await expect(
          eachAloneIfRefused(logger, 'x', [1, 2], async () => {
            calls++;
            throw down;
          }),
        ).rejects.toBe(down);
        expect(calls).toBe(1);
      }
    });

    it('lets a refused statement of one call fail that call (nothing to retry)', async () => {
      const sent: number[][] = [];
      await expect(eachAloneIfRefused(logger, 'x', [-1], statement(sent))).rejects.toBe(refused);
      expect(sent).toEqual([[-1]]);
    });
  });

  describe('firstUseOfEachKey', () => {
    it('sends each key once and answers its repeats with `repeat`, the first use getting the answer', async () => {
      const sent: string[][] = [];
      const results = await firstUseOfEachKey(
        ['a', 'b', 'a', 'c', 'b', 'a'],
        (k) => k,
        async (distinct) => {
          sent.push([...distinct]);
          return distinct.map((k) => `took ${k}`);
        },
        'repeat',
      );
      expect(sent).toEqual([['a', 'b', 'c']]);
      expect(results).toEqual(['took a', 'took b', 'repeat', 'took c', 'repeat', 'repeat']);
    });

    it('keeps an error for the first use of its key only', async () => {
      const boom = new Error('refused');
      const results = await firstUseOfEachKey(
        ['a', 'a', 'b'],
        (k) => k,
        async () => [boom, true],
        false,
      );
      expect(results).toEqual([boom, false, true]);
    });
  });
});
