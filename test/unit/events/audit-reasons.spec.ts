import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_REASONS } from '../../../src/events/audit-reasons';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Issue 13, finding 5: one taxonomy of reason codes, which the code and the docs share. */
describe('audit reason codes', () => {
  const known = new Set(Object.values(AUDIT_REASONS).flat());

  it('the code emits only reasons of the taxonomy', () => {
    const patterns = [
      /\breason: '([a-z_]+)'/g,
      /\bgrantError\([^;]*?, '([a-z_]+)'/g,
      /new (?:InvalidClient|InvalidRequest|InvalidGrant)\([^;]*?, '([a-z_]+)'\)/g,
    ];
    // outcomes of the bound on password checks, answered 503 and audited as request.rate_limited (limit
    // login_capacity / login_budget): never an audit reason
    const notAuditReasons = new Set(['busy', 'gone']);
    const unknown: string[] = [];
    for (const file of sources(join(process.cwd(), 'src'))) {
      if (file.endsWith('access-token.verifier.ts')) continue; // its `reason`s are verification verdicts
      const text = readFileSync(file, 'utf8');
      for (const pattern of patterns)
        for (const m of text.matchAll(pattern))
          if (!known.has(m[1]) && !notAuditReasons.has(m[1])) unknown.push(`${file}: ${m[1]}`);
    }
    expect(unknown).toEqual([]);
  });

  it('the docs list exactly the taxonomy in the event table', () => {
    const page = readFileSync(join(process.cwd(), 'docs/audit.md'), 'utf8');
    const start = page.indexOf('## Event types and reason codes');
    expect(start).toBeGreaterThan(0);
    const table = page.slice(start, page.indexOf('\n## ', start + 1));
    for (const [type, reasons] of Object.entries(AUDIT_REASONS)) {
      const row = table
        .split('\n')
        .find((line) => line.startsWith('| ') && line.split('|')[1].includes(`\`${type}\``));
      expect(row).toBeDefined();
      const listed = [...row!.split('|')[4].matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
      for (const reason of reasons!)
        expect({ type, reason, listed: listed.includes(reason) }).toEqual({ type, reason, listed: true });
    }
  });
});
