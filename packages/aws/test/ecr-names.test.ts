import { describe, expect, it } from '@jest/globals';
import {
  imageTagProblem,
  isTagImmutable,
  parseRegistry,
  repositoryProblem,
  splitRepository,
  type TagMutability,
} from '../src/ecr-names.js';

describe('parseRegistry', () => {
  it.each([
    ['', { kind: 'default' }],
    ['123456789012', { kind: 'account', accountId: '123456789012' }],
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      {
        kind: 'host',
        host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
        accountId: '123456789012',
        region: 'eu-west-1',
      },
    ],
    [
      'https://123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/',
      {
        kind: 'host',
        host: '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com',
        accountId: '123456789012',
        region: 'us-gov-west-1',
      },
    ],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      {
        kind: 'host',
        host: '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
        accountId: '123456789012',
        region: 'cn-north-1',
      },
    ],
    ['123456789012.DKR.ECR.eu-west-1.amazonaws.com', expect.objectContaining({ accountId: '123456789012' })],
    ['http://127.0.0.1:5000', { kind: 'host', host: '127.0.0.1:5000' }],
    ['localhost:5000', { kind: 'host', host: 'localhost:5000' }],
  ])('%s', (value, expected) => {
    expect(parseRegistry(value)).toEqual(expected);
  });

  it.each([
    ['12345', /12 digits/],
    ['1234567890123', /12 digits/],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/planner/app', /without a path/],
    ['public.ecr.aws', /ECR Public/],
    ['ecr.eu-west-1.amazonaws.com', /looks like <account id>/],
    ['not a host', /account id or a registry host/],
  ])('%s is refused', (value, problem) => {
    const parsed = parseRegistry(value);
    expect(parsed).toHaveProperty('problem');
    expect((parsed as { problem: string }).problem).toMatch(problem);
  });
});

describe('repositoryProblem', () => {
  it.each(['planner/app', 'app', 'team.a/planner-app_2', 'a/b/c'])('%s is valid', (name) => {
    expect(repositoryProblem(name)).toBeUndefined();
  });
  it.each([
    ['a', /2 to 256/],
    ['Planner/App', /lower case/],
    ['planner//app', /separators/],
    ['planner/app-', /separators/],
    ['-planner', /separators/],
    ['x'.repeat(257), /2 to 256/],
  ])('%s is refused', (name, problem) => {
    expect(repositoryProblem(name)).toMatch(problem);
  });
});

describe('splitRepository', () => {
  it.each([
    ['planner/app', { name: 'planner/app' }],
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/planner/app',
      { host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', name: 'planner/app' },
    ],
    ['127.0.0.1:5000/app', { host: '127.0.0.1:5000', name: 'app' }],
    ['localhost/app', { host: 'localhost', name: 'app' }],
  ])('%s', (value, expected) => {
    expect(splitRepository(value)).toEqual(expected);
  });
});

describe('imageTagProblem', () => {
  it.each(['v1.2.3', 'staging-latest', '0123456789abcdef0123456789abcdef01234567', '_x', 'A'.repeat(128)])(
    '%s is valid',
    (tag) => {
      expect(imageTagProblem(tag)).toBeUndefined();
    },
  );
  it.each(['-x', '.x', 'a b', 'v1+build', 'A'.repeat(129), ''])('%s is refused', (tag) => {
    expect(imageTagProblem(tag)).toBeDefined();
  });
});

describe('isTagImmutable', () => {
  const cases: [TagMutability, string, boolean][] = [
    [{ mode: 'MUTABLE', exclusions: [] }, 'staging-latest', false],
    [{ mode: 'IMMUTABLE', exclusions: [] }, 'staging-latest', true],
    [{ mode: 'IMMUTABLE', exclusions: ['*-latest'] }, 'staging-latest', true],
    [{ mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['*-latest'] }, 'staging-latest', false],
    [{ mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['*-latest'] }, 'v1.2.3', true],
    [{ mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['buildcache'] }, 'buildcache', false],
    [{ mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['v*'] }, 'v1.2.3', false],
    [{ mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['v1.*'] }, 'v1x2', true],
    [{ mode: 'MUTABLE_WITH_EXCLUSION', exclusions: ['v*'] }, 'v1.2.3', true],
    [{ mode: 'MUTABLE_WITH_EXCLUSION', exclusions: ['v*'] }, 'staging-latest', false],
  ];
  it.each(cases)('%j: %s → %s', (mutability, tag, expected) => {
    expect(isTagImmutable(mutability, tag)).toBe(expected);
  });
});
