// End to end: the built dist/index.js, run exactly as the GitHub runner runs it, against the sandbox's GitHub
// API (GITHUB_API_URL). `pnpm test` builds the dists first; alone: `pnpm build create-release`.
import { afterEach, describe, expect, it } from '@jest/globals';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import {
  startGitHubApi,
  type GitHubApi,
  type GitHubApiOptions,
} from '../../../../packages/sandbox/src/github/server.js';

const action = 'actions/create-release';
const TOKEN = 'ghs_e2eSecretToken0123456789abcdefABCDEF';
const TAGS = ['v1.0.0', 'v1.1.0', 'v1.2.0-rc.1', 'v2.0.0', 'v1.2.0'];
const apis: GitHubApi[] = [];

async function sandbox(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const api = await startGitHubApi({ token: TOKEN, owner: 'owner', repo: 'repo', tags: TAGS, ...options });
  apis.push(api);
  return api;
}

afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.stop()));
});

function run(
  api: GitHubApi,
  options: {
    ref?: string;
    inputs?: Record<string, string>;
    token?: string;
    env?: Record<string, string>;
  } = {},
): Promise<RunResult> {
  return runStep({
    action,
    inputs: options.inputs ?? {},
    github: { token: options.token ?? api.token },
    env: {
      GITHUB_API_URL: api.url,
      GITHUB_REF: options.ref ?? 'refs/tags/v1.2.0',
      GITHUB_REPOSITORY: 'owner/repo',
      GITHUB_RUN_ID: '987654321',
      GITHUB_RUN_ATTEMPT: '1',
      ...options.env,
    },
  });
}

function errors(result: RunResult): string[] {
  return result.annotations.filter((a) => a.level === 'error').map((a) => `${a.title ?? ''}: ${a.message}`);
}

describe('create-release with credentials in environment-url', () => {
  it('masks them and keeps them out of the summary, the outputs and the published release body', async () => {
    const api = await sandbox();
    const password = 'env-url-e2e-pass-8080';
    const result = await runStep({
      action,
      inputs: {
        environment: 'production',
        'environment-url': `https://viewer:${password}@planner.example.com/`,
      },
      github: { token: api.token },
      env: {
        GITHUB_API_URL: api.url,
        GITHUB_REF: 'refs/tags/v1.2.0',
        GITHUB_REPOSITORY: 'owner/repo',
        GITHUB_RUN_ID: '987654321',
        GITHUB_RUN_ATTEMPT: '1',
      },
      // The harness fails the run if the password shows anywhere the runner would show it.
      secrets: { password },
    });
    expect(errors(result)).toEqual([]);
    expect(result.masks).toContain(password);
    const body = api.releases()[0]?.body ?? '';
    expect(body).toContain('[production](https://planner.example.com/)');
    expect(body).not.toContain(password);
    expect(result.summary).not.toContain(password);
  });
});

