import { describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/core';
import { classifyPushFailure, retryDocker, type FailureKind } from '../src/docker-retry.js';

describe('classifyPushFailure', () => {
  const cases: [string, FailureKind][] = [
    ['received unexpected HTTP status: 500 Internal Server Error', 'transient'],
    ['received unexpected HTTP status: 502 Bad Gateway', 'transient'],
    ['error parsing HTTP 503 response body: Service Unavailable', 'transient'],
    ['toomanyrequests: Rate exceeded', 'transient'],
    [
      'Put "https://x/v2/app/blobs/uploads/1": write tcp 10.0.0.1:443: write: connection reset by peer',
      'transient',
    ],
    ['dial tcp 1.2.3.4:443: i/o timeout', 'transient'],
    ['net/http: TLS handshake timeout', 'transient'],
    ['unexpected EOF', 'transient'],
    ['Head "https://x/v2/": context deadline exceeded', 'transient'],
    [
      "tag invalid: The image tag 'v1' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.",
      'terminal',
    ],
    ['denied: User is not authorized to perform: ecr:InitiateLayerUpload', 'terminal'],
    ['unauthorized: authentication required', 'terminal'],
    ['no basic auth credentials', 'terminal'],
    ["name unknown: The repository with name 'x' does not exist in the registry with id '1'", 'terminal'],
    ['manifest invalid: manifest invalid', 'terminal'],
    ['An image does not exist locally with the tag: h/app', 'terminal'],
    // A refusal wins over a hiccup mentioned in the same output.
    ['unexpected EOF\ndenied: not authorized', 'terminal'],
    ['something nobody has seen before', 'terminal'],
    // Digests and sizes are not status codes.
    [`abc: digest: sha256:${'5'.repeat(64)} size: 502\nerror: something else`, 'terminal'],
  ];
  it.each(cases)('%s → %s', (output, kind) => {
    expect(classifyPushFailure(output)).toBe(kind);
  });
});

describe('retryDocker', () => {
  const ok = { code: 0, stdout: 'digest: sha256:x', stderr: '' };
  const flaky = { code: 1, stdout: '', stderr: 'received unexpected HTTP status: 503 Service Unavailable' };
  const refused = { code: 1, stdout: '', stderr: 'denied: not authorized' };

  function script(results: (typeof ok)[]): { run: () => Promise<typeof ok>; count: () => number } {
    let i = 0;
    return {
      run: () => Promise.resolve(results[Math.min(i++, results.length - 1)]!),
      count: () => i,
    };
  }

  it('retries transient failures with jittered, growing delays, then succeeds', async () => {
    const delays: number[] = [];
    const logger = new MemoryLogger();
    const { run, count } = script([flaky, flaky, ok]);
    const { result, attempts } = await retryDocker('docker push', run, logger, {
      wait: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
      random: () => 0.5,
      baseDelayMs: 1000,
    });
    expect(result).toBe(ok);
    expect(attempts).toBe(3);
    expect(count()).toBe(3);
    expect(delays).toEqual([1000, 2000]);
    expect(logger.entries.filter((e) => e.level === 'warning')).toHaveLength(2);
    expect(logger.text()).toContain('503 Service Unavailable');
  });

  it('gives up after the attempts', async () => {
    const { run, count } = script([flaky]);
    const { result, attempts } = await retryDocker('docker push', run, new MemoryLogger(), {
      attempts: 3,
      wait: () => Promise.resolve(),
    });
    expect(result.code).toBe(1);
    expect(attempts).toBe(3);
    expect(count()).toBe(3);
  });

  it('does not retry a terminal failure', async () => {
    const { run, count } = script([refused, ok]);
    const { result, attempts } = await retryDocker('docker push', run, new MemoryLogger(), {
      wait: () => Promise.resolve(),
    });
    expect(result).toBe(refused);
    expect(attempts).toBe(1);
    expect(count()).toBe(1);
  });

  it('the delay is capped', async () => {
    const delays: number[] = [];
    const { run } = script([flaky, flaky, flaky, flaky, flaky, ok]);
    await retryDocker('docker push', run, new MemoryLogger(), {
      attempts: 6,
      baseDelayMs: 1000,
      capDelayMs: 3000,
      random: () => 1,
      wait: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    });
    expect(delays).toEqual([2000, 3000, 3000, 3000, 3000]);
  });

  it('a cancel during the wait stops the retries', async () => {
    const controller = new AbortController();
    controller.abort();
    const { run, count } = script([flaky, ok]);
    await expect(
      retryDocker('docker push', run, new MemoryLogger(), { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'CancelledError' });
    expect(count()).toBe(1);
  });
});
