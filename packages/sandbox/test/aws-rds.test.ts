import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AddTagsToResourceCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  RDSClient,
  paginateDescribeDBSnapshots,
  waitUntilDBClusterSnapshotAvailable,
  waitUntilDBSnapshotAvailable,
} from '@aws-sdk/client-rds';
import { startAwsSandbox, type AwsSandbox } from '../src/aws/index.js';

let sandbox: AwsSandbox;
let rds: RDSClient;
const savedEnv = { ...process.env };

/** The error an SDK call rejects with (fails the test when it resolves). */
async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  // 1 simulated second = 1 real millisecond: a 60 s snapshot takes 60 ms.
  sandbox = await startAwsSandbox({ timeScale: 0.001 });
  // Configure the SDK exactly as a workflow step would: through the environment.
  Object.assign(process.env, sandbox.env());
  rds = new RDSClient({});
  sandbox.rds.addInstance({ id: 'planner-db' });
  sandbox.rds.addInstance({ id: 'planner-db-busy', status: 'modifying' });
  sandbox.rds.addInstance({ id: 'planner-db-slow', snapshotSeconds: 1500 });
  sandbox.rds.addCluster({ id: 'planner-aurora', members: ['planner-aurora-1', 'planner-aurora-2'] });
});

afterAll(async () => {
  rds.destroy();
  await sandbox.stop();
  process.env = savedEnv;
});