describe('create-release (built dist through the runner harness, sandbox GitHub API)', () => {
  it('creates the release of a new tag with notes from the previous version of the same family', async () => {
    const api = await sandbox();
    const result = await run(api, {
      inputs: {
        environment: 'production',
        'environment-url': 'https://planner.example.com',
        image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/planner@sha256:' + 'a'.repeat(64),
        'snapshot-identifier': 'planner-prod-pre-v1-2-0',
        body: 'Highlights: faster planning.',
      },
    });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const releases = api.releases();
    expect(releases).toHaveLength(1);
    const [release] = releases;
    expect(release).toMatchObject({ tag_name: 'v1.2.0', name: 'v1.2.0', draft: false, prerelease: false });
    expect(result.outputs).toMatchObject({
      id: String(release?.id),
      url: 'https://github.com/owner/repo/releases/tag/v1.2.0',
      'upload-url': release?.upload_url,
      created: 'true',
      tag: 'v1.2.0',
      'previous-tag': 'v1.1.0',
    });
    const body = release?.body ?? '';
    // The body input first, then GitHub's notes from v1.1.0 (not the rc, not v2.0.0), then the deployment.
    expect(body.indexOf('Highlights: faster planning.')).toBe(0);
    expect(body).toContain(
      '**Full Changelog**: https://github.com/o/r/compare/v1.1.0...v1.2.0'.replace('o/r', 'owner/repo'),
    );
    expect(body.indexOf('## Deployment')).toBeGreaterThan(body.indexOf('Full Changelog'));
    expect(body).toContain('[production](https://planner.example.com)');
    expect(body).toContain('`planner-prod-pre-v1-2-0`');
    expect(body).toContain('https://github.com/owner/repo/actions/runs/987654321');
    // v2.0.0 is a higher stable version: v1.2.0 must not take "Latest" from it.
    expect(api.latest()).toBeUndefined();
    expect(result.summary).toContain('Release v1.2.0 created');
    expect(result.summary).toContain('v1.1.0...v1.2.0');
    expect(result.summary).toContain('planner-prod-pre-v1-2-0');
    expect(result.summary).toContain('false (v2.0.0 is a higher version)');
    // Created as a draft, then published (the order immutable releases need).
    const writes = api.requests().filter((r) => r.method === 'POST' || r.method === 'PATCH');
    expect(writes.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'POST /repos/owner/repo/releases/generate-notes',
      'POST /repos/owner/repo/releases',
      `PATCH /repos/owner/repo/releases/${release?.id}`,
    ]);
  });

  it('updates the release on a re-run: same id, no duplicate, created=false, body refreshed', async () => {
    const api = await sandbox();
    const first = await run(api, { inputs: { environment: 'staging' } });
    expect(first.exitCode).toBe(0);
    const second = await run(api, {
      inputs: { environment: 'production' },
      env: { GITHUB_RUN_ATTEMPT: '2' },
    });
    expect(errors(second)).toEqual([]);
    expect(second.exitCode).toBe(0);
    expect(second.outputs.created).toBe('false');
    expect(second.outputs.id).toBe(first.outputs.id);
    const releases = api.releases();
    expect(releases).toHaveLength(1);
    expect(releases[0]?.body).toContain('production');
    expect(releases[0]?.body).not.toContain('staging');
    expect(releases[0]?.body).toContain('(attempt 2)');
    expect(second.summary).toContain('Release v1.2.0 updated');
  });

  it('ends with exactly one release when two runs race on the same tag', async () => {
    const api = await sandbox();
    const [a, b] = await Promise.all([run(api), run(api)]);
    expect(errors(a)).toEqual([]);
    expect(errors(b)).toEqual([]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect(api.releases()).toHaveLength(1);
    expect(api.releases()[0]?.draft).toBe(false);
    expect(a.outputs.id).toBe(b.outputs.id);
    expect([a.outputs.created, b.outputs.created].sort()).toEqual(['false', 'true']);
  });

  it('infers a prerelease from -rc and compares with the previous version, prereleases included', async () => {
    const api = await sandbox({ tags: [...TAGS, 'v2.1.0-rc.1', 'v2.1.0-rc.2'] });
    const result = await run(api, { ref: 'refs/tags/v2.1.0-rc.2' });
    expect(errors(result)).toEqual([]);
    expect(result.outputs['previous-tag']).toBe('v2.1.0-rc.1');
    const [release] = api.releases();
    expect(release?.prerelease).toBe(true);
    expect(release?.body).toContain('compare/v2.1.0-rc.1...v2.1.0-rc.2');
    expect(api.latest()).toBeUndefined();
    expect(result.summary).toContain('inferred from the tag');
  });

  it('marks the highest stable version latest, and prerelease: false overrides the inference', async () => {
    const api = await sandbox({ tags: [...TAGS, 'v2.1.0-beta'] });
    const result = await run(api, { ref: 'refs/tags/v2.1.0-beta', inputs: { prerelease: 'false' } });
    expect(errors(result)).toEqual([]);
    expect(api.releases()[0]?.prerelease).toBe(false);
    expect(api.latest()?.tag_name).toBe('v2.1.0-beta');
  });

  it('keeps Latest on v2.0.0 when a hotfix of the v1 line is released after it', async () => {
    const api = await sandbox({ tags: [...TAGS, 'v1.1.1'] });
    const major = await run(api, { ref: 'refs/tags/v2.0.0' });
    expect(errors(major)).toEqual([]);
    expect(api.latest()?.tag_name).toBe('v2.0.0');
    const hotfix = await run(api, { ref: 'refs/tags/v1.1.1' });
    expect(errors(hotfix)).toEqual([]);
    expect(hotfix.outputs['previous-tag']).toBe('v1.1.0');
    expect(api.latest()?.tag_name).toBe('v2.0.0');
    expect(api.releases().find((r) => r.tag_name === 'v1.1.1')?.body).toContain('compare/v1.1.0...v1.1.1');
  });

  it('does nothing on a branch, says so, and exits 0 without a request', async () => {
    const api = await sandbox();
    const result = await run(api, { ref: 'refs/heads/main' });
    expect(result.exitCode).toBe(0);
    expect(result.outputs.created).toBe('false');
    expect(result.outputs.id).toBeUndefined();
    expect(result.log).toContain('refs/heads/main is not a tag');
    expect(result.summary).toContain('nothing to do');
    expect(api.requests()).toEqual([]);
  });

  it('fails clearly on a bad token and never prints it', async () => {
    const api = await sandbox();
    const wrong = 'ghs_wrongTokenValue9876543210zyxwvuZYXWVU';
    const result = await run(api, { token: wrong });
    expect(result.exitCode).toBe(1);
    const [message] = errors(result);
    expect(message).toContain('GitHub token rejected');
    expect(message).toContain('Bad credentials');
    expect(message).toContain('contents: write');
    expect(result.masks).toContain(wrong);
    expect(result.log).not.toContain(wrong);
    expect(result.summary).toContain('Release v1.2.0 failed: GitHub token rejected');
    expect(result.summary).not.toContain(wrong);
    expect(api.releases()).toEqual([]);
    expect(api.requests().map((r) => r.status)).toEqual([401]);
  });

  it('says the token lacks contents: write when GitHub refuses the writes', async () => {
    const api = await sandbox({ permission: 'read' });
    const result = await run(api);
    expect(result.exitCode).toBe(1);
    const [message] = errors(result);
    expect(message).toContain('Permission denied');
    expect(message).toContain('Resource not accessible by integration');
    expect(message).toContain('permissions: contents: write');
    expect(api.releases()).toEqual([]);
  });

  it('stops a long rate-limit wait at cancellation, within the grace, saying so', async () => {
    const api = await sandbox({ faults: { rateLimitNext: 1, retryAfterSeconds: 60 } });
    const result = await runStep({
      action,
      github: { token: api.token },
      env: { GITHUB_API_URL: api.url, GITHUB_REF: 'refs/tags/v1.2.0', GITHUB_REPOSITORY: 'owner/repo' },
      cancel: { whenLog: /Secondary rate limit \(retry-after: 60s\): waiting/ },
    });
    expect(result.exitCode).toBe(1);
    expect(result.exitAfterCancelMs).toBeLessThan(5000);
    expect(result.annotations.some((a) => a.title === 'Cancelled')).toBe(true);
    expect(api.releases()).toEqual([]);
    expect(api.requests()).toHaveLength(1);
  });

  it('waits out a secondary rate limit, says so, and succeeds', async () => {
    const api = await sandbox({ faults: { rateLimitNext: 1 } });
    const result = await run(api);
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.log).toMatch(/Secondary rate limit \(retry-after: 1s\): waiting 1\.00s/);
    expect(api.requests()[0]?.status).toBe(403);
    expect(api.requests()[1]?.at ?? 0).toBeGreaterThanOrEqual((api.requests()[0]?.at ?? 0) + 900);
    expect(api.releases()).toHaveLength(1);
  });

  it('waits for the primary rate limit reset and retries a 502', async () => {
    const api = await sandbox({ faults: { primaryRateLimitNext: 1, serverErrorNext: 1 } });
    const result = await run(api);
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain('Primary rate limit reached');
    expect(result.log).toMatch(/answered 502 .*retrying/);
    expect(
      api
        .requests()
        .slice(0, 3)
        .map((r) => r.status),
    ).toEqual([403, 502, 200]);
    expect(api.releases()).toHaveLength(1);
  });

  it('fails with the rate limit named when waiting would pass the timeout', async () => {
    const api = await sandbox({ faults: { rateLimitNext: 1, retryAfterSeconds: 30 } });
    const result = await run(api, { inputs: { timeout: '10s' } });
    expect(result.exitCode).toBe(1);
    expect(errors(result).join('\n')).toMatch(/rate limit/i);
    expect(result.log).toContain('past the step');
    expect(result.durationMs).toBeLessThan(10_000);
    expect(api.requests()).toHaveLength(1);
    expect(api.releases()).toEqual([]);
  });

  it('keeps a draft with draft: true, and a re-run adopts that draft instead of making another', async () => {
    const api = await sandbox();
    const first = await run(api, { inputs: { draft: 'true' } });
    expect(errors(first)).toEqual([]);
    expect(first.outputs.created).toBe('true');
    expect(api.releases()[0]?.draft).toBe(true);
    const second = await run(api);
    expect(errors(second)).toEqual([]);
    expect(second.outputs.created).toBe('false');
    expect(second.outputs.id).toBe(first.outputs.id);
    expect(api.releases()).toHaveLength(1);
    expect(api.releases()[0]?.draft).toBe(false);
  });

  it('uses previous-tag when given, and refuses one the repository does not have before writing', async () => {
    const api = await sandbox();
    const given = await run(api, { inputs: { 'previous-tag': 'v1.0.0' } });
    expect(errors(given)).toEqual([]);
    expect(api.releases()[0]?.body).toContain('compare/v1.0.0...v1.2.0');

    const other = await sandbox();
    const missing = await run(other, { inputs: { 'previous-tag': 'v0.9.0' } });
    expect(missing.exitCode).toBe(1);
    expect(errors(missing).join('\n')).toContain('"previous-tag"');
    expect(other.requests().every((r) => r.method === 'GET')).toBe(true);
    expect(other.releases()).toEqual([]);
  });

  it('releases an explicit tag from a branch run with generate-notes off and the given name', async () => {
    const api = await sandbox();
    const result = await run(api, {
      ref: 'refs/heads/main',
      inputs: { tag: 'v1.1.1', name: 'Planner 1.1.1 (hotfix)', 'generate-notes': 'false' },
    });
    expect(errors(result)).toEqual([]);
    const [release] = api.releases();
    expect(release).toMatchObject({ tag_name: 'v1.1.1', name: 'Planner 1.1.1 (hotfix)' });
    expect(release?.body ?? '').not.toContain('Full Changelog');
    expect(api.requests().some((r) => r.url.includes('generate-notes'))).toBe(false);
    // The tag did not exist: it is created at the run's commit.
    expect(release?.target_commitish).toBe('0123456789abcdef0123456789abcdef01234567');
  });

  describe('refuses a bad value of every input before any request', () => {
    it.each([
      ['token', 'ghs_has space'],
      ['tag', 'v1.2.0 beta'],
      ['name', 'line one\nline two'],
      ['body', 'x'.repeat(100_001)],
      ['generate-notes', 'yes'],
      ['previous-tag', 'v1..0'],
      ['prerelease', 'maybe'],
      ['draft', 'no way'],
      ['make-latest', 'sometimes'],
      ['environment', 'production\nstaging'],
      ['environment-url', 'ftp://planner.example.com'],
      ['image', 'Not An Image'],
      ['snapshot-identifier', '1-bad--snapshot'],
      ['timeout', '5 minutes'],
    ])('%s', async (input, value) => {
      const api = await sandbox();
      const result = await run(api, { inputs: { [input]: value } });
      expect(result.exitCode).toBe(1);
      const message = errors(result).join('\n');
      expect(message).toContain(`"${input}"`);
      expect(api.requests()).toEqual([]);
      if (input === 'token') expect(result.log).not.toContain(value);
    });
  });
});
