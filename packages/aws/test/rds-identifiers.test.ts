import { describe, expect, it } from '@jest/globals';
import {
  deriveSnapshotIdentifier,
  identifierFragment,
  identifierProblem,
  snapshotIdentifierProblem,
  type DatabaseKind,
  type SnapshotIdentifierSource,
} from '../src/rds-identifiers.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const base: Omit<SnapshotIdentifierSource, 'kind'> = {
  prefix: 'pre-deploy',
  repository: 'example-org/planner-app',
  database: 'planner-prod',
  sha: SHA,
  runId: '1234567890',
};

/** The RDS rules, written independently of the code under test. */
function assertValid(id: string, kind: DatabaseKind): void {
  expect(id.length).toBeGreaterThanOrEqual(1);
  expect(id.length).toBeLessThanOrEqual(kind === 'cluster' ? 63 : 255);
  expect(id).toMatch(/^[a-z][a-z0-9-]*$/);
  expect(id).not.toMatch(/--/);
  expect(id).not.toMatch(/-$/);
}

describe('deriveSnapshotIdentifier', () => {
  it.each<[string, Partial<SnapshotIdentifierSource>, DatabaseKind, string]>([
    ['the usual case', {}, 'instance', 'pre-deploy-planner-app-planner-prod-0123456-1234567890'],
    ['a cluster, same shape', {}, 'cluster', 'pre-deploy-planner-app-planner-prod-0123456-1234567890'],
    [
      'upper case and dots',
      { repository: 'Org/My.App', database: 'Planner_DB' },
      'cluster',
      'pre-deploy-my-app-planner-db-0123456-1234567890',
    ],
    [
      'underscores and runs of symbols',
      { repository: 'o/__a__b__', prefix: 'Backup' },
      'instance',
      'backup-a-b-planner-prod-0123456-1234567890',
    ],
    ['no repository', { repository: undefined }, 'instance', 'pre-deploy-planner-prod-0123456-1234567890'],
    ['no sha', { sha: undefined }, 'instance', 'pre-deploy-planner-app-planner-prod-1234567890'],
    [
      'a repository with nothing usable',
      { repository: 'o/___' },
      'instance',
      'pre-deploy-planner-prod-0123456-1234567890',
    ],
    [
      'a prefix starting with a digit',
      { prefix: '2024' },
      'instance',
      's-2024-planner-app-planner-prod-0123456-1234567890',
    ],
  ])('%s', (_what, overrides, kind, expected) => {
    const id = deriveSnapshotIdentifier({ ...base, ...overrides, kind });
    expect(id).toBe(expected);
    assertValid(id, kind);
  });

  it.each<[DatabaseKind, number]>([
    ['cluster', 63],
    ['instance', 255],
  ])(
    'shortens long names for a %s to at most %i characters, keeping the sha and run id whole',
    (kind, max) => {
      const long = 'a'.repeat(150) + '-' + 'b'.repeat(150);
      const id = deriveSnapshotIdentifier({
        ...base,
        kind,
        repository: `o/${long}`,
        database: `db-${'x'.repeat(60)}`,
      });
      expect(id.length).toBeLessThanOrEqual(max);
      expect(id.length).toBeGreaterThan(max - 3);
      expect(id.startsWith('pre-deploy-')).toBe(true);
      expect(id.endsWith('-0123456-1234567890')).toBe(true);
      assertValid(id, kind);
    },
  );

  it('cuts the longer of repository and database first, so both keep a part', () => {
    const id = deriveSnapshotIdentifier({
      ...base,
      kind: 'cluster',
      repository: 'o/a-very-long-repository-name-for-the-planner',
      database: 'planner-production-aurora',
    });
    expect(id.length).toBeLessThanOrEqual(63);
    expect(id).toMatch(/^pre-deploy-a-very-long-\S+-planner-\S*-0123456-1234567890$/);
    assertValid(id, 'cluster');
  });

  it('never leaves a hyphen where a fragment was cut', () => {
    // Cutting "ab-cd-…" at a hyphen must not produce "--" or a dangling hyphen.
    for (let n = 40; n < 80; n++) {
      const id = deriveSnapshotIdentifier({
        ...base,
        kind: 'cluster',
        repository: `o/${'ab-'.repeat(n)}z`,
        database: 'd-'.repeat(n) + 'e',
      });
      assertValid(id, 'cluster');
    }
  });

  it('is the same for every attempt of a run and differs between runs, commits and databases', () => {
    const first = deriveSnapshotIdentifier({ ...base, kind: 'instance' });
    expect(deriveSnapshotIdentifier({ ...base, kind: 'instance' })).toBe(first);
    expect(deriveSnapshotIdentifier({ ...base, kind: 'instance', runId: '1234567891' })).not.toBe(first);
    expect(deriveSnapshotIdentifier({ ...base, kind: 'instance', sha: 'fedcba9' + SHA.slice(7) })).not.toBe(
      first,
    );
    expect(deriveSnapshotIdentifier({ ...base, kind: 'instance', database: 'planner-staging' })).not.toBe(
      first,
    );
  });

  it('keeps a very long run id whole even if the prefix must give way', () => {
    const id = deriveSnapshotIdentifier({
      ...base,
      kind: 'cluster',
      prefix: 'p'.repeat(30),
      runId: '9'.repeat(40),
    });
    expect(id.endsWith('-' + '9'.repeat(40))).toBe(true);
    assertValid(id, 'cluster');
  });
});

describe('identifierProblem', () => {
  it.each<[string, number, RegExp | undefined]>([
    ['pre-deploy-1', 63, undefined],
    ['A', 63, undefined],
    ['', 63, /empty/],
    ['1abc', 63, /start with a letter/],
    ['abc-', 63, /end with a hyphen/],
    ['a--b', 63, /two consecutive hyphens/],
    ['a_b', 63, /only ASCII letters, digits and hyphens/],
    ['a'.repeat(64), 63, /64 characters, more than the 63/],
    ['a'.repeat(255), 255, undefined],
    ['ünï', 63, /only ASCII/],
  ])('%j (max %i)', (id, max, problem) => {
    const found = identifierProblem(id, max);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  it('allows 255 characters for DB snapshots and 63 for DB cluster snapshots', () => {
    const id = 'a'.repeat(100);
    expect(snapshotIdentifierProblem(id, 'instance')).toBeUndefined();
    expect(snapshotIdentifierProblem(id, 'cluster')).toMatch(/63/);
  });
});

describe('identifierFragment', () => {
  it.each([
    ['Planner App', 'planner-app'],
    ['--x--', 'x'],
    ['a.b_c/d', 'a-b-c-d'],
    ['___', ''],
  ])('%j → %j', (text, expected) => {
    expect(identifierFragment(text)).toBe(expected);
  });
});
