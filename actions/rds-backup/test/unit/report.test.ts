import { describe, expect, it } from '@jest/globals';
import { ActionFailure, CancelledError, ConfigurationError } from '@planner-deploy/action-kit';
import type { Inputs } from '../../src/inputs.js';
import { buildSummary, failureSummary, toOutputs, verdictError } from '../../src/report.js';
import type { BackupResult } from '../../src/run.js';

function result(
  overrides: Partial<BackupResult> = {},
  snapshot: Partial<BackupResult['snapshot']> = {},
): BackupResult {
  return {
    database: { kind: 'instance', id: 'planner-prod' },
    region: 'eu-west-1',
    snapshot: {
      kind: 'instance',
      id: 'pre-deploy-x',
      arn: 'arn:aws:rds:eu-west-1:1:snapshot:pre-deploy-x',
      databaseId: 'planner-prod',
      status: 'available',
      progress: 100,
      tags: { team: 'core' },
      ...snapshot,
    },
    origin: 'created',
    outcome: 'available',
    durationMs: 61_400,
    timeoutMs: 1_800_000,
    ...overrides,
  };
}

describe('outputs', () => {
  it('gives the identifier, ARN, status, whole seconds, reuse and deletions', () => {
    expect(
      toOutputs(
        result({
          origin: 'reused',
          retention: { kept: ['a'], deleted: ['b', 'c'], failed: [], untouched: 2 },
        }),
      ),
    ).toEqual({
      'snapshot-identifier': 'pre-deploy-x',
      'snapshot-arn': 'arn:aws:rds:eu-west-1:1:snapshot:pre-deploy-x',
      status: 'available',
      'duration-seconds': '61',
      reused: 'true',
      'deleted-snapshots': '["b","c"]',
    });
  });
});

describe('verdictError', () => {
  it.each<
    [BackupResult['outcome'], string, (new (...args: never[]) => Error) | undefined, RegExp | undefined]
  >([
    ['available', 'available', undefined, undefined],
    ['started', 'creating', undefined, undefined],
    [
      'failed',
      'failed',
      ActionFailure,
      /ended with status "failed".*aws rds delete-db-snapshot --db-snapshot-identifier pre-deploy-x/,
    ],
    [
      'timeout',
      'creating',
      ActionFailure,
      /still "creating", 40% after the timeout of 30m00s.*continues in RDS.*re-run/,
    ],
    [
      'cancelled',
      'creating',
      CancelledError,
      /Stopped waiting for snapshot pre-deploy-x \(status "creating", 40%\): the snapshot continues in RDS/,
    ],
  ])('%s', (outcome, status, type, message) => {
    const error = verdictError(result({ outcome }, { status, progress: status === 'available' ? 100 : 40 }));
    if (type === undefined) {
      expect(error).toBeUndefined();
      return;
    }
    expect(error).toBeInstanceOf(type);
    expect(error?.message).toMatch(message!);
  });

  it('names the cluster delete command for a failed DB cluster snapshot', () => {
    const error = verdictError(
      result(
        { outcome: 'failed', database: { kind: 'cluster', id: 'aurora' } },
        { kind: 'cluster', status: 'failed' },
      ),
    );
    expect(error?.message).toContain(
      'aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier pre-deploy-x',
    );
  });
});

describe('summary', () => {
  it('shows the database, snapshot, status, duration, tags and the instance restore command', () => {
    const text = buildSummary(result()).render();
    expect(text).toContain(
      '| DB instance "planner-prod" (eu-west-1) | pre-deploy-x | available | 1m01s | created by this step |',
    );
    expect(text).toContain('team=core');
    expect(text).toContain(
      'aws rds restore-db-instance-from-db-snapshot --region eu-west-1 --db-instance-identifier <new-instance-id> --db-snapshot-identifier pre-deploy-x',
    );
    expect(text).not.toContain('Retention');
  });

  it('shows the cluster restore (cluster, then an instance in it) with the engine', () => {
    const text = buildSummary(
      result({ database: { kind: 'cluster', id: 'aurora' } }, { kind: 'cluster', engine: 'aurora-mysql' }),
    ).render();
    expect(text).toContain(
      'aws rds restore-db-cluster-from-snapshot --region eu-west-1 --db-cluster-identifier <new-cluster-id> --snapshot-identifier pre-deploy-x --engine aurora-mysql',
    );
    expect(text).toContain(
      'aws rds create-db-instance --region eu-west-1 --db-cluster-identifier <new-cluster-id>',
    );
  });

  it('says what retention deleted, kept, left alone and could not delete', () => {
    const text = buildSummary(
      result({
        retain: 2,
        retention: {
          kept: ['pre-deploy-x', 'k'],
          deleted: ['old-1'],
          failed: [{ id: 'old-2', message: 'in use' }],
          untouched: 1,
        },
      }),
    ).render();
    expect(text).toContain('**Retention** (retain: 2): kept 2 of this action');
    expect(text).toContain('deleted 1: `old-1`');
    expect(text).toContain('Not touched: 1 other manual snapshot of the database and every automated one.');
    expect(text).toContain('Could not delete: `old-2` (in use)');
  });
});

describe('failureSummary', () => {
  const inputs = {
    database: { kind: 'cluster', id: 'aurora' },
    region: 'eu-west-1',
    'snapshot-identifier': 'snap-x',
  } as Inputs;

  it('names the failure, the database and the snapshot not taken', () => {
    const text = failureSummary(
      inputs,
      new ActionFailure('Database not available', 'The DB cluster "aurora" is "modifying".'),
    ).render();
    expect(text).toContain('## RDS backup failed: Database not available');
    expect(text).toContain('| DB cluster "aurora" (eu-west-1) | snap-x | not taken |');
    expect(text).toContain('is "modifying"');
  });

  it('uses the title of a configuration error, and a generic one otherwise', () => {
    expect(
      failureSummary(inputs, new ConfigurationError('x', { title: 'Database not found' })).render(),
    ).toContain('RDS backup failed: Database not found');
    expect(failureSummary(inputs, new Error('socket hang up')).render()).toMatch(
      /## RDS backup failed\n[\s\S]*socket hang up/,
    );
  });
});
