import { afterEach, describe, expect, it } from '@jest/globals';
import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DBInstanceNotFoundFault,
  RDSClient,
  type DBSnapshot,
} from '@aws-sdk/client-rds';
import { ActionFailure, ConfigurationError, MemoryLogger } from '@planner-deploy/core';
import { mockClient } from 'aws-sdk-client-mock';
import { ensureSnapshot } from '../src/rds-backup.js';
import { createRdsContext, type RdsContext } from '../src/rds-client.js';

const rds = mockClient(RDSClient);
async function testContext(signal?: AbortSignal): Promise<{ context: RdsContext; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  const context = await createRdsContext({
    region: 'eu-west-1',
    logger,
    signal,
    credentials: () => Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
  });
  return { context, logger };
}

function awsError(name: string, message = name, status = 400): Error {
  const error = new Error(message) as Error & { $metadata: { httpStatusCode: number } };
  error.name = name;
  error.$metadata = { httpStatusCode: status };
  return error;
}

afterEach(() => {
  rds.reset();
});

const instance = { kind: 'instance', id: 'planner-prod' } as const;
const tags = { 'planner-deploy:created-by': 'rds-backup', team: 'core' };
const notFound = () => new DBSnapshotNotFoundFault({ message: 'DBSnapshot not found', $metadata: {} });

function snapshot(overrides: Partial<DBSnapshot> = {}): DBSnapshot {
  return {
    DBSnapshotIdentifier: 'snap-1',
    DBInstanceIdentifier: 'planner-prod',
    DBSnapshotArn: 'arn:aws:rds:eu-west-1:123456789012:snapshot:snap-1',
    Status: 'creating',
    SnapshotType: 'manual',
    PercentProgress: 0,
    ...overrides,
  };
}

describe('ensureSnapshot', () => {
  it('checks the database, then creates the snapshot with the tags', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(notFound());
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceIdentifier: 'planner-prod', DBInstanceStatus: 'available' }] });
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot() });
    const { context } = await testContext();
    const result = await ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags });
    expect(result.origin).toBe('created');
    expect(result.snapshot).toMatchObject({
      id: 'snap-1',
      status: 'creating',
      kind: 'instance',
      databaseId: 'planner-prod',
    });
    const create = rds.commandCalls(CreateDBSnapshotCommand);
    expect(create).toHaveLength(1);
    expect(create[0]!.args[0].input).toEqual({
      DBSnapshotIdentifier: 'snap-1',
      DBInstanceIdentifier: 'planner-prod',
      Tags: [
        { Key: 'planner-deploy:created-by', Value: 'rds-backup' },
        { Key: 'team', Value: 'core' },
      ],
    });
  });

  it('reuses an existing snapshot of the same database without checking the database or creating', async () => {
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'snap-1' })
      .resolves({ DBSnapshots: [snapshot({ Status: 'creating' })] });
    const { context } = await testContext();
    const result = await ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags });
    expect(result.origin).toBe('reused');
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(0);
  });

  it('refuses a snapshot with our identifier that belongs to another database', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [snapshot({ DBInstanceIdentifier: 'other-db' })] });
    const { context } = await testContext();
    const error = await ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /"snap-1" already exists, but it is of the DB instance "other-db"/,
    );
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('adopts the snapshot when a concurrent create wins the race (DBSnapshotAlreadyExists)', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .rejectsOnce(notFound())
      .resolves({ DBSnapshots: [snapshot({ Status: 'creating', PercentProgress: 10 })] });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    rds
      .on(CreateDBSnapshotCommand)
      .rejects(new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));
    const { context } = await testContext();
    const result = await ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags });
    expect(result.origin).toBe('adopted');
    expect(result.snapshot.progress).toBe(10);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(1);
  });

  it('does not adopt a racing snapshot of another database', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .rejectsOnce(notFound())
      .resolves({ DBSnapshots: [snapshot({ DBInstanceIdentifier: 'someone-else' })] });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    rds
      .on(CreateDBSnapshotCommand)
      .rejects(new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));
    const { context } = await testContext();
    await expect(ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags })).rejects.toThrow(
      /someone-else/,
    );
  });

  it.each([
    ['backing-up', /"backing-up", not "available".*backup is in progress/],
    ['modifying', /"modifying".*wait until it is available/],
    ['stopped', /"stopped".*Start the database/],
  ])('refuses a database that is %s, naming the status, without creating', async (status, message) => {
    rds.on(DescribeDBSnapshotsCommand).rejects(notFound());
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: status }] });
    const { context } = await testContext();
    const error = await ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ActionFailure);
    expect((error as ActionFailure).title).toBe('Database not available');
    expect((error as Error).message).toMatch(message);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('snapshots a database in storage-optimization (fully operational after a storage change)', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(notFound());
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceStatus: 'storage-optimization' }] });
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot() });
    const { context } = await testContext();
    const result = await ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags });
    expect(result.origin).toBe('created');
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(1);
  });

  it('says a missing database was not found, naming it and the region', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(notFound());
    rds
      .on(DescribeDBInstancesCommand)
      .rejects(new DBInstanceNotFoundFault({ message: 'DBInstance x not found', $metadata: {} }));
    const { context } = await testContext();
    await expect(ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags })).rejects.toThrow(
      /DB instance "planner-prod" was not found in eu-west-1/,
    );
  });

  it('points an Aurora member instance at its cluster', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(notFound());
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceStatus: 'available', DBClusterIdentifier: 'planner-aurora' }] });
    const { context } = await testContext();
    await expect(ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags })).rejects.toThrow(
      /db-cluster-identifier: planner-aurora/,
    );
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('creates a DB cluster snapshot for a cluster', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(awsError('DBClusterSnapshotNotFoundFault'));
    rds
      .on(DescribeDBClustersCommand)
      .resolves({ DBClusters: [{ DBClusterIdentifier: 'aurora', Status: 'available' }] });
    rds.on(CreateDBClusterSnapshotCommand).resolves({
      DBClusterSnapshot: {
        DBClusterSnapshotIdentifier: 'snap-c',
        DBClusterIdentifier: 'aurora',
        Status: 'creating',
      },
    });
    const { context } = await testContext();
    const result = await ensureSnapshot(context, {
      database: { kind: 'cluster', id: 'aurora' },
      snapshotId: 'snap-c',
      tags: {},
    });
    expect(result.snapshot).toMatchObject({ kind: 'cluster', id: 'snap-c', databaseId: 'aurora' });
    expect(rds.commandCalls(CreateDBClusterSnapshotCommand)[0]!.args[0].input).toMatchObject({
      DBClusterSnapshotIdentifier: 'snap-c',
      DBClusterIdentifier: 'aurora',
    });
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('explains the snapshot quota', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(notFound());
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    rds
      .on(CreateDBSnapshotCommand)
      .rejects(awsError('SnapshotQuotaExceededFault', 'Cannot create more than 100 manual snapshots'));
    const { context } = await testContext();
    await expect(ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags })).rejects.toThrow(
      /retain input/,
    );
  });

  it('retries a throttled create and then succeeds', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(notFound());
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    rds
      .on(CreateDBSnapshotCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .resolves({ DBSnapshot: snapshot() });
    const { context } = await testContext();
    const result = await ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags });
    expect(result.origin).toBe('created');
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(2);
  });

  it('explains access denied with the permission to grant', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(awsError('AccessDenied', 'not authorized', 403));
    const { context } = await testContext();
    await expect(ensureSnapshot(context, { database: instance, snapshotId: 'snap-1', tags })).rejects.toThrow(
      /rds:DescribeDBSnapshots/,
    );
  });
});
