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
});
