import { bucketCoverage, coverage, rangesSql } from '../../../src/audit/audit-rollup-coverage';

const at = (iso: string) => new Date(iso);
const spans = (ranges: Array<{ from: Date; to: Date }>) =>
  ranges.map((r) => `${r.from.toISOString().slice(5, 16)}–${r.to.toISOString().slice(5, 16)}`);

describe('coverage of a report window by rolled-up days', () => {
  it('reads whole hours of valid days from rollups and everything else from rows', () => {
    const c = coverage({ from: at('2026-03-01T05:17:00Z'), to: at('2026-03-04T02:30:00Z') }, [
      at('2026-03-01T00:00:00Z'),
      at('2026-03-02T00:00:00Z'),
      at('2026-03-04T00:00:00Z'),
    ]);
    // 1 and 2 March are adjacent: one range; 3 March is not rolled up; on 4 March only whole hours
    expect(spans(c.rolledUp)).toEqual(['03-01T06:00–03-03T00:00', '03-04T00:00–03-04T02:00']);
    expect(spans(c.raw)).toEqual([
      '03-01T05:17–03-01T06:00',
      '03-03T00:00–03-04T00:00',
      '03-04T02:00–03-04T02:30',
    ]);
  });

  it('covers every instant of the window exactly once', () => {
    const window = { from: at('2026-03-01T23:59:59.999Z'), to: at('2026-03-09T00:00:00.001Z') };
    const days = [1, 2, 4, 5, 8, 9].map((d) => at(`2026-03-0${d}T00:00:00Z`));
    const c = coverage(window, days);
    const all = [...c.rolledUp, ...c.raw].sort((a, b) => a.from.getTime() - b.from.getTime());
    expect(all[0].from).toEqual(window.from);
    expect(all[all.length - 1].to).toEqual(window.to);
    for (let i = 1; i < all.length; i++) expect(all[i].from).toEqual(all[i - 1].to);
    for (const r of c.rolledUp) expect(r.from.getTime() % 3_600_000).toBe(0);
  });

  it('has nothing rolled up without valid days, or in a window shorter than an hour', () => {
    const w = { from: at('2026-03-01T10:00:00Z'), to: at('2026-03-01T10:59:00Z') };
    expect(coverage(w, [at('2026-03-01T00:00:00Z')])).toEqual({ rolledUp: [], raw: [w] });
    expect(coverage({ from: w.from, to: w.from }, [])).toEqual({ rolledUp: [], raw: [] });
  });

  it('for a timeline, reads from rows the rolled-up hours that a bucket boundary cuts', () => {
    const window = { from: at('2026-03-01T05:17:00Z'), to: at('2026-03-04T05:17:00Z') };
    const c = coverage(window, [at('2026-03-02T00:00:00Z'), at('2026-03-03T00:00:00Z')]);
    // daily buckets from 05:17: the hours 05:00–06:00 of 2 and 3 March hold a boundary
    const b = bucketCoverage(c, window.from, 86_400_000);
    expect(spans(b.rolledUp)).toEqual([
      '03-02T00:00–03-02T05:00',
      '03-02T06:00–03-03T05:00',
      '03-03T06:00–03-04T00:00',
    ]);
    expect(spans(b.raw)).toEqual([
      '03-01T05:17–03-02T00:00',
      '03-02T05:00–03-02T06:00',
      '03-03T05:00–03-03T06:00',
      '03-04T00:00–03-04T05:17',
    ]);
    // buckets of whole hours from a whole hour: nothing cut
    const aligned = { from: at('2026-03-02T00:00:00Z'), to: at('2026-03-04T00:00:00Z') };
    const d = bucketCoverage(
      coverage(aligned, [at('2026-03-02T00:00:00Z'), at('2026-03-03T00:00:00Z')]),
      aligned.from,
      6 * 3_600_000,
    );
    expect(spans(d.rolledUp)).toEqual(['03-02T00:00–03-04T00:00']);
    expect(d.raw).toEqual([]);
  });

  it('writes the ranges as parameters', () => {
    const params: unknown[] = ['x'];
    const ranges = [
      { from: at('2026-03-01T00:00:00Z'), to: at('2026-03-02T00:00:00Z') },
      { from: at('2026-03-03T00:00:00Z'), to: at('2026-03-04T00:00:00Z') },
    ];
    expect(rangesSql('hour', ranges, params)).toBe(
      '(hour >= $2 AND hour < $3) OR (hour >= $4 AND hour < $5)',
    );
    expect(params).toEqual(['x', ranges[0].from, ranges[0].to, ranges[1].from, ranges[1].to]);
    expect(rangesSql('hour', [], params)).toBe('FALSE');
  });
});
