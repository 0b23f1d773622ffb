import { INSERT_CODE_FOR_SESSION_SQL } from '../../src/authorization/authorization-codes.sql';
import { TAKE_PUSHED_SQL } from '../../src/authorization/pushed-requests.sql';
import { INTROSPECTION_SQL } from '../../src/tokens/introspection.repository';
import { ROTATION_BATCH_SQL } from '../../src/tokens/tokens.sql';
import { FIND_LIVE_SESSION_SQL } from '../../src/users/session-sql';
import { createTestApp, TestApp } from '../helpers/test-app';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/**
 * The hot statements reach their rows through an index condition on the key they look up. Sequential scans
 * are disabled for the check, so that the plan does not depend on the size of the test's tables; a key that
 * cannot be used as an index condition (say, a char(64) column compared with a `text` parameter) then shows
 * up as a Filter on some other scan.
 */
describe('query plans of the hot statements', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  async function plan(sqlText: string, args: string): Promise<PlanNode[]> {
    const runner = t.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SET enable_seqscan = off');
      await runner.query(`PREPARE plan_check AS ${sqlText}`);
      const [row] = await runner.query(`EXPLAIN (FORMAT JSON) EXECUTE plan_check(${args})`);
      const json = typeof row['QUERY PLAN'] === 'string' ? JSON.parse(row['QUERY PLAN']) : row['QUERY PLAN'];
      return nodesOf(json[0].Plan as PlanNode);
    } finally {
      await runner.query('DEALLOCATE ALL');
      await runner.query('RESET enable_seqscan');
      await runner.release();
    }
  }

  const SESSION_ARGS = `'${'a'.repeat(64)}', 1800, 60`;
  /** A staged audit row (audit/audit-sql.ts) as the statement's jsonb parameter: its insert is in the plan too. */
  const STAGED = (type: string) =>
    `'${JSON.stringify({ type, outcome: 'success', occurred_at: new Date().toISOString(), details: {} })}'`;
  const scanned = (nodes: PlanNode[]) =>
    nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
  /** The session key is an index condition wherever it is used, never a filter over other rows. */
  const sessionKeyIndexed = (nodes: PlanNode[]) =>
    nodes.some((n) => n['Index Cond']?.includes('id_hash')) &&
    !nodes.some((n) => n.Filter?.includes('id_hash'));

  it('finds the live session by its primary key (and touches it the same way)', async () => {
    const nodes = await plan(FIND_LIVE_SESSION_SQL, SESSION_ARGS);
    expect(scanned(nodes)).toEqual([]);
    expect(sessionKeyIndexed(nodes)).toBe(true);
  });

  it('authorize: session, consent and code insert without a sequential scan', async () => {
    const nodes = await plan(
      INSERT_CODE_FOR_SESSION_SQL,
      `${SESSION_ARGS}, '${'b'.repeat(64)}', 'client', 'http://127.0.0.1/cb', 'api:read', 'challenge', 60, true, 'nonce', 300, NULL, ${STAGED('authorization.requested')}, ${STAGED('authorization_code.issued')}`,
    );
    expect(scanned(nodes)).toEqual([]);
    expect(sessionKeyIndexed(nodes)).toBe(true);
    // the remembered consent: by its primary key (user, client), not a filter over the user's consents
    expect(nodes.some((n) => n['Index Cond']?.includes('client_id'))).toBe(true);
  });

  /** The relations a plan reads through an index. */
  const indexed = (nodes: PlanNode[]) =>
    new Set(nodes.filter((n) => n['Index Name']).map((n) => n['Relation Name']));

  it('introspection: the token’s grant, client, user and revocation by their keys, with its event insert', async () => {
    const uuid = () => `'${crypto.randomUUID()}'`;
    const args = [uuid(), uuid(), STAGED('token.introspected'), uuid(), uuid(), 'NULL'].join(', ');
    const nodes = await plan(INTROSPECTION_SQL.get(2)!, args);
    expect(scanned(nodes)).toEqual([]);
    expect([...indexed(nodes)]).toEqual(
      expect.arrayContaining(['grants', 'clients', 'users', 'revoked_access_tokens']),
    );
  });

  it('refresh rotation, shared: each token by its primary key, with its event insert', async () => {
    const row = (i: number) => [
      `'${String(i).repeat(64)}'`,
      "'client'",
      `'${'f'.repeat(63)}${i}'`,
      'NULL',
      'NULL',
      STAGED('token.issued'),
    ];
    const args = [1, 2, 3, 4].flatMap(row).join(', ');
    const nodes = await plan(ROTATION_BATCH_SQL.get(4)!, args);
    expect(scanned(nodes)).toEqual([]);
    // each token by the primary key (the grant's join is planned at scale: bench/SCALE-PLANS.md)
    expect(
      nodes.some(
        (n) => n['Index Name'] === 'refresh_tokens_pkey' && n['Index Cond']?.includes('k.token_hash'),
      ),
    ).toBe(true);
  });

  it('pushed requests, shared take: each request by its primary key', async () => {
    const args = [1, 2, 3, 4].flatMap((i) => [`'${String(i).repeat(64)}'`, "'client'"]).join(', ');
    const nodes = await plan(TAKE_PUSHED_SQL.get(4)!, args);
    expect(scanned(nodes)).toEqual([]);
    expect(
      nodes.some(
        (n) =>
          n['Index Name'] === 'pushed_authorization_requests_pkey' && n['Index Cond']?.includes('id_hash'),
      ),
    ).toBe(true);
  });
});
