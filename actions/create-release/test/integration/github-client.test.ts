// The client's retries and waits against local servers: what GitHub answers when it is unwell or busy.
import { afterEach, describe, expect, it } from '@jest/globals';
import { ActionFailure, MemoryLogger } from '@planner-deploy/action-kit';
import { startTestServer, type TestServer } from '@planner-deploy/runner-harness';
import { startGitHubApi, type GitHubApi } from '../../../../packages/sandbox/src/github/server.js';
import { createReleaseApi } from '../../src/github-api.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function sandbox(options: Parameters<typeof startGitHubApi>[0]): Promise<GitHubApi> {
  const api = await startGitHubApi({ owner: 'o', repo: 'r', ...options });
  closers.push(() => api.stop());
  return api;
}

async function server(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const started = await startTestServer(...args);
  closers.push(() => started.close());
  return started;
}

function client(url: string, token: string, logger: MemoryLogger, deadlineMs = 60_000) {
  return createReleaseApi({
    token,
    apiUrl: url,
    owner: 'o',
    repo: 'r',
    logger,
    signal: new AbortController().signal,
    deadline: Date.now() + deadlineMs,
  });
}

describe('GitHub client', () => {
  it('retries a 5xx three times with a logged backoff, then fails saying a re-run is safe', async () => {
    const api = await sandbox({ faults: { serverErrorNext: 10 } });
    const logger = new MemoryLogger();
    const releases = await client(api.url, api.token, logger);
    const error = await releases.listTags().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionFailure);
    expect((error as ActionFailure).title).toBe('GitHub unavailable');
    expect((error as Error).message).toContain('Re-run the job');
    expect(api.requests()).toHaveLength(4);
    expect(logger.text()).toMatch(/answered 502 Server Error; retry 3 of 3: waiting/);
    // Jittered backoff: at least half a second between attempts.
    const times = api.requests().map((r) => r.at);
    for (let i = 1; i < times.length; i++) {
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(450);
    }
  });

  it('honours retry-after on a 429 that is not worded as a secondary rate limit', async () => {
    const github = await server((_req, res, index) => {
      if (index === 0) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ message: 'Too many requests' }));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found' }));
    });
    const logger = new MemoryLogger();
    const releases = await client(github.url, 'ghs_x', logger);
    await expect(releases.getByTag('v1.0.0')).resolves.toBeUndefined();
    expect(github.requests).toHaveLength(2);
    expect((github.requests[1]?.at ?? 0) - (github.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(logger.text()).toContain('GitHub answered 429 with retry-after: 1: waiting 1.00s');
  });

  it('gives up at once when a rate limit outlasts the deadline', async () => {
    const api = await sandbox({ faults: { rateLimitNext: 1, retryAfterSeconds: 120 } });
    const logger = new MemoryLogger();
    const releases = await client(api.url, api.token, logger, 5000);
    const started = Date.now();
    const error = await releases.listTags().catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((error as ActionFailure).title).toBe('GitHub rate limit');
    expect(
      logger.entries.some((e) => e.level === 'warning' && e.message.includes("past the step's timeout")),
    ).toBe(true);
  });

  it('sends the token as the Authorization header only', async () => {
    const github = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[]');
    });
    const releases = await client(github.url, 'ghs_headerCheck', new MemoryLogger());
    await releases.listTags();
    expect(github.requests[0]?.headers.authorization).toBe('token ghs_headerCheck');
    expect(github.requests[0]?.url).toBe('/repos/o/r/tags?per_page=100&page=1');
  });
});
