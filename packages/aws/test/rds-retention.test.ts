import { afterEach, describe, expect, it } from '@jest/globals';
import {
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  type DBSnapshot,
} from '@aws-sdk/client-rds';
import { MemoryLogger } from '@planner-deploy/core';
import { mockClient } from 'aws-sdk-client-mock';
import { createRdsContext } from '../src/rds-client.js';
import type { DatabaseRef } from '../src/rds-identifiers.js';
import { applyRetention, planRetention } from '../src/rds-retention.js';
import type { SnapshotInfo } from '../src/rds-snapshots.js';
import { backupTags, isBackupOf, tagProblem } from '../src/rds-tags.js';

const rds = mockClient(RDSClient);
afterEach(() => {
  rds.reset();
});

const db: DatabaseRef = { kind: 'instance', id: 'planner-prod' };
const ours = { 'planner-deploy:created-by': 'rds-backup', 'planner-deploy:database': 'planner-prod' };

/** A snapshot `hoursAgo` old; `tags` default to ours for planner-prod. */
function snap(id: string, hoursAgo: number, extra: Partial<SnapshotInfo> = {}): SnapshotInfo {
  return {
    kind: 'instance',
    id,
    databaseId: 'planner-prod',
    status: 'available',
    type: 'manual',
    createdAt: new Date(Date.UTC(2026, 10, 27, 12) - hoursAgo * 3_600_000),
    tags: ours,
    ...extra,
  };
}

const current = snap('current', 0);
const ids = (list: SnapshotInfo[]) => list.map((s) => s.id);

describe('planRetention', () => {
  it.each<[string, SnapshotInfo[], number, string[], string[]]>([
    [
      'keeps the newest N including the current one',
      [snap('a', 1), snap('b', 2), snap('c', 3)],
      2,
      ['a'],
      ['b', 'c'],
    ],
    ['retain 1 keeps only the current one', [snap('a', 1), snap('b', 2)], 1, [], ['a', 'b']],
    ['nothing to delete when there are fewer than N', [snap('a', 1)], 5, ['a'], []],
    [
      'orders by creation time, not by listing order',
      [snap('old', 9), snap('new', 1), snap('mid', 5)],
      2,
      ['new'],
      ['mid', 'old'],
    ],
    [
      'removes failed ones of ours, which fill no place',
      [snap('f', 1, { status: 'failed' }), snap('a', 2), snap('b', 3)],
      2,
      ['a'],
      ['f', 'b'],
    ],
    [
      'keeps ones still in progress (RDS cannot delete them)',
      [snap('c', 1, { status: 'creating' }), snap('a', 2)],
      1,
      ['c'],
      ['a'],
    ],
  ])('%s', (_what, snapshots, retain, keep, remove) => {
    const plan = planRetention(snapshots, db, current, retain);
    expect(ids(plan.keep)).toEqual(keep);
    expect(ids(plan.remove)).toEqual(remove);
  });

  it('never selects anything that is not ours for this database', () => {
    const others = [
      snap('no-tags', 50, { tags: {} }),
      snap('someone-elses-manual', 49, { tags: { team: 'dba' } }),
      snap('automated', 48, { type: 'automated', tags: ours }),
      snap('rds:automated-style', 47, { type: 'automated', tags: {} }),
      snap('other-db-tag', 46, { tags: { ...ours, 'planner-deploy:database': 'planner-staging' } }),
      snap('other-source', 45, { databaseId: 'planner-staging' }),
      snap('wrong-marker', 44, { tags: { ...ours, 'planner-deploy:created-by': 'something-else' } }),
    ];
    const plan = planRetention([...others, snap('mine-old', 60), snap('mine', 2)], db, current, 1);
    expect(ids(plan.remove).sort()).toEqual(['mine', 'mine-old']);
    expect(plan.keep).toEqual([]);
    expect(plan.untouched).toBe(others.length);
  });

  it('while the current one is still being created, keeps N older available ones', () => {
    const creating = snap('current', 0, { status: 'creating' });
    const plan = planRetention([creating, snap('a', 1), snap('b', 2), snap('c', 3)], db, creating, 2);
    expect(ids(plan.keep)).toEqual(['a', 'b']);
    expect(ids(plan.remove)).toEqual(['c']);
    expect(plan.untouched).toBe(0);
  });

  it('never removes the current snapshot, even when listed and old', () => {
    const plan = planRetention([snap('current', 100), snap('a', 1)], db, snap('current', 100), 1);
    expect(ids(plan.remove)).toEqual(['a']);
  });
});

