import { afterEach, describe, expect, it } from '@jest/globals';
import {
  CreateDBSnapshotCommand,
  DBSnapshotNotFoundFault,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  type DBSnapshot,
} from '@aws-sdk/client-rds';
import { MemoryLogger } from '@planner-deploy/action-kit';
import { mockClient } from 'aws-sdk-client-mock';
import type { Inputs } from '../../src/inputs.js';
import { backupDatabase } from '../../src/run.js';

const rds = mockClient(RDSClient);
afterEach(() => {
  rds.reset();
});

const ours = [
  { Key: 'planner-deploy:created-by', Value: 'rds-backup' },
  { Key: 'planner-deploy:database', Value: 'db' },
];

function inputs(overrides: Partial<Inputs> = {}): Inputs {
  return {
    'db-instance-identifier': 'db',
    'db-cluster-identifier': undefined,
    database: { kind: 'instance', id: 'db' },
    'snapshot-identifier': 'snap-new',
    'snapshot-identifier-derived': true,
    'snapshot-prefix': 'pre-deploy',
    tags: { 'planner-deploy:created-by': 'rds-backup', 'planner-deploy:database': 'db' },
    wait: true,
    timeout: 5000,
    'poll-interval': 10,
    retain: undefined,
    region: 'eu-west-1',
    run: { repository: 'o/r', sha: 'abc', runId: '1', runAttempt: '1', runUrl: undefined },
    ...overrides,
  };
}

function snap(id: string, status: string, hoursAgo: number, tags = ours): DBSnapshot {
  return {
    DBSnapshotIdentifier: id,
    DBInstanceIdentifier: 'db',
    Status: status,
    SnapshotType: 'manual',
    SnapshotCreateTime: new Date(Date.now() - hoursAgo * 3_600_000),
    TagList: tags,
  };
}

const signal = new AbortController().signal;

describe('backupDatabase', () => {
  it('with wait: false starts the snapshot, and retention keeps N older available ones meanwhile', async () => {
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'snap-new' })
      .rejects(new DBSnapshotNotFoundFault({ message: 'nf', $metadata: {} }));
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snap('snap-new', 'creating', 0) });
    rds.on(DescribeDBSnapshotsCommand, { DBInstanceIdentifier: 'db', SnapshotType: 'manual' }).resolves({
      DBSnapshots: [
        snap('snap-new', 'creating', 0),
        snap('a', 'available', 1),
        snap('b', 'available', 2),
        snap('c', 'available', 3),
        snap('manual', 'available', 4, []),
      ],
    });
    rds.on(DeleteDBSnapshotCommand).resolves({});
    const result = await backupDatabase(inputs({ wait: false, retain: 2 }), new MemoryLogger(), signal);
    expect(result.outcome).toBe('started');
    expect(result.snapshot.status).toBe('creating');
    expect(result.retention?.deleted).toEqual(['c']);
    expect(result.retention?.kept).toEqual(['snap-new', 'a', 'b']);
    expect(rds.commandCalls(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'snap-new' })).toHaveLength(
      1,
    );
  });

  it('reuses an available snapshot without waiting or creating', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snap('snap-new', 'available', 1)] });
    const result = await backupDatabase(inputs(), new MemoryLogger(), signal);
    expect(result).toMatchObject({ outcome: 'available', origin: 'reused' });
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(1);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(0);
  });

  it('reports a reused failed snapshot as failed and runs no retention', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snap('snap-new', 'failed', 1)] });
    const result = await backupDatabase(inputs({ retain: 1 }), new MemoryLogger(), signal);
    expect(result.outcome).toBe('failed');
    expect(result.retention).toBeUndefined();
    expect(rds.commandCalls(DeleteDBSnapshotCommand)).toHaveLength(0);
  });

  it('does not apply retention after a timeout', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [snap('snap-new', 'creating', 0), snap('old', 'available', 5)] });
    const result = await backupDatabase(inputs({ retain: 1, timeout: 50 }), new MemoryLogger(), signal);
    expect(result.outcome).toBe('timeout');
    expect(result.retention).toBeUndefined();
    expect(rds.commandCalls(DeleteDBSnapshotCommand)).toHaveLength(0);
  });

  it('turns a retention listing failure into a warning, the backup still passing', async () => {
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'snap-new' })
      .resolves({ DBSnapshots: [snap('snap-new', 'available', 0)] });
    rds
      .on(DescribeDBSnapshotsCommand, { DBInstanceIdentifier: 'db' })
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));
    const logger = new MemoryLogger();
    const result = await backupDatabase(inputs({ retain: 1 }), logger, signal);
    expect(result.outcome).toBe('available');
    expect(result.retentionError).toMatch(/rds:DescribeDBSnapshots/);
    expect(logger.entries.some((e) => e.level === 'warning' && /Retention skipped/.test(e.message))).toBe(
      true,
    );
  });
});
