import { csvRecord, neutralizeCell } from '../../../src/audit/audit-csv';
import type { AuditEventView } from '../../../src/audit/audit-events.repository';
import { REPORT_RULES } from '../../../src/audit/rules';
import { resolveThresholds } from '../../../src/audit/rules/report-rule';
import { failuresChart, renderSecurityReport } from '../../../src/audit/security-report.html';
import { bucketSize, type SecurityReport } from '../../../src/audit/security-report.service';

const HOUR = 3600_000;

describe('security report presentation', () => {
  describe('bucketSize', () => {
    it.each([
      [1, 120],
      [4, 300],
      [24, 1800],
      [48, 3600],
      [24 * 7, 6 * 3600],
      [24 * 30, 86400],
      [24 * 366, 8 * 86400],
    ])('%i hours → %i s buckets (≤ 48 bars)', (hours, seconds) => {
      const from = new Date('2025-01-01T00:00:00Z');
      expect(bucketSize({ from, to: new Date(from.getTime() + hours * HOUR) })).toBe(seconds);
    });
  });

  describe('failuresChart', () => {
    const from = new Date('2025-01-01T00:00:00Z');
    const to = new Date('2025-01-02T00:00:00Z');

    it('draws one bar per bucket with failures, scaled to the largest', () => {
      const svg = failuresChart(from, to, 3600, [
        { start: new Date(from.getTime() + 2 * HOUR), events: 50, failures: 10 },
        { start: new Date(from.getTime() + 5 * HOUR), events: 50, failures: 5 },
        { start: new Date(from.getTime() + 6 * HOUR), events: 50, failures: 0 },
      ]);
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.match(/<rect /g)).toHaveLength(2);
      expect(svg).toContain('height="200.0"'); // the largest bar fills the plot
      expect(svg).toContain('height="100.0"');
      expect(svg).toContain('aria-label="Failures per hour: 15 in total');
    });

    it('draws an empty chart for a window without events', () => {
      const svg = failuresChart(from, to, 3600, []);
      expect(svg).not.toContain('<rect');
      expect(svg).toContain('</svg>');
    });
  });

  describe('renderSecurityReport', () => {
    const report: SecurityReport = {
      window: { from: '2025-01-01T00:00:00.000Z', to: '2025-01-02T00:00:00.000Z' },
      total_requests: 120,
      failures: 30,
      failure_rate: 0.25,
      by_type: { 'login.failed': 30, '<img src=x>': 1 },
      findings: [
        {
          rule: 'client_secret_guessing',
          severity: 'high',
          subject: { type: 'client_id', value: '<script>alert(1)</script>' },
          count: 7,
          first_seen: '2025-01-01T01:00:00.000Z',
          last_seen: '2025-01-01T02:00:00.000Z',
          description: 'client_id "<script>alert(1)</script>": 7 wrong client secrets',
          sample_event_ids: ['12', '11'],
        },
      ],
      suspicious_patterns: ['client_id "<script>alert(1)</script>": 7 wrong client secrets'],
    };
    const rules = REPORT_RULES.map((rule) => ({ rule, thresholds: resolveThresholds(rule, {}) }));
    const html = renderSecurityReport(
      report,
      {
        bucketSeconds: 3600,
        buckets: [{ start: new Date('2025-01-01T01:00:00Z'), events: 60, failures: 30 }],
      },
      rules,
    );

    it('is a complete page with the summary numbers, a chart and the findings table', () => {
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).toContain('<b>120</b>');
      expect(html).toContain('<b>30</b>');
      expect(html).toContain('<b>25.0%</b>');
      expect(html).toContain('<svg');
      expect(html).toContain('client_secret_guessing');
      expect(html).toContain('12, 11');
      for (const r of REPORT_RULES) expect(html).toContain(r.name);
    });

    it('escapes every value (client ids and descriptions are attacker-supplied)', () => {
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('<img src=x>');
      expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    });

    it('has no script at all (works without JavaScript, passes the CSP)', () => {
      expect(html).not.toMatch(/<script|javascript:|\son\w+=/i);
    });
  });

  describe('CSV cells', () => {
    it.each([
      ['=1+1', "'=1+1"],
      ['+cmd', "'+cmd"],
      ['-2', "'-2"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\tx', "'\tx"],
      ['curl/8.0', 'curl/8.0'],
    ])('%p → %p', (input, output) => {
      expect(neutralizeCell(input)).toBe(output);
    });

    it('writes details as JSON and keeps nulls empty', () => {
      const e: AuditEventView = {
        id: '1',
        occurred_at: '2025-01-01T00:00:00.000Z',
        type: 'login.failed',
        outcome: 'failure',
        error_code: null,
        client_id: '=evil',
        subject: null,
        ip: '192.0.2.1',
        user_agent: null,
        duration_ms: 4,
        request_id: 'r',
        details: { reason: 'invalid_credentials' },
      };
      expect(csvRecord(e)).toMatchObject({
        client_id: "'=evil",
        subject: null,
        duration_ms: 4,
        details: '{"reason":"invalid_credentials"}',
      });
    });
  });
});
