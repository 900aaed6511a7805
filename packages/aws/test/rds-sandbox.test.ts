// Integration: the RDS library through the real @aws-sdk/client-rds over HTTP against the sandbox's RDS endpoint
// (Query/XML, SigV4 checked), configured only by AWS_ENDPOINT_URL_RDS and the usual credential variables.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/core';
import { startAwsSandbox, type AwsSandbox } from '../../sandbox/src/aws/index.js';
import { ensureSnapshot } from '../src/rds-backup.js';
import { createRdsContext, type RdsContext } from '../src/rds-client.js';
import { applyRetention } from '../src/rds-retention.js';
import { findSnapshot, listManualSnapshots } from '../src/rds-snapshots.js';
import { backupTags } from '../src/rds-tags.js';
import { waitForSnapshot } from '../src/rds-wait.js';

let sandbox: AwsSandbox;
let context: RdsContext;
const savedEnv = { ...process.env };

beforeAll(async () => {
  sandbox = await startAwsSandbox({ timeScale: 0.001 });
  Object.assign(process.env, sandbox.env());
  context = await createRdsContext({ region: sandbox.region, logger: new MemoryLogger() });
});

afterAll(async () => {
  context.client.destroy();
  await sandbox.stop();
  process.env = savedEnv;
});

describe('RDS library against the sandbox', () => {
  it('creates, waits for and finds an instance snapshot with its tags', async () => {
    sandbox.rds.addInstance({ id: 'itg-db', snapshotSeconds: 300 });
    const database = { kind: 'instance', id: 'itg-db' } as const;
    const tags = { ...backupTags({ database, repository: 'o/r', runAttempt: '1' }), team: 'core' };
    const ensured = await ensureSnapshot(context, { database, snapshotId: 'itg-snap', tags });
    expect(ensured.origin).toBe('created');
    expect(ensured.snapshot.status).toBe('creating');
    const waited = await waitForSnapshot(context, ensured.snapshot, {
      pollIntervalMs: 50,
      timeoutMs: 10_000,
    });
    expect(waited.outcome).toBe('available');
    const found = await findSnapshot(context, 'instance', 'itg-snap');
    expect(found).toMatchObject({
      id: 'itg-snap',
      databaseId: 'itg-db',
      status: 'available',
      type: 'manual',
      arn: 'arn:aws:rds:us-east-1:123456789012:snapshot:itg-snap',
      tags: { team: 'core', 'planner-deploy:created-by': 'rds-backup', 'planner-deploy:database': 'itg-db' },
    });
    expect(found?.createdAt).toBeInstanceOf(Date);
    expect(await findSnapshot(context, 'instance', 'no-such-snapshot')).toBeUndefined();
    // A second ensure (a re-run) reuses it.
    expect((await ensureSnapshot(context, { database, snapshotId: 'itg-snap', tags })).origin).toBe('reused');
  });

  it('lists more than one page of manual snapshots and retention deletes only ours beyond N', async () => {
    sandbox.rds.addInstance({ id: 'itg-many' });
    const database = { kind: 'instance', id: 'itg-many' } as const;
    const ours = Object.entries(backupTags({ database })).map(([Key, Value]) => ({ Key, Value }));
    const base = Date.now() - 1_000_000_000;
    for (let i = 0; i < 130; i++) {
      sandbox.rds.addSnapshot({
        id: `ours-${i}`,
        sourceId: 'itg-many',
        createdAt: new Date(base + i * 60_000),
        tags: ours,
      });
    }
    for (let i = 0; i < 20; i++) {
      sandbox.rds.addSnapshot({
        id: `theirs-${i}`,
        sourceId: 'itg-many',
        createdAt: new Date(base + i * 60_000),
      });
    }
    sandbox.rds.addSnapshot({ id: 'rds:itg-many-auto', sourceId: 'itg-many', type: 'automated', tags: ours });
    const listed = await listManualSnapshots(context, database);
    expect(listed).toHaveLength(150);
    expect(listed[0]?.id).toBe('ours-129');

    const current = listed[0]!;
    const result = await applyRetention(context, database, current, 5);
    expect(result.kept).toEqual(['ours-129', 'ours-128', 'ours-127', 'ours-126', 'ours-125']);
    expect(result.deleted).toHaveLength(125);
    expect(result.failed).toEqual([]);
    expect(result.untouched).toBe(20);
    const left = sandbox.rds.snapshots.filter((s) => s.sourceId === 'itg-many').map((s) => s.id);
    expect(left.filter((id) => id.startsWith('ours-')).sort()).toEqual([
      'ours-125',
      'ours-126',
      'ours-127',
      'ours-128',
      'ours-129',
    ]);
    expect(left.filter((id) => id.startsWith('theirs-'))).toHaveLength(20);
    expect(left).toContain('rds:itg-many-auto');
  });

  it('takes and waits for an Aurora cluster snapshot', async () => {
    sandbox.rds.addCluster({ id: 'itg-aurora', members: ['itg-aurora-1'], snapshotSeconds: 200 });
    const database = { kind: 'cluster', id: 'itg-aurora' } as const;
    const ensured = await ensureSnapshot(context, {
      database,
      snapshotId: 'itg-cluster-snap',
      tags: backupTags({ database }),
    });
    const waited = await waitForSnapshot(context, ensured.snapshot, {
      pollIntervalMs: 50,
      timeoutMs: 10_000,
    });
    expect(waited.outcome).toBe('available');
    expect(waited.snapshot).toMatchObject({
      kind: 'cluster',
      databaseId: 'itg-aurora',
      engine: 'aurora-postgresql',
    });
  });

  it('refuses a member instance of an Aurora cluster, naming the cluster', async () => {
    await expect(
      ensureSnapshot(context, {
        database: { kind: 'instance', id: 'itg-aurora-1' },
        snapshotId: 'x',
        tags: {},
      }),
    ).rejects.toThrow(/db-cluster-identifier: itg-aurora/);
  });

  it("two concurrent runs end with one snapshot: the loser of the create race adopts the winner's", async () => {
    sandbox.rds.addInstance({ id: 'itg-concurrent', snapshotSeconds: 100_000 });
    const database = { kind: 'instance', id: 'itg-concurrent' } as const;
    const creates = () =>
      sandbox.requests.filter((r) => r.action === 'CreateDBSnapshot' && r.error === 'DBSnapshotAlreadyExists')
        .length;
    const racesBefore = creates();
    const results = await Promise.all([
      ensureSnapshot(context, { database, snapshotId: 'itg-concurrent-snap', tags: {} }),
      ensureSnapshot(context, { database, snapshotId: 'itg-concurrent-snap', tags: {} }),
    ]);
    const origins = results.map((r) => r.origin).sort();
    // Both look up and check the database before either creates, so one create loses with
    // DBSnapshotAlreadyExists and adopts; on a very slow machine the second may instead find it and reuse it.
    if (origins.includes('adopted')) {
      expect(origins).toEqual(['adopted', 'created']);
      expect(creates() - racesBefore).toBe(1);
    } else {
      expect(origins).toEqual(['created', 'reused']);
    }
    expect(results[0].snapshot.id).toBe(results[1].snapshot.id);
    expect(sandbox.rds.snapshots.filter((s) => s.sourceId === 'itg-concurrent')).toHaveLength(1);
  });

  it("reuses an earlier attempt's snapshot even while the database is backing-up for it", async () => {
    sandbox.rds.addInstance({ id: 'itg-race', snapshotSeconds: 100_000 });
    const database = { kind: 'instance', id: 'itg-race' } as const;
    await ensureSnapshot(context, { database, snapshotId: 'itg-race-snap', tags: {} });
    sandbox.rds.setInstanceStatus('itg-race', 'backing-up');
    const again = await ensureSnapshot(context, { database, snapshotId: 'itg-race-snap', tags: {} });
    expect(again.origin).toBe('reused');
    expect(sandbox.rds.snapshots.filter((s) => s.sourceId === 'itg-race')).toHaveLength(1);
  });
});
