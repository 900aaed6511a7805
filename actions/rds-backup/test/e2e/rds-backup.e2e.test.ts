// End to end: the built dist/index.js, run exactly as the GitHub runner runs it, against the sandbox's RDS
// endpoint (real Query/XML protocol, SigV4 checked) configured only through the environment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
// The sandbox package does not export its AWS endpoints from its entry yet.
import { startAwsSandbox, type AwsSandbox } from '../../../../packages/sandbox/src/aws/index.js';

const action = 'actions/rds-backup';
// runStep's default run: example-org/planner-app at 0123456…, run 1234567890, attempt 1.
const RUN_ID = '1234567890';
const SHORT_SHA = '0123456';

let sandbox: AwsSandbox;

beforeAll(async () => {
  // 1 simulated second = 1 real ms; databases below set how long their snapshots take.
  sandbox = await startAwsSandbox({ timeScale: 0.001 });
});

afterAll(async () => {
  await sandbox.stop();
});

function step(
  inputs: Record<string, string>,
  more: Partial<Parameters<typeof runStep>[0]> = {},
): Promise<RunResult> {
  return runStep({
    action,
    inputs: { 'poll-interval': '200ms', ...inputs },
    ...more,
    env: { ...sandbox.env(), ...more.env },
  });
}

function errors(result: RunResult): string {
  return result.annotations
    .filter((a) => a.level === 'error')
    .map((a) => `${a.title ?? ''}: ${a.message}`)
    .join('\n');
}

function rdsCalls(action: string): number {
  return sandbox.requests.filter((r) => r.service === 'rds' && r.action === action && r.status === 200)
    .length;
}

function tagsOf(snapshot: { tags: Array<{ Key: string; Value: string }> }): Record<string, string> {
  return Object.fromEntries(snapshot.tags.map((t) => [t.Key, t.Value]));
}

