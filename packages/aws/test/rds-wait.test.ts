import { afterEach, describe, expect, it } from '@jest/globals';
import {
  DBSnapshotNotFoundFault,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  type DBSnapshot,
} from '@aws-sdk/client-rds';
import { ActionFailure, MemoryLogger } from '@planner-deploy/core';
import { mockClient } from 'aws-sdk-client-mock';
import { createRdsContext, type RdsContext } from '../src/rds-client.js';
import type { SnapshotInfo } from '../src/rds-snapshots.js';
import { waitForSnapshot } from '../src/rds-wait.js';

const rds = mockClient(RDSClient);
afterEach(() => {
  rds.reset();
});

async function testContext(signal?: AbortSignal): Promise<RdsContext> {
  return createRdsContext({
    region: 'eu-west-1',
    logger: new MemoryLogger(),
    signal,
    credentials: () => Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
  });
}

function awsError(name: string, message = name, status = 400): Error {
  const error = new Error(message) as Error & { $metadata: { httpStatusCode: number } };
  error.name = name;
  error.$metadata = { httpStatusCode: status };
  return error;
}

const initial: SnapshotInfo = {
  kind: 'instance',
  id: 'snap-1',
  databaseId: 'db',
  status: 'creating',
  tags: {},
};
const described = (Status: string, PercentProgress?: number): { DBSnapshots: DBSnapshot[] } => ({
  DBSnapshots: [
    {
      DBSnapshotIdentifier: 'snap-1',
      DBInstanceIdentifier: 'db',
      Status,
      PercentProgress,
      SnapshotType: 'manual',
    },
  ],
});

describe('waitForSnapshot', () => {
  it('polls at the fixed interval until available', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce(described('creating', 10))
      .resolvesOnce(described('creating', 60))
      .resolves(described('available', 100));
    const started = Date.now();
    const result = await waitForSnapshot(await testContext(), initial, {
      pollIntervalMs: 50,
      timeoutMs: 10_000,
    });
    expect(result.outcome).toBe('available');
    expect(result.snapshot.status).toBe('available');
    expect(result.polls).toBe(3);
    // Two intervals between three polls, no growing backoff.
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)[0]!.args[0].input).toEqual({
      DBSnapshotIdentifier: 'snap-1',
    });
  });

  it.each(['failed', 'incompatible-restore', 'deleted'])('ends on status %s', async (status) => {
    rds.on(DescribeDBSnapshotsCommand).resolvesOnce(described('creating')).resolves(described(status));
    const result = await waitForSnapshot(await testContext(), initial, {
      pollIntervalMs: 10,
      timeoutMs: 10_000,
    });
    expect(result.outcome).toBe('failed');
    expect(result.snapshot.status).toBe(status);
  });

  it('times out with the last status seen, after a final poll at the deadline', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves(described('creating', 42));
    const result = await waitForSnapshot(await testContext(), initial, {
      pollIntervalMs: 100,
      timeoutMs: 250,
    });
    expect(result.outcome).toBe('timeout');
    expect(result.snapshot.progress).toBe(42);
    expect(result.waitedMs).toBeGreaterThanOrEqual(250);
    expect(result.polls).toBe(4); // 0, 100, 200, 250 ms
  });

  it('stops at once on cancel and reports the last state', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves(described('creating', 5));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 120);
    const started = Date.now();
    const result = await waitForSnapshot(await testContext(controller.signal), initial, {
      pollIntervalMs: 5000,
      timeoutMs: 60_000,
    });
    expect(result.outcome).toBe('cancelled');
    expect(result.snapshot.progress).toBe(5);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('survives throttling between polls and still sees availability', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce(described('creating'))
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .rejectsOnce(awsError('InternalFailure', 'boom', 500))
      .resolves(described('available', 100));
    const result = await waitForSnapshot(await testContext(), initial, {
      pollIntervalMs: 10,
      timeoutMs: 30_000,
      backoffBaseMs: 20,
    });
    expect(result.outcome).toBe('available');
    expect(result.polls).toBe(5);
  });

  it('gives up after too many transient errors in a row', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    const error = await waitForSnapshot(await testContext(), initial, {
      pollIntervalMs: 1,
      timeoutMs: 60_000,
      maxTransientErrors: 2,
      backoffBaseMs: 5,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionFailure);
    expect((error as Error).message).toMatch(/3 failed polls in a row.*Throttling.*continues in RDS/);
  });

  it('fails at once on an error that is not transient', async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(awsError('AccessDenied', 'no', 403));
    await expect(
      waitForSnapshot(await testContext(), initial, { pollIntervalMs: 10, timeoutMs: 10_000 }),
    ).rejects.toThrow(/rds:DescribeDBSnapshots/);
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(1);
  });

  it('tolerates a brief not-found, but not a snapshot that is gone', async () => {
    const gone = () => new DBSnapshotNotFoundFault({ message: 'not found', $metadata: {} });
    rds.on(DescribeDBSnapshotsCommand).rejectsOnce(gone()).resolves(described('available'));
    const ok = await waitForSnapshot(await testContext(), initial, { pollIntervalMs: 5, timeoutMs: 10_000 });
    expect(ok.outcome).toBe('available');

    rds.reset();
    rds.on(DescribeDBSnapshotsCommand).rejects(gone());
    await expect(
      waitForSnapshot(await testContext(), initial, { pollIntervalMs: 5, timeoutMs: 10_000, maxMissing: 3 }),
    ).rejects.toThrow(/was not found any more/);
  });

  it('polls DB cluster snapshots for a cluster', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [
        { DBClusterSnapshotIdentifier: 'snap-c', DBClusterIdentifier: 'aurora', Status: 'available' },
      ],
    });
    const result = await waitForSnapshot(
      await testContext(),
      { kind: 'cluster', id: 'snap-c', databaseId: 'aurora', status: 'creating', tags: {} },
      { pollIntervalMs: 10, timeoutMs: 1000 },
    );
    expect(result.outcome).toBe('available');
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(0);
  });
});