describe('RDS through the real @aws-sdk/client-rds', () => {
  it('serves the endpoint from AWS_ENDPOINT_URL_RDS', () => {
    expect(process.env['AWS_ENDPOINT_URL_RDS']).toBe(sandbox.url);
    expect(sandbox.env()).toMatchObject({ AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
  });

  it('describes DB instances and clusters', async () => {
    const { DBInstances } = await rds.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'planner-db' }),
    );
    expect(DBInstances).toHaveLength(1);
    expect(DBInstances?.[0]).toMatchObject({
      DBInstanceIdentifier: 'planner-db',
      DBInstanceStatus: 'available',
      Engine: 'postgres',
      DBInstanceArn: 'arn:aws:rds:us-east-1:123456789012:db:planner-db',
      Endpoint: { Port: 5432 },
    });
    expect(DBInstances?.[0]?.InstanceCreateTime).toBeInstanceOf(Date);

    const { DBClusters } = await rds.send(
      new DescribeDBClustersCommand({ DBClusterIdentifier: 'planner-aurora' }),
    );
    expect(DBClusters?.[0]).toMatchObject({
      DBClusterIdentifier: 'planner-aurora',
      Status: 'available',
      Engine: 'aurora-postgresql',
      DBClusterArn: 'arn:aws:rds:us-east-1:123456789012:cluster:planner-aurora',
    });
    expect(DBClusters?.[0]?.DBClusterMembers?.map((m) => m.DBInstanceIdentifier)).toEqual([
      'planner-aurora-1',
      'planner-aurora-2',
    ]);
    expect(DBClusters?.[0]?.DBClusterMembers?.[0]?.IsClusterWriter).toBe(true);
  });

  it.each([
    {
      what: 'DescribeDBInstances',
      name: 'DBInstanceNotFoundFault',
      status: 404,
      command: () => new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nope' }),
    },
    {
      what: 'DescribeDBClusters',
      name: 'DBClusterNotFoundFault',
      status: 404,
      command: () => new DescribeDBClustersCommand({ DBClusterIdentifier: 'nope' }),
    },
    {
      what: 'DescribeDBSnapshots',
      name: 'DBSnapshotNotFoundFault',
      status: 404,
      command: () => new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'nope' }),
    },
    {
      what: 'DescribeDBClusterSnapshots',
      name: 'DBClusterSnapshotNotFoundFault',
      status: 404,
      command: () => new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: 'nope' }),
    },
    {
      what: 'CreateDBSnapshot of a missing instance',
      name: 'DBInstanceNotFoundFault',
      status: 404,
      command: () =>
        new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 's1', DBInstanceIdentifier: 'nope' }),
    },
    {
      what: 'CreateDBClusterSnapshot of a missing cluster',
      name: 'DBClusterNotFoundFault',
      status: 404,
      command: () =>
        new CreateDBClusterSnapshotCommand({
          DBClusterSnapshotIdentifier: 's1',
          DBClusterIdentifier: 'nope',
        }),
    },
    {
      what: 'CreateDBSnapshot of a database that is not available',
      name: 'InvalidDBInstanceStateFault',
      status: 400,
      command: () =>
        new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 's1', DBInstanceIdentifier: 'planner-db-busy' }),
    },
    {
      what: 'DeleteDBSnapshot of a missing snapshot',
      name: 'DBSnapshotNotFoundFault',
      status: 404,
      command: () => new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'nope' }),
    },
  ])('$what → $name', async ({ command, name, status }) => {
    const err = await rejection(rds.send(command() as any));
    expect(err.name).toBe(name);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(err.message).not.toBe('');
  });

  it('creates a tagged snapshot that goes creating → available, and the SDK waiter sees it', async () => {
    const created = await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: 'planner-pre-migration-abc1234-1',
        DBInstanceIdentifier: 'planner-db-slow',
        Tags: [
          { Key: 'repository', Value: 'org/planner' },
          { Key: 'sha', Value: 'abc1234' },
        ],
      }),
    );
    expect(created.DBSnapshot).toMatchObject({
      DBSnapshotIdentifier: 'planner-pre-migration-abc1234-1',
      DBInstanceIdentifier: 'planner-db-slow',
      Status: 'creating',
      SnapshotType: 'manual',
      DBSnapshotArn: 'arn:aws:rds:us-east-1:123456789012:snapshot:planner-pre-migration-abc1234-1',
    });
    expect(created.DBSnapshot?.PercentProgress).toBeLessThan(100);
    expect(created.DBSnapshot?.SnapshotCreateTime).toBeInstanceOf(Date);
    expect(created.DBSnapshot?.TagList).toEqual([
      { Key: 'repository', Value: 'org/planner' },
      { Key: 'sha', Value: 'abc1234' },
    ]);

    const started = Date.now();
    const result = await waitUntilDBSnapshotAvailable(
      { client: rds, maxWaitTime: 20, minDelay: 0.2, maxDelay: 0.4 },
      { DBSnapshotIdentifier: 'planner-pre-migration-abc1234-1' },
    );
    expect(result.state).toBe('SUCCESS');
    // 1500 simulated seconds at 1/1000: about 1.5 s of real time.
    expect(Date.now() - started).toBeGreaterThan(800);
    const { DBSnapshots } = await rds.send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'planner-pre-migration-abc1234-1' }),
    );
    expect(DBSnapshots?.[0]).toMatchObject({ Status: 'available', PercentProgress: 100 });
  });

  it('adds and lists tags, overwriting a key that exists', async () => {
    await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: 'tagged',
        DBInstanceIdentifier: 'planner-db',
        Tags: [{ Key: 'a', Value: '1' }],
      }),
    );
    const arn = 'arn:aws:rds:us-east-1:123456789012:snapshot:tagged';
    await rds.send(
      new AddTagsToResourceCommand({
        ResourceName: arn,
        Tags: [
          { Key: 'a', Value: '2' },
          { Key: 'b', Value: 'x y&z' },
        ],
      }),
    );
    const { TagList } = await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));
    expect(TagList).toEqual([
      { Key: 'a', Value: '2' },
      { Key: 'b', Value: 'x y&z' },
    ]);
    const dbTags = await rds.send(
      new ListTagsForResourceCommand({ ResourceName: 'arn:aws:rds:us-east-1:123456789012:db:planner-db' }),
    );
    expect(dbTags.TagList).toEqual([]);
    const missing = await rejection(
      rds.send(
        new ListTagsForResourceCommand({ ResourceName: 'arn:aws:rds:us-east-1:123456789012:snapshot:nope' }),
      ),
    );
    expect(missing.name).toBe('DBSnapshotNotFoundFault');
  });

  it('refuses a second snapshot with the same identifier', async () => {
    await rds.send(
      new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'dup-snap', DBInstanceIdentifier: 'planner-db' }),
    );
    const err = await rejection(
      rds.send(
        new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'dup-snap', DBInstanceIdentifier: 'planner-db' }),
      ),
    );
    expect(err.name).toBe('DBSnapshotAlreadyExistsFault');
  });

  it.each([
    ['starts with a digit', '1snapshot'],
    ['has two hyphens in a row', 'planner--snap'],
    ['ends with a hyphen', 'planner-snap-'],
    ['has an underscore', 'planner_snap'],
    ['has a dot', 'planner.snap'],
    ['is 256 characters long', `a${'b'.repeat(255)}`],
  ])('refuses a DB snapshot identifier that %s', async (_why, id) => {
    const err = await rejection(
      rds.send(new CreateDBSnapshotCommand({ DBSnapshotIdentifier: id, DBInstanceIdentifier: 'planner-db' })),
    );
    expect(err.name).toBe('InvalidParameterValue');
    expect(err.message).toContain('DBSnapshotIdentifier');
  });

  it('accepts a 255-character DB snapshot identifier, stored in lower case', async () => {
    const id = `Planner-${'x'.repeat(247)}`;
    const { DBSnapshot } = await rds.send(
      new CreateDBSnapshotCommand({ DBSnapshotIdentifier: id, DBInstanceIdentifier: 'planner-db' }),
    );
    expect(DBSnapshot?.DBSnapshotIdentifier).toBe(id.toLowerCase());
    const { DBSnapshots } = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
    expect(DBSnapshots?.[0]?.DBSnapshotIdentifier).toBe(id.toLowerCase());
    const dup = await rejection(
      rds.send(
        new CreateDBSnapshotCommand({
          DBSnapshotIdentifier: id.toUpperCase(),
          DBInstanceIdentifier: 'planner-db',
        }),
      ),
    );
    expect(dup.name).toBe('DBSnapshotAlreadyExistsFault');
  });

  it('takes Aurora cluster snapshots: lower-cased, at most 63 characters, waited for', async () => {
    const { DBClusterSnapshot } = await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: 'Planner-Aurora-Pre-1',
        DBClusterIdentifier: 'planner-aurora',
        Tags: [{ Key: 'sha', Value: 'abc' }],
      }),
    );
    expect(DBClusterSnapshot).toMatchObject({
      DBClusterSnapshotIdentifier: 'planner-aurora-pre-1',
      DBClusterIdentifier: 'planner-aurora',
      Status: 'creating',
      SnapshotType: 'manual',
      DBClusterSnapshotArn: 'arn:aws:rds:us-east-1:123456789012:cluster-snapshot:planner-aurora-pre-1',
      TagList: [{ Key: 'sha', Value: 'abc' }],
    });
    const waited = await waitUntilDBClusterSnapshotAvailable(
      { client: rds, maxWaitTime: 10, minDelay: 0.1, maxDelay: 0.2 },
      { DBClusterSnapshotIdentifier: 'planner-aurora-pre-1' },
    );
    expect(waited.state).toBe('SUCCESS');

    const dup = await rejection(
      rds.send(
        new CreateDBClusterSnapshotCommand({
          DBClusterSnapshotIdentifier: 'PLANNER-AURORA-PRE-1',
          DBClusterIdentifier: 'planner-aurora',
        }),
      ),
    );
    expect(dup.name).toBe('DBClusterSnapshotAlreadyExistsFault');
    const long = await rejection(
      rds.send(
        new CreateDBClusterSnapshotCommand({
          DBClusterSnapshotIdentifier: `a${'b'.repeat(63)}`,
          DBClusterIdentifier: 'planner-aurora',
        }),
      ),
    );
    expect(long.name).toBe('InvalidParameterValue');
    expect(long.message).toContain('DBClusterSnapshotIdentifier');

    const { DBClusterSnapshots } = await rds.send(
      new DescribeDBClusterSnapshotsCommand({
        DBClusterIdentifier: 'planner-aurora',
        SnapshotType: 'manual',
      }),
    );
    expect(DBClusterSnapshots?.map((s) => s.DBClusterSnapshotIdentifier)).toEqual(['planner-aurora-pre-1']);
    const deleted = await rds.send(
      new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: 'planner-aurora-pre-1' }),
    );
    expect(deleted.DBClusterSnapshot?.Status).toBe('deleted');
    const gone = await rejection(
      rds.send(
        new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: 'planner-aurora-pre-1' }),
      ),
    );
    expect(gone.name).toBe('DBClusterSnapshotNotFoundFault');
  });

  it('filters by instance and snapshot type, and pages with Marker/MaxRecords', async () => {
    sandbox.rds.addInstance({ id: 'paged-db' });
    for (let i = 0; i < 3; i++) {
      sandbox.rds.addSnapshot({
        id: `rds:paged-db-2026-11-2${i}-03-00`,
        sourceId: 'paged-db',
        type: 'automated',
      });
    }
    for (let i = 0; i < 42; i++) {
      await rds.send(
        new CreateDBSnapshotCommand({ DBSnapshotIdentifier: `paged-${i}`, DBInstanceIdentifier: 'paged-db' }),
      );
    }
    const first = await rds.send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'paged-db', MaxRecords: 20 }),
    );
    expect(first.DBSnapshots).toHaveLength(20);
    expect(first.Marker).toBeDefined();

    const all: string[] = [];
    for await (const page of paginateDescribeDBSnapshots(
      { client: rds, pageSize: 20 },
      { DBInstanceIdentifier: 'paged-db' },
    )) {
      all.push(...(page.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier ?? ''));
    }
    expect(all).toHaveLength(45);
    expect(new Set(all).size).toBe(45);

    const manual = await rds.send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'paged-db', SnapshotType: 'manual' }),
    );
    expect(manual.DBSnapshots).toHaveLength(42);
    const automated = await rds.send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'paged-db', SnapshotType: 'automated' }),
    );
    expect(automated.DBSnapshots?.map((s) => s.SnapshotType)).toEqual([
      'automated',
      'automated',
      'automated',
    ]);
    const filtered = await rds.send(
      new DescribeDBSnapshotsCommand({
        Filters: [
          { Name: 'db-instance-id', Values: ['paged-db'] },
          { Name: 'snapshot-type', Values: ['automated'] },
        ],
      }),
    );
    expect(filtered.DBSnapshots).toHaveLength(3);
    const badPage = await rejection(rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: 5 })));
    expect(badPage.name).toBe('InvalidParameterValue');
  });

  it('deletes manual snapshots only, and only when they are not being created', async () => {
    await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: 'slow-one',
        DBInstanceIdentifier: 'planner-db-slow',
      }),
    );
    const creating = await rejection(
      rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'slow-one' })),
    );
    expect(creating.name).toBe('InvalidDBSnapshotStateFault');
    sandbox.rds.addSnapshot({
      id: 'rds:planner-db-2026-11-27-03-00',
      sourceId: 'planner-db',
      type: 'automated',
    });
    const automated = await rejection(
      rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'rds:planner-db-2026-11-27-03-00' })),
    );
    expect(automated.name).toBe('InvalidDBSnapshotStateFault');

    await rds.send(
      new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'to-delete', DBInstanceIdentifier: 'planner-db' }),
    );
    await waitUntilDBSnapshotAvailable(
      { client: rds, maxWaitTime: 5, minDelay: 0.1, maxDelay: 0.1 },
      { DBSnapshotIdentifier: 'to-delete' },
    );
    const { DBSnapshot } = await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'to-delete' }));
    expect(DBSnapshot?.Status).toBe('deleted');
    const gone = await rejection(
      rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'to-delete' })),
    );
    expect(gone.name).toBe('DBSnapshotNotFoundFault');
  });

  it('ends a snapshot failed when the fault is set, and the waiter reports failure', async () => {
    sandbox.rds.setFaults({ nextSnapshotFails: true });
    await rds.send(
      new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'doomed', DBInstanceIdentifier: 'planner-db' }),
    );
    const err = await rejection(
      waitUntilDBSnapshotAvailable(
        { client: rds, maxWaitTime: 5, minDelay: 0.1, maxDelay: 0.1 },
        { DBSnapshotIdentifier: 'doomed' },
      ),
    );
    expect(err.message).toContain('FAILURE');
    const { DBSnapshots } = await rds.send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'doomed' }),
    );
    expect(DBSnapshots?.[0]?.Status).toBe('failed');
    // One failure only: the next snapshot is fine.
    await rds.send(
      new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'fine-again', DBInstanceIdentifier: 'planner-db' }),
    );
    const ok = await waitUntilDBSnapshotAvailable(
      { client: rds, maxWaitTime: 5, minDelay: 0.1, maxDelay: 0.1 },
      { DBSnapshotIdentifier: 'fine-again' },
    );
    expect(ok.state).toBe('SUCCESS');
  });

  it('can show a database as backing-up while its snapshot is created', async () => {
    sandbox.rds.addInstance({ id: 'backup-db', snapshotSeconds: 500 });
    sandbox.rds.backingUpDuringSnapshot = true;
    try {
      await rds.send(
        new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'first', DBInstanceIdentifier: 'backup-db' }),
      );
      const during = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'backup-db' }));
      expect(during.DBInstances?.[0]?.DBInstanceStatus).toBe('backing-up');
      const second = await rejection(
        rds.send(
          new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'second', DBInstanceIdentifier: 'backup-db' }),
        ),
      );
      expect(second.name).toBe('InvalidDBInstanceStateFault');
      await waitUntilDBSnapshotAvailable(
        { client: rds, maxWaitTime: 10, minDelay: 0.1, maxDelay: 0.2 },
        { DBSnapshotIdentifier: 'first' },
      );
      const after = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'backup-db' }));
      expect(after.DBInstances?.[0]?.DBInstanceStatus).toBe('available');
    } finally {
      sandbox.rds.backingUpDuringSnapshot = false;
    }
  });

  it('enforces the 100 manual snapshot quota', async () => {
    sandbox.rds.addInstance({ id: 'quota-db' });
    const existing = sandbox.rds.snapshots.filter((s) => s.type === 'manual').length;
    for (let i = existing; i < 100; i++) {
      sandbox.rds.addSnapshot({ id: `quota-${i}`, sourceId: 'quota-db' });
    }
    const err = await rejection(
      rds.send(
        new CreateDBSnapshotCommand({
          DBSnapshotIdentifier: 'one-too-many',
          DBInstanceIdentifier: 'quota-db',
        }),
      ),
    );
    expect(err.name).toBe('SnapshotQuotaExceededFault');
    await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'quota-99' }));
    await rds.send(
      new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'one-too-many', DBInstanceIdentifier: 'quota-db' }),
    );
  });
});

