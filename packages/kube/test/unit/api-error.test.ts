import { describe, expect, it } from '@jest/globals';
import { runInNewContext } from 'node:vm';
import {
  apiErrorFromResponse,
  isGone,
  isNotFound,
  isTransient,
  KubeApiError,
  parseRetryAfter,
} from '../../src/api-error.js';
import { withRetry } from '../../src/retry.js';

const foreign = (code: string, message: string): Error =>
  runInNewContext(`const e = new Error(${JSON.stringify(message)}); e.code = ${JSON.stringify(code)}; e`);

describe('isTransient', () => {
  it.each<[string, unknown, boolean]>([
    ['500', new KubeApiError(500, 'x'), true],
    ['503', new KubeApiError(503, 'x'), true],
    ['429', new KubeApiError(429, 'x'), true],
    ['404', new KubeApiError(404, 'x'), false],
    ['409', new KubeApiError(409, 'x'), false],
    ['422', new KubeApiError(422, 'x'), false],
    ['ECONNRESET from another realm', foreign('ECONNRESET', 'socket hang up'), true],
    ['ECONNREFUSED', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), true],
    ['a timeout', Object.assign(new Error('t'), { name: 'TimeoutError' }), true],
    ['a bug', new TypeError('x is undefined'), false],
    ['a string', 'nope', false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });
});

describe('apiErrorFromResponse', () => {
  it('reads the Status', () => {
    const error = apiErrorFromResponse(
      404,
      JSON.stringify({
        kind: 'Status',
        status: 'Failure',
        message: 'deployments.apps "x" not found',
        reason: 'NotFound',
        code: 404,
      }),
    );
    expect(error.describe()).toBe('Error from server (NotFound): deployments.apps "x" not found');
    expect(isNotFound(error)).toBe(true);
  });
  it('keeps a non-JSON body and the Retry-After', () => {
    const error = apiErrorFromResponse(503, '<html>bad gateway</html>', '2');
    expect(error).toMatchObject({
      statusCode: 503,
      reason: 'ServiceUnavailable',
      retryAfterMs: 2000,
      message: '<html>bad gateway</html>',
    });
    expect(isGone(apiErrorFromResponse(410, '{}'))).toBe(true);
  });
  it.each([
    ['3', 3000],
    ['0', 0],
    ['', undefined],
    ['soon', undefined],
  ])('Retry-After %j → %s', (value, expected) => {
    expect(parseRetryAfter(value)).toBe(expected);
  });
});

describe('withRetry', () => {
  it('retries transient errors, honouring Retry-After, and gives up on others', async () => {
    let calls = 0;
    const value = await withRetry(
      () => {
        calls++;
        if (calls === 1) return Promise.reject(new KubeApiError(429, 'slow', { retryAfterMs: 5 }));
        if (calls === 2) return Promise.reject(foreign('ECONNRESET', 'socket hang up'));
        return Promise.resolve('ok');
      },
      { what: 'test', baseMs: 1, capMs: 2 },
    );
    expect([value, calls]).toEqual(['ok', 3]);
    await expect(
      withRetry(() => Promise.reject(new KubeApiError(404, 'gone')), { what: 'x' }),
    ).rejects.toThrow('gone');
  });
  it('does not wait past the deadline', async () => {
    const started = Date.now();
    await expect(
      withRetry(() => Promise.reject(new KubeApiError(503, 'down', { retryAfterMs: 10_000 })), {
        what: 'x',
        deadline: Date.now() + 100,
      }),
    ).rejects.toThrow('down');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
