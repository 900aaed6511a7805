import { describe, expect, it } from '@jest/globals';
import {
  compareVersions,
  higherStableTag,
  isPrereleaseTag,
  parseTag,
  previousTag,
  type TagVersion,
} from '../../src/semver.js';

describe('parseTag', () => {
  it.each<[string, Partial<TagVersion> | undefined]>([
    ['v1.2.3', { family: 'v', major: 1, minor: 2, patch: 3, prerelease: [] }],
    ['1.2.3', { family: '', major: 1, minor: 2, patch: 3, prerelease: [] }],
    ['v10.20.30', { family: 'v', major: 10, minor: 20, patch: 30 }],
    ['api/v2.0.0', { family: 'api/v', major: 2 }],
    ['release-1.0.0', { family: 'release-', major: 1 }],
    ['app2-1.4.0', { family: 'app2-', major: 1, minor: 4 }],
    ['v1.2.0-rc.1', { family: 'v', prerelease: ['rc', 1] }],
    ['v1.2.0-alpha.beta.11', { prerelease: ['alpha', 'beta', 11] }],
    ['v1.2.0+build.5', { family: 'v', patch: 0, prerelease: [] }],
    ['v1.2.0-rc.1+sha.abc', { prerelease: ['rc', 1] }],
    ['v1', undefined],
    ['v1.2', undefined],
    ['1.2.3.4', undefined],
    ['v1.02.0', undefined],
    ['v1.2.0-', undefined],
    ['latest', undefined],
    ['', undefined],
  ])('%s', (tag, expected) => {
    const parsed = parseTag(tag);
    if (expected === undefined) expect(parsed).toBeUndefined();
    else expect(parsed).toMatchObject({ tag, ...expected });
  });
});

describe('compareVersions (semver precedence)', () => {
  // Each tag is lower than the next, as in the semver specification's example.
  const ordered = [
    'v1.0.0-alpha',
    'v1.0.0-alpha.1',
    'v1.0.0-alpha.beta',
    'v1.0.0-beta',
    'v1.0.0-beta.2',
    'v1.0.0-beta.11',
    'v1.0.0-rc.1',
    'v1.0.0',
    'v1.0.1',
    'v1.1.0',
    'v1.10.0',
    'v2.0.0',
  ];
  it.each(ordered.slice(0, -1).map((tag, i) => [tag, ordered[i + 1] as string]))('%s < %s', (low, high) => {
    const a = parseTag(low) as TagVersion;
    const b = parseTag(high) as TagVersion;
    expect(compareVersions(a, b)).toBeLessThan(0);
    expect(compareVersions(b, a)).toBeGreaterThan(0);
  });

  it('ignores build metadata', () => {
    expect(compareVersions(parseTag('v1.0.0+a') as TagVersion, parseTag('v1.0.0+b') as TagVersion)).toBe(0);
  });
});

describe('previousTag', () => {
  const tags = ['v1.0.0', 'v1.1.0', 'v1.2.0-rc.1', 'v2.0.0', 'v1.2.0'];
  it.each<[string, string, readonly string[], string | undefined]>([
    ['the highest lower stable version', 'v1.2.0', tags, 'v1.1.0'],
    ['a new major compares with the last of the previous major', 'v2.0.0', tags, 'v1.2.0'],
    ['a hotfix of an older line, after a newer major', 'v1.1.1', tags, 'v1.1.0'],
    [
      'a prerelease compares with the previous prerelease',
      'v1.2.0-rc.2',
      [...tags, 'v1.2.0-rc.2'],
      'v1.2.0-rc.1',
    ],
    ['a first prerelease compares with the last stable', 'v1.3.0-rc.1', tags, 'v1.2.0'],
    ['the first version has none', 'v1.0.0', tags, undefined],
    ['a tag that is not a version has none', 'nightly', tags, undefined],
    ['moving major tags are not versions', 'v1.2.0', ['v1', 'v1.1', 'v1.1.0', 'v1.2.0'], 'v1.1.0'],
    ['another family is ignored', 'api/v1.2.0', ['web/v1.9.0', 'api/v1.1.0', 'v1.1.5'], 'api/v1.1.0'],
    ['unprefixed tags are their own family', '1.2.0', ['v1.1.9', '1.1.0', '1.2.0'], '1.1.0'],
    [
      'the order of the list does not matter',
      'v1.10.0',
      ['v1.9.0', 'v1.2.0', 'v1.10.0', 'v1.11.0'],
      'v1.9.0',
    ],
    ['build metadata only: the name decides', 'v1.2.0', ['v1.1.0+b', 'v1.1.0+a'], 'v1.1.0+b'],
    ['a tag absent from the list still gets a base', 'v1.5.0', tags, 'v1.2.0'],
  ])('%s', (_case, tag, list, expected) => {
    expect(previousTag(tag, list)).toBe(expected);
  });
});

describe('higherStableTag and isPrereleaseTag', () => {
  it.each<[string, string[], string | undefined]>([
    ['v1.2.0', ['v1.0.0', 'v2.0.0'], 'v2.0.0'],
    ['v2.0.0', ['v1.0.0', 'v2.0.0', 'v2.1.0-rc.1'], undefined],
    ['api/v1.0.0', ['web/v9.0.0', 'api/v1.0.0'], undefined],
    ['nightly', ['v1.0.0'], undefined],
  ])('%s among %j → %s', (tag, list, expected) => {
    expect(higherStableTag(tag, list)).toBe(expected);
  });

  it.each([
    ['v1.2.0-rc.1', true],
    ['v1.2.0', false],
    ['v1.2.0+build', false],
    ['nightly-2024', false],
  ])('%s is a prerelease: %s', (tag, expected) => {
    expect(isPrereleaseTag(tag)).toBe(expected);
  });
});
