// The upsert against the sandbox's GitHub API over real HTTP with the real octokit client, including the
// races that an end-to-end run hits only by chance: a tag published between our look-up and our write.
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/action-kit';
import { startGitHubApi, type GitHubApi } from '../../../../packages/sandbox/src/github/server.js';
import { createReleaseApi, type ReleaseApi } from '../../src/github-api.js';
import { upsertRelease, type DesiredRelease } from '../../src/upsert-release.js';

const apis: GitHubApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.stop()));
});

async function setup(): Promise<{ sandbox: GitHubApi; api: ReleaseApi; logger: MemoryLogger }> {
  const sandbox = await startGitHubApi({ owner: 'o', repo: 'r', tags: ['v1.0.0', 'v1.2.0'] });
  apis.push(sandbox);
  const logger = new MemoryLogger();
  const api = await createReleaseApi({
    token: sandbox.token,
    apiUrl: sandbox.url,
    owner: 'o',
    repo: 'r',
    logger,
    signal: new AbortController().signal,
    deadline: Date.now() + 60_000,
  });
  return { sandbox, api, logger };
}

const desired: DesiredRelease = {
  tag: 'v1.2.0',
  name: 'v1.2.0',
  body: 'ours',
  prerelease: false,
  draft: false,
  makeLatest: 'true',
  targetCommitish: undefined,
};

/** Publishes a competing release of the tag straight through the sandbox's API. */
async function publishCompetitor(sandbox: GitHubApi, tag: string): Promise<number> {
  const response = await fetch(`${sandbox.url}/repos/o/r/releases`, {
    method: 'POST',
    headers: { authorization: `token ${sandbox.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tag_name: tag, body: 'theirs' }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: number }).id;
}

describe('upsertRelease', () => {
  it('creates a draft, then publishes it', async () => {
    const { sandbox, api } = await setup();
    const result = await upsertRelease(api, desired, new MemoryLogger());
    expect(result.created).toBe(true);
    expect(sandbox.releases()).toMatchObject([{ tag_name: 'v1.2.0', draft: false, body: 'ours' }]);
    expect(sandbox.latest()?.id).toBe(result.release.id);
  });

  it('adopts the winner when another run publishes the tag between our look-up and our publish', async () => {
    const { sandbox, api, logger } = await setup();
    let competitor = 0;
    // The other run publishes right after our look-ups found nothing.
    const racing: ReleaseApi = {
      ...api,
      findDraft: async (tag) => {
        const found = await api.findDraft(tag);
        competitor = await publishCompetitor(sandbox, tag);
        return found;
      },
    };
    const result = await upsertRelease(racing, desired, logger);
    expect(result.created).toBe(false);
    expect(result.release.id).toBe(competitor);
    const releases = sandbox.releases();
    expect(releases).toHaveLength(1);
    expect(releases[0]).toMatchObject({ id: competitor, draft: false, body: 'ours' });
    expect(logger.text()).toContain(`published release ${competitor} of v1.2.0 first; deleted our draft`);
  });

  it('updates the winner when the create itself answers already_exists', async () => {
    const { sandbox, api } = await setup();
    let competitor = 0;
    const racing: ReleaseApi = {
      ...api,
      getByTag: async (tag) => (competitor === 0 ? undefined : api.getByTag(tag)),
      create: async (fields) => {
        competitor = await publishCompetitor(sandbox, fields.tag_name);
        // What GitHub answers when a published release owns the tag.
        return api.create({ ...fields, draft: false });
      },
    };
    const result = await upsertRelease(racing, desired, new MemoryLogger());
    expect(result).toMatchObject({ created: false, release: { id: competitor } });
    expect(sandbox.releases()).toHaveLength(1);
    expect(sandbox.releases()[0]?.body).toBe('ours');
  });

  it('updates a published release without touching its draft state, warning when draft is asked', async () => {
    const { sandbox, api, logger } = await setup();
    const id = await publishCompetitor(sandbox, 'v1.2.0');
    const result = await upsertRelease(api, { ...desired, draft: true, makeLatest: 'false' }, logger);
    expect(result).toMatchObject({ created: false, release: { id, draft: false } });
    expect(logger.entries.some((e) => e.level === 'warning' && e.message.includes('stays published'))).toBe(
      true,
    );
    expect(sandbox.releases()).toHaveLength(1);
  });

  it('handles a monorepo tag with a slash (encoded in the path) and re-runs on it', async () => {
    const { sandbox, api } = await setup();
    const tag = 'api/v2.0.0';
    const first = await upsertRelease(api, { ...desired, tag, name: tag }, new MemoryLogger());
    const second = await upsertRelease(
      api,
      { ...desired, tag, name: tag, body: 'again' },
      new MemoryLogger(),
    );
    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.release.id).toBe(first.release.id);
    expect(sandbox.releases()).toMatchObject([{ tag_name: tag, body: 'again' }]);
    expect(sandbox.requests().some((r) => r.url.includes('/releases/tags/api%2Fv2.0.0'))).toBe(true);
  });

  it('lists every tag across pages', async () => {
    const { sandbox, api } = await setup();
    const many = Array.from({ length: 250 }, (_, i) => `v0.${i}.0`);
    sandbox.setTags(many);
    const { tags, complete } = await api.listTags();
    expect(complete).toBe(true);
    expect(tags.sort()).toEqual([...many].sort());
    expect(sandbox.requests().filter((r) => r.url.includes('/tags?')).length).toBe(3);
  });
});
