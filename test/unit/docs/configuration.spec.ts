import { readFileSync } from 'node:fs';
import { loadEnvironment } from '../../../src/config/environment';

/**
 * The variables loadEnvironment (src/config/environment.ts, the one place settings are parsed and validated)
 * reads: it is called with a recording proxy as its environment. The REPORT_<RULE>_<NAME> family is read by
 * enumerating the environment, so it appears as its pattern.
 */
function variablesTheCodeReads(): Set<string> {
  const read = new Set<string>();
  let enumerated = false;
  const env = {
    NODE_ENV: 'production', // no development secrets file is written
    KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64url'),
    SESSION_SECRET: Buffer.alloc(32, 9).toString('base64url'),
    DATABASE_URL: 'pglite://memory',
  } as Record<string, string | undefined>;
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return target[name as string];
    },
    ownKeys(target) {
      enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
  loadEnvironment(recording);
  if (enumerated) read.add('REPORT_<RULE>_<NAME>');
  return read;
}

/** The first cell's variable name of every row of docs/configuration.md's tables. */
function variablesThePageLists(): string[] {
  const page = readFileSync('docs/configuration.md', 'utf8');
  const names: string[] = [];
  for (const line of page.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| name ')) continue;
    const first = line.split('|')[1];
    const m = /`([A-Z][A-Z0-9_<>]*)`/.exec(first);
    if (m) names.push(m[1]);
  }
  return names;
}

describe('docs/configuration.md: the one list of settings', () => {
  const code = variablesTheCodeReads();
  const page = variablesThePageLists();

  it('lists every setting exactly once', () => {
    const repeated = page.filter((name, i) => page.indexOf(name) !== i);
    expect(repeated).toEqual([]);
  });

  it('lists exactly the variables the code reads', () => {
    expect(code.size).toBeGreaterThan(50);
    const missingFromPage = [...code].filter((name) => !page.includes(name)).sort();
    const notInCode = page.filter((name) => !code.has(name)).sort();
    expect({ missingFromPage, notInCode }).toEqual({ missingFromPage: [], notInCode: [] });
  });

  it('the REPORT_ family is what the code reads by enumeration', () => {
    const env = loadEnvironment({
      NODE_ENV: 'production',
      KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64url'),
      SESSION_SECRET: Buffer.alloc(32, 9).toString('base64url'),
      DATABASE_URL: 'pglite://memory',
      REPORT_IP_FAILURE_BURST_COUNT: '7',
    });
    expect(env.reportThresholds.ip_failure_burst_count).toBe(7);
  });
});