describe('applyRetention', () => {
  function described(list: SnapshotInfo[]): DBSnapshot[] {
    return list.map((s) => ({
      DBSnapshotIdentifier: s.id,
      DBInstanceIdentifier: s.databaseId,
      Status: s.status,
      SnapshotType: s.type,
      SnapshotCreateTime: s.createdAt,
      TagList: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
    }));
  }

  it('lists every page of manual snapshots and deletes only our old ones', async () => {
    rds
      .on(DescribeDBSnapshotsCommand, { Marker: undefined })
      .resolves({
        DBSnapshots: described([current, snap('a', 1), snap('manual', 2, { tags: {} })]),
        Marker: 'page2',
      })
      .on(DescribeDBSnapshotsCommand, { Marker: 'page2' })
      .resolves({ DBSnapshots: described([snap('b', 3), snap('c', 4)]) });
    rds.on(DeleteDBSnapshotCommand).resolves({});
    rds
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: 'c' })
      .rejects(Object.assign(new Error('in use'), { name: 'InvalidDBSnapshotStateFault' }));
    const context = await createRdsContext({
      region: 'eu-west-1',
      logger: new MemoryLogger(),
      credentials: () => Promise.resolve({ accessKeyId: 'a', secretAccessKey: 'b' }),
    });
    const result = await applyRetention(context, db, current, 2);
    expect(rds.commandCalls(DescribeDBSnapshotsCommand).map((c) => c.args[0].input)).toEqual([
      { DBInstanceIdentifier: 'planner-prod', SnapshotType: 'manual', MaxRecords: 100 },
      { DBInstanceIdentifier: 'planner-prod', SnapshotType: 'manual', MaxRecords: 100, Marker: 'page2' },
    ]);
    expect(
      rds.commandCalls(DeleteDBSnapshotCommand).map((c) => c.args[0].input.DBSnapshotIdentifier),
    ).toEqual(['b', 'c']);
    expect(result.kept).toEqual(['current', 'a']);
    expect(result.deleted).toEqual(['b']);
    expect(result.failed).toEqual([{ id: 'c', message: 'in use' }]);
    expect(result.untouched).toBe(1);
  });

  it('deletes DB cluster snapshots for a cluster', async () => {
    const cluster: DatabaseRef = { kind: 'cluster', id: 'aurora' };
    const tags = [
      { Key: 'planner-deploy:created-by', Value: 'rds-backup' },
      { Key: 'planner-deploy:database', Value: 'aurora' },
    ];
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [
        {
          DBClusterSnapshotIdentifier: 'old',
          DBClusterIdentifier: 'aurora',
          Status: 'available',
          SnapshotType: 'manual',
          SnapshotCreateTime: new Date(1000),
          TagList: tags,
        },
        {
          DBClusterSnapshotIdentifier: 'rds:auto',
          DBClusterIdentifier: 'aurora',
          Status: 'available',
          SnapshotType: 'automated',
          SnapshotCreateTime: new Date(500),
          TagList: tags,
        },
      ],
    });
    rds.on(DeleteDBClusterSnapshotCommand).resolves({});
    const context = await createRdsContext({
      region: 'eu-west-1',
      logger: new MemoryLogger(),
      credentials: () => Promise.resolve({ accessKeyId: 'a', secretAccessKey: 'b' }),
    });
    const result = await applyRetention(
      context,
      cluster,
      { kind: 'cluster', id: 'now', databaseId: 'aurora', status: 'available', type: 'manual', tags: {} },
      1,
    );
    expect(result.deleted).toEqual(['old']);
    expect(
      rds
        .commandCalls(DeleteDBClusterSnapshotCommand)
        .map((c) => c.args[0].input.DBClusterSnapshotIdentifier),
    ).toEqual(['old']);
    expect(rds.commandCalls(DeleteDBSnapshotCommand)).toHaveLength(0);
  });
});

describe('tags', () => {
  it('marks a snapshot as ours for its database, and isBackupOf recognises exactly that', () => {
    const tags = backupTags({
      database: { kind: 'instance', id: 'Planner-Prod' },
      repository: 'o/r',
      sha: 'abc',
      runId: '1',
      runAttempt: '2',
      runUrl: 'https://github.com/o/r/actions/runs/1',
    });
    expect(tags).toEqual({
      'planner-deploy:created-by': 'rds-backup',
      'planner-deploy:database': 'planner-prod',
      'planner-deploy:repository': 'o/r',
      'planner-deploy:sha': 'abc',
      'planner-deploy:run-id': '1',
      'planner-deploy:run-attempt': '2',
      'planner-deploy:run-url': 'https://github.com/o/r/actions/runs/1',
    });
    expect(
      isBackupOf(
        { databaseId: 'planner-prod', type: 'manual', tags },
        { kind: 'instance', id: 'PLANNER-PROD' },
      ),
    ).toBe(true);
    expect(
      isBackupOf(
        { databaseId: 'planner-prod', type: 'automated', tags },
        { kind: 'instance', id: 'planner-prod' },
      ),
    ).toBe(false);
  });

  it.each<[string, string, RegExp | undefined]>([
    ['team', 'core', undefined],
    ['cost-center', 'a b_c.d:e/f=g+h-i@j', undefined],
    ['', 'x', /1 to 128/],
    ['k'.repeat(129), 'x', /1 to 128/],
    ['k', 'v'.repeat(257), /more than 256/],
    ['bad!', 'x', /only letters/],
    ['aws:foo', 'x', /reserved by AWS/],
    ['planner-deploy:database', 'other', /reserved for the automatic tags/],
  ])('tag %j=%j', (key, value, problem) => {
    const found = tagProblem(key, value);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});
