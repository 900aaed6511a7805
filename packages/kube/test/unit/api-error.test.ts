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

describe('KubeApiError.userError: a 404, 401 or 403 says what to fix', () => {
  const where = {
    cluster: 'the kubeconfig input, context ci (https://k8s.example)',
    context: 'ci',
    credential: 'the credentials of user "deployer" in the kubeconfig input',
    credentialAdvice: "Check that this user's token is current.",
  };
  function failed(status: number, body: object, method: string, path: string, query = {}): KubeApiError {
    const error = apiErrorFromResponse(status, JSON.stringify({ kind: 'Status', ...body }));
    error.request = { method, path, query };
    error.where = where;
    return error;
  }

  it('404 on a Deployment names it, its namespace, the cluster and context, and how to list what is there', () => {
    const error = failed(
      404,
      {
        message: 'deployments.apps "planner-app" not found',
        reason: 'NotFound',
        details: { name: 'planner-app', group: 'apps', kind: 'deployments' },
      },
      'GET',
      '/apis/apps/v1/namespaces/planner-production/deployments/planner-app',
    ).userError();
    expect(error?.title).toBe('Deployment not found');
    expect(error?.message).toContain(
      'Deployment "planner-app" was not found in namespace "planner-production"',
    );
    expect(error?.message).toContain('context ci');
    expect(error?.message).toContain('kubectl get deployments -n planner-production --context ci');
  });

  it('404 for a missing namespace says the namespace does not exist', () => {
    const error = failed(
      404,
      {
        message: 'namespaces "planner-prod" not found',
        reason: 'NotFound',
        details: { name: 'planner-prod', kind: 'namespaces' },
      },
      'POST',
      '/apis/batch/v1/namespaces/planner-prod/jobs',
    ).userError();
    expect(error?.title).toBe('Namespace not found');
    expect(error?.message).toContain('Namespace "planner-prod" does not exist');
  });

  it('404 on a Job names the Job', () => {
    const error = failed(
      404,
      { message: 'jobs.batch "migrate-1" not found' },
      'GET',
      '/apis/batch/v1/namespaces/db/jobs/migrate-1',
    ).userError();
    expect(error?.message).toContain('Job "migrate-1" was not found in namespace "db"');
  });

  it('401 names the credential and what to check', () => {
    const error = failed(
      401,
      { message: 'Unauthorized', reason: 'Unauthorized' },
      'GET',
      '/apis/apps/v1/namespaces/a/deployments/b',
    ).userError();
    expect(error?.title).toBe('Kubernetes credentials refused');
    expect(error?.message).toContain(
      'refused the credentials of user "deployer" in the kubeconfig input (401 Unauthorized',
    );
    expect(error?.message).toContain("Check that this user's token is current.");
  });

  it.each([
    ['PATCH', '/apis/apps/v1/namespaces/web/deployments/app', {}, 'patch', 'deployments', '"apps"'],
    ['GET', '/apis/apps/v1/namespaces/web/deployments', { watch: true }, 'watch', 'deployments', '"apps"'],
    ['GET', '/api/v1/namespaces/web/pods', {}, 'list', 'pods', 'the core group ("")'],
    ['GET', '/api/v1/namespaces/web/pods/p-1/log', {}, 'get', 'pods/log', 'the core group ("")'],
    ['POST', '/apis/batch/v1/namespaces/web/jobs', {}, 'create', 'jobs', '"batch"'],
    ['DELETE', '/apis/batch/v1/namespaces/web/jobs/j', {}, 'delete', 'jobs', '"batch"'],
  ])(
    '403 on %s %s names the verb %s on %s and points at the RBAC example',
    (method, path, query, verb, resource, group) => {
      const error = failed(
        403,
        { message: 'forbidden: User "ci" cannot do it', reason: 'Forbidden' },
        method,
        path,
        query,
      ).userError();
      expect(error?.title).toBe('Kubernetes permission missing');
      expect(error?.message).toContain(`may not ${verb} ${resource} in namespace "web"`);
      expect(error?.message).toContain(`Grant it the verb "${verb}" on "${resource}" in API group ${group}`);
      expect(error?.message).toContain('examples/k8s/rbac.yaml');
    },
  );

  it("is undefined for errors that are not the user's to fix, and caps a long server message", () => {
    expect(new KubeApiError(500, 'x').userError()).toBeUndefined();
    expect(new KubeApiError(409, 'x').userError()).toBeUndefined();
    const long = failed(
      404,
      { message: `x${'y'.repeat(5000)}` },
      'GET',
      '/apis/apps/v1/namespaces/a/deployments/b',
    ).userError();
    expect(long?.message.length).toBeLessThan(800);
  });
});
