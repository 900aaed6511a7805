import { describe, expect, it } from '@jest/globals';
import type { TaggedImage } from '../src/ecr-client.js';
import type { TagMutability } from '../src/ecr-names.js';
import { conflictMessage, planPublish, type PublishPlan } from '../src/ecr-plan.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const A: TaggedImage = { digest: `sha256:${'a'.repeat(64)}`, manifest: '{"a":1}', mediaType: undefined };
const B: TaggedImage = { digest: `sha256:${'b'.repeat(64)}`, manifest: '{"b":1}', mediaType: undefined };
const MUTABLE: TagMutability = { mode: 'MUTABLE', exclusions: [] };
const IMMUTABLE: TagMutability = { mode: 'IMMUTABLE', exclusions: [] };
const LATEST_MOVES: TagMutability = { mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['*-latest'] };
const TAGS = [SHA, 'staging-latest', 'v1.2.3'];

const cases: {
  name: string;
  current: [string, TaggedImage][];
  mutability: TagMutability;
  skip: boolean;
  plan: PublishPlan;
}[] = [
  {
    name: 'nothing exists: build',
    current: [],
    mutability: MUTABLE,
    skip: true,
    plan: { action: 'build', moved: [] },
  },
  {
    name: 'the SHA exists: reuse, add the missing tags',
    current: [[SHA, A]],
    mutability: MUTABLE,
    skip: true,
    plan: { action: 'reuse', image: A, add: ['staging-latest', 'v1.2.3'], unchanged: [SHA] },
  },
  {
    name: 'the SHA exists and every tag points there: reuse, nothing to add',
    current: [
      [SHA, A],
      ['staging-latest', A],
      ['v1.2.3', A],
    ],
    mutability: IMMUTABLE,
    skip: true,
    plan: { action: 'reuse', image: A, add: [], unchanged: TAGS },
  },
  {
    name: 'the SHA exists, staging-latest points elsewhere, mutable: reuse and move it',
    current: [
      [SHA, A],
      ['staging-latest', B],
    ],
    mutability: MUTABLE,
    skip: true,
    plan: { action: 'reuse', image: A, add: ['staging-latest', 'v1.2.3'], unchanged: [SHA] },
  },
  {
    name: 'the SHA exists, staging-latest points elsewhere, immutable: conflict',
    current: [
      [SHA, A],
      ['staging-latest', B],
    ],
    mutability: IMMUTABLE,
    skip: true,
    plan: { action: 'conflict', conflicts: [{ tag: 'staging-latest', digest: B.digest }], reuse: true },
  },
  {
    name: 'the same with an exclusion filter for *-latest: reuse',
    current: [
      [SHA, A],
      ['staging-latest', B],
    ],
    mutability: LATEST_MOVES,
    skip: true,
    plan: { action: 'reuse', image: A, add: ['staging-latest', 'v1.2.3'], unchanged: [SHA] },
  },
  {
    name: 'skip-if-exists false, the SHA exists, mutable: build and move',
    current: [[SHA, A]],
    mutability: MUTABLE,
    skip: false,
    plan: { action: 'build', moved: [SHA] },
  },
  {
    name: 'skip-if-exists false, the SHA exists, immutable: conflict',
    current: [[SHA, A]],
    mutability: IMMUTABLE,
    skip: false,
    plan: { action: 'conflict', conflicts: [{ tag: SHA, digest: A.digest }], reuse: false },
  },
  {
    name: 'a new commit, staging-latest exists, immutable: conflict before building',
    current: [['staging-latest', B]],
    mutability: IMMUTABLE,
    skip: true,
    plan: { action: 'conflict', conflicts: [{ tag: 'staging-latest', digest: B.digest }], reuse: false },
  },
  {
    name: 'a new commit, staging-latest exists, mutable: build and move it',
    current: [['staging-latest', B]],
    mutability: MUTABLE,
    skip: true,
    plan: { action: 'build', moved: ['staging-latest'] },
  },
  {
    name: 'a new commit, staging-latest and v1.2.3 exist, latest excluded: only the version conflicts',
    current: [
      ['staging-latest', B],
      ['v1.2.3', B],
    ],
    mutability: LATEST_MOVES,
    skip: true,
    plan: { action: 'conflict', conflicts: [{ tag: 'v1.2.3', digest: B.digest }], reuse: false },
  },
];

describe('planPublish (skip-if-exists and immutable tags, decided before any push)', () => {
  it.each(cases)('$name', ({ current, mutability, skip, plan }) => {
    expect(planPublish({ tags: TAGS, current: new Map(current), mutability, skipIfExists: skip })).toEqual(
      plan,
    );
  });
});

describe('conflictMessage', () => {
  it('names the tags, says nothing was pushed and how to fix a moving tag', () => {
    const message = conflictMessage('planner/app', {
      action: 'conflict',
      conflicts: [{ tag: 'staging-latest', digest: B.digest }],
      reuse: false,
    });
    expect(message).toContain('planner/app');
    expect(message).toContain('staging-latest (sha256:bbbbbbbbbbbb…)');
    expect(message).toContain('nothing was built or pushed');
    expect(message).toContain('IMMUTABLE_WITH_EXCLUSION');
  });
  it('suggests skip-if-exists for a fixed tag', () => {
    const message = conflictMessage('planner/app', {
      action: 'conflict',
      conflicts: [{ tag: SHA, digest: A.digest }],
      reuse: false,
    });
    expect(message).toContain('skip-if-exists: true');
  });
});