describe('RDS faults and signatures', () => {
  it('throttles a share of requests and the SDK retries them', async () => {
    const before = sandbox.requests.length;
    const throttledBefore = sandbox.rds.throttled;
    sandbox.rds.setFaults({ throttle: 0.5 });
    try {
      for (let i = 0; i < 4; i++) {
        const { DBInstances } = await rds.send(
          new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'planner-db' }),
        );
        expect(DBInstances?.[0]?.DBInstanceIdentifier).toBe('planner-db');
      }
    } finally {
      sandbox.rds.setFaults({ throttle: 0 });
    }
    const seen = sandbox.requests.slice(before);
    expect(seen.filter((r) => r.error === 'Throttling')).toHaveLength(4);
    expect(seen.filter((r) => r.status === 200)).toHaveLength(4);
    expect(sandbox.rds.throttled - throttledBefore).toBe(4);
  });

  it('answers a share of requests with 500 InternalFailure, which the SDK retries', async () => {
    const before = sandbox.requests.length;
    sandbox.rds.setFaults({ internalError: 0.5 });
    try {
      const { DBInstances } = await rds.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'planner-db' }),
      );
      expect(DBInstances).toHaveLength(1);
    } finally {
      sandbox.rds.setFaults({ internalError: 0 });
    }
    expect(sandbox.requests.slice(before).map((r) => r.status)).toEqual([500, 200]);
  });

  it('gives up with Throttling when every attempt is throttled', async () => {
    const before = sandbox.requests.length;
    sandbox.rds.setFaults({ throttle: 1 });
    try {
      const err = await rejection(rds.send(new DescribeDBInstancesCommand({})));
      expect(err.name).toBe('Throttling');
      expect(err.$metadata?.httpStatusCode).toBe(400);
    } finally {
      sandbox.rds.setFaults({ throttle: 0 });
    }
    // The SDK's standard retry strategy: 3 attempts.
    expect(sandbox.requests.slice(before).map((r) => r.error)).toEqual([
      'Throttling',
      'Throttling',
      'Throttling',
    ]);
  });

  it.each([
    [
      'a wrong secret key',
      { accessKeyId: 'AKIASANDBOX000000001', secretAccessKey: 'wrong' },
      'SignatureDoesNotMatch',
    ],
    [
      'an unknown access key',
      { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'whatever' },
      'InvalidClientTokenId',
    ],
    [
      'an unexpected session token',
      { accessKeyId: 'AKIASANDBOX000000001', secretAccessKey: 'x', sessionToken: 'token' },
      'InvalidClientTokenId',
    ],
  ])('refuses a request signed with %s', async (_what, credentials, name) => {
    const client = new RDSClient({ credentials, maxAttempts: 1 });
    try {
      const err = await rejection(client.send(new DescribeDBInstancesCommand({})));
      expect(err.name).toBe(name);
      expect(err.$metadata?.httpStatusCode).toBe(403);
    } finally {
      client.destroy();
    }
  });

  it('refuses an unsigned request', async () => {
    const res = await fetch(sandbox.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeDBInstances&Version=2014-10-31',
    });
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain('<Code>MissingAuthenticationToken</Code>');
    expect(text).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId>/);
  });
});
