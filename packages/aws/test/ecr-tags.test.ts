import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageLabels, imageTags, sourceCommit, versionOfRef } from '../src/ecr-tags.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('imageTags', () => {
  const cases: {
    name: string;
    ref?: string;
    environment?: string;
    extra?: string[];
    tags: string[];
  }[] = [
    { name: 'a branch push: the SHA only', ref: 'refs/heads/main', tags: [SHA] },
    {
      name: 'with an environment',
      ref: 'refs/heads/main',
      environment: 'staging',
      tags: [SHA, 'staging-latest'],
    },
    {
      name: 'a version tag adds the version',
      ref: 'refs/tags/v1.2.3',
      environment: 'production',
      tags: [SHA, 'production-latest', 'v1.2.3'],
    },
    { name: 'a pre-release', ref: 'refs/tags/v2.0.0-rc.1', tags: [SHA, 'v2.0.0-rc.1'] },
    { name: 'build metadata is dropped', ref: 'refs/tags/v1.2.3+build.7', tags: [SHA, 'v1.2.3'] },
    { name: 'a tag that is not a version', ref: 'refs/tags/release-7', tags: [SHA] },
    { name: 'no v prefix is not a version tag', ref: 'refs/tags/1.2.3', tags: [SHA] },
    { name: 'leading zeros are not semver', ref: 'refs/tags/v01.2.3', tags: [SHA] },
    { name: 'a pull request ref', ref: 'refs/pull/7/merge', tags: [SHA] },
    {
      name: 'extra tags after the defaults, duplicates dropped',
      ref: 'refs/tags/v1.0.0',
      environment: 'staging',
      extra: ['stable', 'v1.0.0', 'staging-latest', 'edge'],
      tags: [SHA, 'staging-latest', 'v1.0.0', 'stable', 'edge'],
    },
    { name: 'no ref at all', tags: [SHA] },
  ];
  it.each(cases)('$name', ({ ref, environment, extra, tags }) => {
    expect(imageTags({ source: { sha: SHA, ref }, environment, extra })).toEqual(tags);
  });
});

describe('versionOfRef', () => {
  it.each([
    ['refs/tags/v0.0.1', 'v0.0.1'],
    ['refs/tags/v10.20.30-alpha.1', 'v10.20.30-alpha.1'],
    ['refs/heads/v1.2.3', undefined],
    ['refs/tags/v1.2', undefined],
    [undefined, undefined],
  ])('%s → %s', (ref, version) => {
    expect(versionOfRef(ref)).toBe(version);
  });
});

describe('imageLabels', () => {
  it('OCI labels from the repository, commit and version, the user winning', () => {
    expect(
      imageLabels(
        {
          sha: SHA,
          ref: 'refs/tags/v1.2.3',
          repository: 'example-org/planner-app',
          serverUrl: 'https://github.com',
        },
        { 'org.opencontainers.image.title': 'Planner', team: 'core' },
      ),
    ).toEqual({
      'org.opencontainers.image.source': 'https://github.com/example-org/planner-app',
      'org.opencontainers.image.url': 'https://github.com/example-org/planner-app',
      'org.opencontainers.image.title': 'Planner',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.version': 'v1.2.3',
      team: 'core',
    });
  });
  it('the version is the SHA off a version tag', () => {
    expect(imageLabels({ sha: SHA, ref: 'refs/heads/main' })['org.opencontainers.image.version']).toBe(SHA);
  });
});

describe('sourceCommit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'event-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const head = 'fedcba9876543210fedcba9876543210fedcba98';

  it('GITHUB_SHA on a push', () => {
    expect(sourceCommit({ GITHUB_EVENT_NAME: 'push', GITHUB_SHA: SHA })).toBe(SHA);
  });
  it("a pull request's head commit, not the merge commit", () => {
    const path = join(dir, 'pr.json');
    writeFileSync(path, JSON.stringify({ pull_request: { head: { sha: head } } }));
    expect(
      sourceCommit({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_SHA: SHA, GITHUB_EVENT_PATH: path }),
    ).toBe(head);
  });
  it('GITHUB_SHA when the payload is unreadable', () => {
    expect(
      sourceCommit({
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_SHA: SHA,
        GITHUB_EVENT_PATH: join(dir, 'none'),
      }),
    ).toBe(SHA);
  });
  it('undefined without GITHUB_SHA', () => {
    expect(sourceCommit({})).toBeUndefined();
  });
});
