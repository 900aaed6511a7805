// The sandbox's GitHub REST endpoints over real HTTP: auth, releases, races, pagination, notes and faults.
import { afterEach, describe, expect, it } from '@jest/globals';
import { startGitHubApi, type GitHubApi, type GitHubApiOptions } from '../src/github/server.js';

const apis: GitHubApi[] = [];

async function start(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const api = await startGitHubApi({ token: 'ghs_sandboxTestToken', owner: 'o', repo: 'r', ...options });
  apis.push(api);
  return api;
}

afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.stop()));
});

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function call(
  api: GitHubApi,
  method: string,
  path: string,
  body?: unknown,
  authorization = `token ${api.token}`,
): Promise<Answer> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization,
      accept: 'application/vnd.github+json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : JSON.parse(text),
    headers: response.headers,
  };
}

describe('sandbox GitHub API', () => {
  it('listens on 127.0.0.1 over plain HTTP', async () => {
    const api = await start();
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it.each([
    ['no header', undefined, 'Requires authentication'],
    ['a wrong token', 'token ghs_wrong', 'Bad credentials'],
    ['a wrong bearer', 'Bearer ghs_wrong', 'Bad credentials'],
    ['basic auth', 'Basic Z2hzOng=', 'Bad credentials'],
  ])('answers 401 for %s', async (_case, authorization, message) => {
    const api = await start();
    const response = await fetch(`${api.url}/repos/o/r/releases/tags/v1.0.0`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { message: string }).message).toBe(message);
  });

  it('accepts "token X" and "Bearer X" and sends rate-limit headers', async () => {
    const api = await start();
    const first = await call(api, 'GET', '/repos/o/r/tags');
    const second = await call(api, 'GET', '/repos/o/r/tags', undefined, `Bearer ${api.token}`);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-ratelimit-limit')).toBe('5000');
    expect(Number(second.headers.get('x-ratelimit-remaining'))).toBe(
      Number(first.headers.get('x-ratelimit-remaining')) - 1,
    );
    expect(Number(second.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
  });

  it('creates a release, finds it by tag and id, and updates it', async () => {
    const api = await start();
    expect((await call(api, 'GET', '/repos/o/r/releases/tags/v1.0.0')).status).toBe(404);
    const created = await call(api, 'POST', '/repos/o/r/releases', {
      tag_name: 'v1.0.0',
      name: 'v1.0.0',
      body: 'first',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      tag_name: 'v1.0.0',
      draft: false,
      prerelease: false,
      body: 'first',
    });
    expect(created.body.html_url).toBe('https://github.com/o/r/releases/tag/v1.0.0');
    expect(created.body.upload_url).toBe(
      `${api.url}/repos/o/r/releases/${created.body.id}/assets{?name,label}`,
    );
    const byTag = await call(api, 'GET', '/repos/o/r/releases/tags/v1.0.0');
    expect(byTag.body.id).toBe(created.body.id);
    const patched = await call(api, 'PATCH', `/repos/o/r/releases/${created.body.id}`, { body: 'second' });
    expect(patched.status).toBe(200);
    expect((await call(api, 'GET', `/repos/o/r/releases/${created.body.id}`)).body.body).toBe('second');
    expect(api.releases()).toHaveLength(1);
    expect(api.latest()?.id).toBe(created.body.id);
    expect(api.tags()).toContain('v1.0.0');
  });

  it('refuses a second published release of a tag with 422 already_exists', async () => {
    const api = await start();
    await call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v1.0.0' });
    const again = await call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v1.0.0' });
    expect(again.status).toBe(422);
    expect(again.body.errors).toEqual([{ resource: 'Release', code: 'already_exists', field: 'tag_name' }]);
  });

  it('gives exactly one release and one 422 for two concurrent creates', async () => {
    const api = await start();
    const answers = await Promise.all([
      call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v2.0.0' }),
      call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v2.0.0' }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 422]);
    expect(api.releases()).toHaveLength(1);
  });

  it('keeps drafts out of releases/tags, lets drafts share a tag, and refuses to publish a taken tag', async () => {
    const api = await start();
    const draft1 = await call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v3.0.0', draft: true });
    const draft2 = await call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v3.0.0', draft: true });
    expect([draft1.status, draft2.status]).toEqual([201, 201]);
    expect(draft1.body.html_url).toContain('/releases/tag/untagged-');
    expect(draft1.body.published_at).toBeNull();
    expect((await call(api, 'GET', '/repos/o/r/releases/tags/v3.0.0')).status).toBe(404);
    const listed = await call(api, 'GET', '/repos/o/r/releases');
    expect(listed.body.map((r: any) => r.id)).toEqual([draft2.body.id, draft1.body.id]);

    const published = await call(api, 'PATCH', `/repos/o/r/releases/${draft1.body.id}`, { draft: false });
    expect(published.status).toBe(200);
    expect(published.body.published_at).not.toBeNull();
    const refused = await call(api, 'PATCH', `/repos/o/r/releases/${draft2.body.id}`, { draft: false });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].code).toBe('already_exists');
    expect((await call(api, 'DELETE', `/repos/o/r/releases/${draft2.body.id}`)).status).toBe(204);
    expect(api.releases().map((r) => r.id)).toEqual([draft1.body.id]);
  });

  it.each([
    ['no tag_name', { name: 'x' }, 'missing_field'],
    ['a bad make_latest', { tag_name: 'v1.0.0', make_latest: 'maybe' }, 'invalid'],
    ['a non-boolean draft', { tag_name: 'v1.0.0', draft: 'yes' }, 'invalid'],
    ['a body over 125000 characters', { tag_name: 'v1.0.0', body: 'x'.repeat(125_001) }, 'custom'],
  ])('answers 422 for %s', async (_case, body, code) => {
    const api = await start();
    const answer = await call(api, 'POST', '/repos/o/r/releases', body);
    expect(answer.status).toBe(422);
    expect(answer.body.errors[0].code).toBe(code);
    expect(api.releases()).toHaveLength(0);
  });

  it('follows make_latest: false leaves the latest, legacy picks the newest stable release', async () => {
    const api = await start();
    const v2 = await call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v2.0.0' });
    await call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v1.0.1', make_latest: 'false' });
    expect(api.latest()?.id).toBe(v2.body.id);
    await call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v3.0.0-rc.1', prerelease: true });
    expect(api.latest()?.id).toBe(v2.body.id);
    const v101 = api.releases().find((r) => r.tag_name === 'v1.0.1');
    await call(api, 'PATCH', `/repos/o/r/releases/${v101?.id}`, { make_latest: 'legacy' });
    expect(api.latest()?.tag_name).toBe('v1.0.1');
  });

  it('paginates tags with per_page and Link headers', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `v1.${i}.0`);
    const api = await start({ tags: names });
    const seen: string[] = [];
    let next: string | undefined = '/repos/o/r/tags?per_page=3';
    let pages = 0;
    while (next !== undefined) {
      const page = await call(api, 'GET', next);
      pages++;
      seen.push(...page.body.map((t: any) => t.name));
      expect(page.body[0].commit.sha).toMatch(/^[0-9a-f]{40}$/);
      const match = /<([^>]+)>; rel="next"/.exec(page.headers.get('link') ?? '');
      next = match ? new URL(match[1] as string).pathname + new URL(match[1] as string).search : undefined;
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...names].sort());
    api.setTags(['v9.0.0']);
    expect((await call(api, 'GET', '/repos/o/r/tags')).body.map((t: any) => t.name)).toEqual(['v9.0.0']);
  });

  it('generates notes naming the previous and the new tag', async () => {
    const api = await start({ tags: ['v1.1.0', 'v1.2.0'] });
    const notes = await call(api, 'POST', '/repos/o/r/releases/generate-notes', {
      tag_name: 'v1.2.0',
      previous_tag_name: 'v1.1.0',
    });
    expect(notes.status).toBe(200);
    expect(notes.body.name).toBe('v1.2.0');
    expect(notes.body.body).toContain('**Full Changelog**: https://github.com/o/r/compare/v1.1.0...v1.2.0');
    const unknown = await call(api, 'POST', '/repos/o/r/releases/generate-notes', {
      tag_name: 'v1.2.0',
      previous_tag_name: 'v0.0.1',
    });
    expect(unknown.status).toBe(404);
    const first = await call(api, 'POST', '/repos/o/r/releases/generate-notes', { tag_name: 'v1.1.0' });
    expect(first.body.body).toContain('https://github.com/o/r/commits/v1.1.0');
  });

  it('serves injected faults to the next requests, then recovers', async () => {
    const api = await start({ faults: { rateLimitNext: 1, serverErrorNext: 1 } });
    const limited = await call(api, 'GET', '/repos/o/r/tags');
    expect(limited.status).toBe(403);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body.message).toMatch(/secondary rate limit/);
    expect((await call(api, 'GET', '/repos/o/r/tags')).status).toBe(502);
    expect((await call(api, 'GET', '/repos/o/r/tags')).status).toBe(200);
    api.inject({ primaryRateLimitNext: 1 });
    const primary = await call(api, 'GET', '/repos/o/r/tags');
    expect(primary.status).toBe(403);
    expect(primary.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(api.requests().map((r) => r.status)).toEqual([403, 502, 200, 403]);
  });

  it('answers writes with 403 for a read-only token, and uses a given retry-after', async () => {
    const api = await start({ permission: 'read', faults: { rateLimitNext: 1, retryAfterSeconds: 30 } });
    expect((await call(api, 'GET', '/repos/o/r/tags')).headers.get('retry-after')).toBe('30');
    expect((await call(api, 'GET', '/repos/o/r/tags')).status).toBe(200);
    const denied = await call(api, 'POST', '/repos/o/r/releases', { tag_name: 'v1.0.0' });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe('Resource not accessible by integration');
    expect(api.releases()).toEqual([]);
  });

  it('answers 404 for another repository or an unknown route', async () => {
    const api = await start();
    expect((await call(api, 'GET', '/repos/other/r/releases/tags/v1.0.0')).status).toBe(404);
    expect((await call(api, 'GET', '/repos/o/r/pulls')).status).toBe(404);
    expect((await call(api, 'PATCH', '/repos/o/r/releases/999', { body: 'x' })).status).toBe(404);
  });
});
