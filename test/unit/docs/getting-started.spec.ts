import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** docs/getting-started.md shows scripts/tour.sh's commands verbatim: the tour a reader pastes is the tour CI runs. */
describe('docs/getting-started.md', () => {
  it('contains the body of scripts/tour.sh unchanged', () => {
    const script = readFileSync('scripts/tour.sh', 'utf8');
    const body = script.split('cd "$(dirname "$0")/.."\n')[1].trim();
    const doc = readFileSync('docs/getting-started.md', 'utf8');
    const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)\n```/g)].map((m) => m[1].trim());
    expect(blocks).toContain(body);
  });

  it('derives the S256 challenge of any verifier, also one that starts with "-" (base64url can)', () => {
    const script = readFileSync('scripts/tour.sh', 'utf8');
    const line = script.split('\n').find((l) => l.startsWith('CHALLENGE=$('))!;
    for (const verifier of [
      '-Ref4WmJdnBUy_JOH7OC1auohT39L-4O51_HXdybbOg',
      'plain-verifier_0123456789abcdefghijklmnop',
    ]) {
      const challenge = execFileSync('bash', ['-c', `${line}\nprintf %s "$CHALLENGE"`], {
        env: { ...process.env, VERIFIER: verifier },
        encoding: 'utf8',
      });
      expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
    }
  });
});