describe('rds-backup (built dist through the runner harness, sandbox RDS)', () => {
  it('snapshots a DB instance, waits for it and reports outputs, tags and the restore command', async () => {
    sandbox.rds.addInstance({ id: 'e2e-instance', snapshotSeconds: 1500 });
    const result = await step({
      'db-instance-identifier': 'e2e-instance',
      tags: 'team=platform\nticket=OPS-42',
    });
    expect(errors(result)).toBe('');
    expect(result.exitCode).toBe(0);
    const id = `pre-deploy-planner-app-e2e-instance-${SHORT_SHA}-${RUN_ID}`;
    expect(result.outputs).toMatchObject({
      'snapshot-identifier': id,
      'snapshot-arn': `arn:aws:rds:us-east-1:123456789012:snapshot:${id}`,
      status: 'available',
      reused: 'false',
      'deleted-snapshots': '[]',
    });
    expect(Number(result.outputs['duration-seconds'])).toBeGreaterThanOrEqual(1);
    const stored = sandbox.rds.snapshots.filter((s) => s.sourceId === 'e2e-instance');
    expect(stored.map((s) => s.id)).toEqual([id]);
    expect(tagsOf(stored[0]!)).toEqual({
      team: 'platform',
      ticket: 'OPS-42',
      'planner-deploy:created-by': 'rds-backup',
      'planner-deploy:database': 'e2e-instance',
      'planner-deploy:repository': 'example-org/planner-app',
      'planner-deploy:sha': '0123456789abcdef0123456789abcdef01234567',
      'planner-deploy:run-id': RUN_ID,
      'planner-deploy:run-attempt': '1',
      'planner-deploy:run-url': `https://github.com/example-org/planner-app/actions/runs/${RUN_ID}`,
    });
    expect(result.summary).toContain(
      `aws rds restore-db-instance-from-db-snapshot --region us-east-1 --db-instance-identifier <new-instance-id> --db-snapshot-identifier ${id}`,
    );
    expect(result.summary).toContain('team=platform');
    expect(result.summary).toContain('DB instance "e2e-instance"');
  });

  it('snapshots an Aurora DB cluster with a DB cluster snapshot (identifier lower case, ≤ 63)', async () => {
    sandbox.rds.addCluster({ id: 'e2e-aurora', members: ['e2e-aurora-1'], snapshotSeconds: 800 });
    const result = await step({ 'db-cluster-identifier': 'E2E-Aurora' });
    expect(errors(result)).toBe('');
    expect(result.exitCode).toBe(0);
    const id = result.outputs['snapshot-identifier']!;
    expect(id).toBe(`pre-deploy-planner-app-e2e-aurora-${SHORT_SHA}-${RUN_ID}`);
    expect(id.length).toBeLessThanOrEqual(63);
    expect(result.outputs['snapshot-arn']).toBe(`arn:aws:rds:us-east-1:123456789012:cluster-snapshot:${id}`);
    expect(result.outputs.status).toBe('available');
    expect(sandbox.rds.clusterSnapshots.filter((s) => s.sourceId === 'e2e-aurora').map((s) => s.id)).toEqual([
      id,
    ]);
    expect(sandbox.rds.snapshots.filter((s) => s.sourceId.startsWith('e2e-aurora'))).toEqual([]);
    expect(result.summary).toContain(`aws rds restore-db-cluster-from-snapshot --region us-east-1`);
    expect(result.summary).toContain(`--snapshot-identifier ${id} --engine aurora-postgresql`);
  });

  it('a re-run (same run id, attempt 2) reuses the first attempt’s snapshot and never takes a second', async () => {
    sandbox.rds.addInstance({ id: 'e2e-rerun', snapshotSeconds: 2000 });
    const createsBefore = rdsCalls('CreateDBSnapshot');
    // Attempt 1 only starts the snapshot (as if the job failed later and was re-run).
    const first = await step({ 'db-instance-identifier': 'e2e-rerun', wait: 'false' });
    expect(first.exitCode).toBe(0);
    expect(first.outputs.status).toBe('creating');
    expect(first.outputs.reused).toBe('false');
    // RDS reports the instance "backing-up" while its snapshot runs; the re-run must not trip over that.
    sandbox.rds.setInstanceStatus('e2e-rerun', 'backing-up');
    const second = await step(
      { 'db-instance-identifier': 'e2e-rerun' },
      { env: { GITHUB_RUN_ATTEMPT: '2' } },
    );
    expect(errors(second)).toBe('');
    expect(second.exitCode).toBe(0);
    expect(second.outputs['snapshot-identifier']).toBe(first.outputs['snapshot-identifier']);
    expect(second.outputs.reused).toBe('true');
    expect(second.outputs.status).toBe('available');
    expect(second.summary).toMatch(/reused/);
    // Attempt 3, after it is available: still the same one.
    sandbox.rds.setInstanceStatus('e2e-rerun', 'available');
    const third = await step({ 'db-instance-identifier': 'e2e-rerun' }, { env: { GITHUB_RUN_ATTEMPT: '3' } });
    expect(third.exitCode).toBe(0);
    expect(third.outputs['snapshot-identifier']).toBe(first.outputs['snapshot-identifier']);
    const stored = sandbox.rds.snapshots.filter((s) => s.sourceId === 'e2e-rerun');
    expect(stored).toHaveLength(1);
    expect(tagsOf(stored[0]!)['planner-deploy:run-attempt']).toBe('1');
    expect(rdsCalls('CreateDBSnapshot') - createsBefore).toBe(1);
  });

  it('notices availability within one poll interval (the SDK waiter would first look after 30 s)', async () => {
    sandbox.rds.addInstance({ id: 'e2e-latency', snapshotSeconds: 4000 });
    const result = await step({ 'db-instance-identifier': 'e2e-latency', 'poll-interval': '1s' });
    const endedAt = Date.now();
    expect(result.exitCode).toBe(0);
    const [snapshot] = sandbox.rds.snapshots.filter((s) => s.sourceId === 'e2e-latency');
    const availableAt = snapshot!.createdAt.getTime() + snapshot!.durationMs;
    // One interval, plus the process writing its outputs and exiting on a busy machine: far from the 30 s
    // the SDK waiter waits before its first look.
    expect(endedAt - availableAt).toBeGreaterThan(0);
    expect(endedAt - availableAt).toBeLessThan(1000 + 6000);
  });

  it('a new run of the workflow takes a new snapshot', async () => {
    sandbox.rds.addInstance({ id: 'e2e-newrun', snapshotSeconds: 100 });
    const a = await step({ 'db-instance-identifier': 'e2e-newrun' });
    const b = await step(
      { 'db-instance-identifier': 'e2e-newrun' },
      { env: { GITHUB_RUN_ID: '1234567999' } },
    );
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    expect(b.outputs['snapshot-identifier']).not.toBe(a.outputs['snapshot-identifier']);
    expect(sandbox.rds.snapshots.filter((s) => s.sourceId === 'e2e-newrun')).toHaveLength(2);
  });

  it.each([
    ['modifying', /"modifying", not "available"/],
    ['backing-up', /"backing-up", not "available".*backup is in progress/],
  ])('refuses a database that is %s with a clear error and takes no snapshot', async (status, message) => {
    const id = `e2e-${status}`;
    sandbox.rds.addInstance({ id, status });
    const createsBefore = rdsCalls('CreateDBSnapshot');
    const result = await step({ 'db-instance-identifier': id });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toMatch(/^Database not available: /);
    expect(errors(result)).toMatch(message);
    expect(errors(result)).toContain(`DB instance "${id}"`);
    expect(rdsCalls('CreateDBSnapshot')).toBe(createsBefore);
    expect(sandbox.rds.snapshots.filter((s) => s.sourceId === id)).toEqual([]);
    expect(result.summary).toContain('RDS backup failed: Database not available');
    expect(result.summary).toContain(`"${status}"`);
  });

  it('says a database that does not exist was not found', async () => {
    const result = await step({ 'db-instance-identifier': 'e2e-missing' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toMatch(/DB instance "e2e-missing" was not found in us-east-1/);
  });

  it('fails the step when the snapshot ends failed, with the status in the outputs and the error', async () => {
    sandbox.rds.addInstance({ id: 'e2e-fails', snapshotSeconds: 600 });
    sandbox.rds.setFaults({ nextSnapshotFails: true });
    const result = await step({ 'db-instance-identifier': 'e2e-fails' });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.status).toBe('failed');
    expect(errors(result)).toMatch(/^Snapshot failed: .*ended with status "failed"/);
    expect(errors(result)).toContain(
      'aws rds delete-db-snapshot --db-snapshot-identifier pre-deploy-planner-app-e2e-fails-',
    );
    expect(result.summary).toContain('failed');
  });

  it('survives throttling (every other request answered Throttling)', async () => {
    sandbox.rds.addInstance({ id: 'e2e-throttled', snapshotSeconds: 1500 });
    const throttledBefore = sandbox.rds.throttled;
    sandbox.rds.setFaults({ throttle: 0.5 });
    try {
      const result = await step({ 'db-instance-identifier': 'e2e-throttled', retain: '3' });
      expect(errors(result)).toBe('');
      expect(result.exitCode).toBe(0);
      expect(result.outputs.status).toBe('available');
    } finally {
      sandbox.rds.setFaults({ throttle: 0 });
    }
    expect(sandbox.rds.throttled - throttledBefore).toBeGreaterThanOrEqual(3);
    expect(sandbox.rds.snapshots.filter((s) => s.sourceId === 'e2e-throttled')).toHaveLength(1);
  });

  it('times out with the snapshot still creating, and says it continues', async () => {
    sandbox.rds.addInstance({ id: 'e2e-slow', snapshotSeconds: 3_600_000 });
    const result = await step({
      'db-instance-identifier': 'e2e-slow',
      timeout: '2s',
      'poll-interval': '500ms',
    });
    expect(result.exitCode).toBe(1);
    expect(result.durationMs).toBeGreaterThanOrEqual(2000);
    expect(result.durationMs).toBeLessThan(10_000);
    expect(result.outputs.status).toBe('creating');
    expect(result.outputs['snapshot-identifier']).toMatch(/^pre-deploy-planner-app-e2e-slow-/);
    expect(errors(result)).toMatch(
      /^Snapshot not ready in time: .*still "creating".*after the timeout of 2\.00s.*continues in RDS/,
    );
    const [left] = sandbox.rds.snapshots.filter((s) => s.sourceId === 'e2e-slow');
    expect(left && sandbox.rds.status(left)).toBe('creating');
  });

  it('on cancel stops waiting at once and names the snapshot that continues in RDS', async () => {
    sandbox.rds.addInstance({ id: 'e2e-cancel', snapshotSeconds: 3_600_000 });
    const result = await step(
      { 'db-instance-identifier': 'e2e-cancel', 'poll-interval': '5s' },
      { cancel: { whenLog: /^Snapshot \S+: creating/ } },
    );
    expect(result.exitCode).toBe(1);
    expect(result.exitAfterCancelMs).toBeDefined();
    expect(result.exitAfterCancelMs!).toBeLessThan(2000);
    const id = result.outputs['snapshot-identifier']!;
    expect(id).toMatch(/^pre-deploy-planner-app-e2e-cancel-/);
    expect(result.outputs.status).toBe('creating');
    expect(errors(result)).toMatch(
      new RegExp(`^Cancelled: Stopped waiting for snapshot ${id} .*continues in RDS`),
    );
    const [left] = sandbox.rds.snapshots.filter((s) => s.sourceId === 'e2e-cancel');
    expect(left && sandbox.rds.status(left)).toBe('creating');
  });

  it('retain keeps exactly N of ours for that database and touches nothing else', async () => {
    sandbox.rds.addInstance({ id: 'e2e-retain', snapshotSeconds: 200 });
    sandbox.rds.addInstance({ id: 'e2e-retain-other' });
    const ours = (db: string) => [
      { Key: 'planner-deploy:created-by', Value: 'rds-backup' },
      { Key: 'planner-deploy:database', Value: db },
    ];
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
    for (const [id, h] of [
      ['ours-1h', 1],
      ['ours-2h', 2],
      ['ours-3h', 3],
      ['ours-4h', 4],
    ] as const) {
      sandbox.rds.addSnapshot({
        id,
        sourceId: 'e2e-retain',
        createdAt: hoursAgo(h),
        tags: ours('e2e-retain'),
      });
    }
    const untouchable = [
      sandbox.rds.addSnapshot({
        id: 'dba-manual',
        sourceId: 'e2e-retain',
        createdAt: hoursAgo(10),
        tags: [{ Key: 'owner', Value: 'dba' }],
      }),
      sandbox.rds.addSnapshot({ id: 'no-tags-manual', sourceId: 'e2e-retain', createdAt: hoursAgo(20) }),
      sandbox.rds.addSnapshot({
        id: 'rds:e2e-retain-2026-11-26',
        sourceId: 'e2e-retain',
        type: 'automated',
        createdAt: hoursAgo(30),
        tags: ours('e2e-retain'),
      }),
      sandbox.rds.addSnapshot({
        id: 'ours-other-db',
        sourceId: 'e2e-retain-other',
        createdAt: hoursAgo(40),
        tags: ours('e2e-retain-other'),
      }),
      sandbox.rds.addSnapshot({
        id: 'tag-names-other-db',
        sourceId: 'e2e-retain',
        createdAt: hoursAgo(50),
        tags: ours('e2e-retain-other'),
      }),
    ].map((s) => s.id);

    const result = await step({ 'db-instance-identifier': 'e2e-retain', retain: '2' });
    expect(errors(result)).toBe('');
    expect(result.exitCode).toBe(0);
    const id = result.outputs['snapshot-identifier']!;
    expect(JSON.parse(result.outputs['deleted-snapshots']!)).toEqual(['ours-2h', 'ours-3h', 'ours-4h']);
    const remaining = sandbox.rds.snapshots.map((s) => s.id);
    const oursLeft = sandbox.rds.snapshots
      .filter(
        (s) =>
          s.sourceId === 'e2e-retain' &&
          s.type === 'manual' &&
          tagsOf(s)['planner-deploy:database'] === 'e2e-retain',
      )
      .map((s) => s.id)
      .sort();
    expect(oursLeft).toEqual([id, 'ours-1h'].sort());
    for (const other of untouchable) expect(remaining).toContain(other);
    expect(result.summary).toMatch(/deleted 3/);
    expect(result.summary).toContain(
      'Not touched: 3 other manual snapshots of the database and every automated one.',
    );
  });

  describe('bad inputs fail before any request reaches the sandbox', () => {
    it.each<[string, Record<string, string>, RegExp]>([
      [
        'db-instance-identifier',
        { 'db-instance-identifier': '1-starts-with-digit' },
        /must start with a letter/,
      ],
      ['db-cluster-identifier', { 'db-cluster-identifier': 'two--hyphens' }, /two consecutive hyphens/],
      ['db-instance-identifier', { 'db-instance-identifier': 'a', 'db-cluster-identifier': 'b' }, /both set/],
      ['db-instance-identifier', {}, /or "db-cluster-identifier" is required/],
      [
        'snapshot-identifier',
        { 'db-instance-identifier': 'db', 'snapshot-identifier': 'under_score' },
        /only ASCII letters/,
      ],
      [
        'snapshot-identifier',
        { 'db-cluster-identifier': 'db', 'snapshot-identifier': 'a'.repeat(64) },
        /more than the 63 allowed/,
      ],
      [
        'snapshot-prefix',
        { 'db-instance-identifier': 'db', 'snapshot-prefix': 'pre-' },
        /must not end with a hyphen/,
      ],
      ['tags', { 'db-instance-identifier': 'db', tags: 'no-equals-sign' }, /key=value/],
      ['tags', { 'db-instance-identifier': 'db', tags: 'planner-deploy:database=other' }, /reserved/],
      ['wait', { 'db-instance-identifier': 'db', wait: 'yes' }, /expected true or false/],
      ['timeout', { 'db-instance-identifier': 'db', timeout: '30' }, /for seconds write "30s"/],
      ['poll-interval', { 'db-instance-identifier': 'db', 'poll-interval': '10ms' }, /at least 200ms/],
      ['retain', { 'db-instance-identifier': 'db', retain: '0' }, /whole number from 1 to 100/],
      ['region', { 'db-instance-identifier': 'db', region: 'mars-north' }, /AWS region such as us-east-1/],
    ])('%s: %j', async (name, inputs, message) => {
      const before = sandbox.requests.length;
      const result = await step(inputs);
      expect(result.exitCode).toBe(1);
      const error = result.annotations.find((a) => a.level === 'error');
      expect(error?.title).toMatch(new RegExp(`input: ${name}$`));
      expect(error?.message).toContain(`"${name}"`);
      expect(error?.message).toMatch(message);
      expect(sandbox.requests.length).toBe(before);
    });

    it('snapshot-identifier is required outside GitHub Actions (no GITHUB_RUN_ID)', async () => {
      const before = sandbox.requests.length;
      const result = await step({ 'db-instance-identifier': 'db' }, { env: { GITHUB_RUN_ID: '' } });
      expect(result.exitCode).toBe(1);
      expect(errors(result)).toMatch(/Input "snapshot-identifier" is required outside GitHub Actions/);
      expect(sandbox.requests.length).toBe(before);
    });
  });
});
