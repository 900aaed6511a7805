import { describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/core';
import { KubeApiError } from '../../src/api-error.js';
import { waitForRollouts } from '../../src/rollout-watcher.js';
import type { Deployment, Pod, ReplicaSet } from '../../src/types.js';
import { FakeConn } from './fake-conn.js';

const template = (image: string) => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image }] },
});

function deployment(
  name: string,
  rv: number,
  state: 'progressing' | 'done' | 'deadline' | 'unobserved',
): Deployment {
  const generation = 2;
  const base: Deployment = {
    metadata: {
      name,
      namespace: 'prod',
      uid: `uid-${name}`,
      resourceVersion: String(rv),
      generation,
      annotations: { 'deployment.kubernetes.io/revision': '2' },
    },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('web:2') },
  };
  const status = {
    progressing: { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2 },
    done: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
    deadline: {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    },
    unobserved: { observedGeneration: 1 },
  }[state];
  return { ...base, status };
}

const list = <T>(items: T[], rv = '10') => ({ metadata: { resourceVersion: rv }, items });
const future = (ms = 30_000) => Date.now() + ms;

describe('waitForRollouts', () => {
  it('follows several deployments with one list and one watch of the namespace', async () => {
    const conn = new FakeConn((method, path) => {
      if (path.endsWith('/deployments'))
        return list([deployment('a', 5, 'unobserved'), deployment('b', 6, 'progressing')]);
      throw new Error(`unexpected ${method} ${path}`);
    });
    const logger = new MemoryLogger();
    const run = waitForRollouts({
      conn,
      namespace: 'prod',
      deployments: ['a', 'b'],
      deadline: future(),
      failFast: false,
      readyGraceMs: 60_000,
      logger,
    });
    const watch = await conn.nthWatch(0);
    expect(watch.options.query).toMatchObject({ resourceVersion: '10', allowWatchBookmarks: 'true' });
    expect(watch.options.query?.fieldSelector).toBeUndefined();
    watch.channel.push({ type: 'MODIFIED', object: deployment('a', 11, 'done') });
    watch.channel.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } });
    watch.channel.push({ type: 'MODIFIED', object: deployment('b', 13, 'done') });
    const results = await run;
    expect(results.map((r) => [r.name, r.outcome, r.message, r.revision])).toEqual([
      ['a', 'succeeded', 'deployment "a" successfully rolled out', 2],
      ['b', 'succeeded', 'deployment "b" successfully rolled out', 2],
    ]);
    expect(conn.count('GET', '/deployments')).toBe(1);
    expect(conn.count('WATCH', '/deployments')).toBe(1);
    expect(logger.text()).toContain(
      'Waiting for deployment "b" rollout to finish: 1 out of 2 new replicas have been updated...',
    );
    expect(logger.text()).toContain('deployment "a": Waiting for deployment spec update to be observed...');
  });

  it('costs one deployment LIST, one deployment WATCH and one pod WATCH when the pods are healthy', async () => {
    const conn = new FakeConn((method, path) => {
      if (path.endsWith('/deployments')) return list([deployment('web', 5, 'progressing')]);
      throw new Error(`unexpected ${method} ${path}`);
    });
    const run = waitForRollouts({
      conn,
      namespace: 'prod',
      deployments: ['web'],
      deadline: future(),
      failFast: true,
      readyGraceMs: 60_000,
      logger: new MemoryLogger(),
    });
    const pods = await conn.nthWatch(0, '/pods');
    pods.channel.push({
      type: 'ADDED',
      object: {
        metadata: {
          name: 'web-new-1',
          labels: { app: 'web', 'pod-template-hash': 'new' },
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-new', uid: 'rs', controller: true },
          ],
        },
        status: {
          containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }],
        },
      },
    });
    const watch = await conn.nthWatch(0, '/deployments');
    watch.channel.push({ type: 'MODIFIED', object: deployment('web', 9, 'done') });
    const [result] = await run;
    expect(result?.outcome).toBe('succeeded');
    expect(conn.calls.map((c) => `${c.method} ${c.path.split('/').at(-1)}`).sort()).toEqual([
      'GET deployments',
      'WATCH deployments',
      'WATCH pods',
    ]);
  });

  it('re-watches from the last RV on a clean close and re-lists on 410', async () => {
    let lists = 0;
    const conn = new FakeConn((_m, path) => {
      if (path.endsWith('/deployments')) {
        lists++;
        return list([deployment('web', 5, 'progressing')], lists === 1 ? '10' : '30');
      }
      throw new Error(path);
    });
    const run = waitForRollouts({
      conn,
      namespace: 'prod',
      deployments: ['web'],
      deadline: future(),
      failFast: false,
      readyGraceMs: 1000,
      logger: new MemoryLogger(),
    });
    const first = await conn.nthWatch(0);
    expect(first.options.query).toMatchObject({ fieldSelector: 'metadata.name=web', resourceVersion: '10' });
    first.channel.push({ type: 'MODIFIED', object: deployment('web', 17, 'progressing') });
    first.channel.end();
    const second = await conn.nthWatch(1);
    expect(second.options.query?.resourceVersion).toBe('17');
    second.channel.push({
      type: 'ERROR',
      object: {
        kind: 'Status',
        status: 'Failure',
        message: 'too old resource version: 17 (25)',
        reason: 'Expired',
        code: 410,
      },
    });
    const third = await conn.nthWatch(2);
    expect(lists).toBe(2);
    expect(third.options.query?.resourceVersion).toBe('30');
    third.channel.push({ type: 'MODIFIED', object: deployment('web', 31, 'done') });
    const [result] = await run;
    expect(result?.outcome).toBe('succeeded');
  });

  it('retries transient errors: 503 on the list, a 429 with Retry-After on the watch, a reset stream', async () => {
    let lists = 0;
    const conn = new FakeConn((_m, path) => {
      if (path.endsWith('/deployments')) {
        lists++;
        if (lists === 1) throw new KubeApiError(503, 'unavailable', { retryAfterMs: 10 });
        return list([deployment('web', 5, 'progressing')]);
      }
      throw new Error(path);
    });
    let watches = 0;
    conn.onWatch = () => {
      watches++;
      if (watches === 1)
        throw new KubeApiError(429, 'slow down', { reason: 'TooManyRequests', retryAfterMs: 20 });
    };
    const run = waitForRollouts({
      conn,
      namespace: 'prod',
      deployments: ['web'],
      deadline: future(),
      failFast: false,
      readyGraceMs: 1000,
      logger: new MemoryLogger(),
    });
    const first = await conn.nthWatch(0);
    first.channel.fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    const second = await conn.nthWatch(1);
    second.channel.push({ type: 'MODIFIED', object: deployment('web', 40, 'done') });
    const [result] = await run;
    expect(result?.outcome).toBe('succeeded');
    expect(lists).toBe(2);
  });

  it.each([
    ['a missing deployment', [], 'failed', 'Error from server (NotFound): deployments.apps "web" not found'],
    [
      'the progress deadline',
      [deployment('web', 5, 'deadline')],
      'failed',
      'deployment "web" exceeded its progress deadline',
    ],
  ])('fails on %s', async (_name, items, outcome, message) => {
    const conn = new FakeConn(() => list(items));
    const [result] = await waitForRollouts({
      conn,
      namespace: 'prod',
      deployments: ['web'],
      deadline: future(),
      failFast: false,
      readyGraceMs: 1000,
      logger: new MemoryLogger(),
    });
    expect(result).toMatchObject({ outcome, message });
  });

  it('returns at once for no deployments', async () => {
    const conn = new FakeConn(() => {
      throw new Error('no request expected');
    });
    const results = await waitForRollouts({
      conn,
      namespace: 'prod',
      deployments: [],
      deadline: future(),
      failFast: true,
      readyGraceMs: 1000,
      logger: new MemoryLogger(),
    });
    expect(results).toEqual([]);
  });

  it('times out at the deadline with the last status', async () => {
    const conn = new FakeConn(() => list([deployment('web', 5, 'progressing')]));
    const [result] = await waitForRollouts({
      conn,
      namespace: 'prod',
      deployments: ['web'],
      deadline: future(150),
      failFast: false,
      readyGraceMs: 1000,
      logger: new MemoryLogger(),
    });
    expect(result).toMatchObject({
      outcome: 'timed-out',
      message:
        'timed out waiting for the condition: Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...',
    });
  });

  it('stops when cancelled', async () => {
    const conn = new FakeConn(() => list([deployment('web', 5, 'progressing')]));
    const controller = new AbortController();
    const run = waitForRollouts({
      conn,
      namespace: 'prod',
      deployments: ['web'],
      deadline: future(),
      failFast: false,
      readyGraceMs: 1000,
      logger: new MemoryLogger(),
      signal: controller.signal,
    });
    await conn.nthWatch(0);
    controller.abort();
    const [result] = await run;
    expect(result?.outcome).toBe('cancelled');
  });

  it('fails fast on a broken pod of the new ReplicaSet, with its events and last log lines', async () => {
    const ownerRef = (uid: string) => [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid, controller: true },
    ];
    const replicaSets: ReplicaSet[] = [
      {
        metadata: {
          name: 'web-old',
          uid: 'rs1',
          creationTimestamp: '2026-01-01T00:00:00Z',
          ownerReferences: ownerRef('uid-web'),
        },
        spec: {
          selector: {},
          template: {
            ...template('web:1'),
            metadata: { labels: { app: 'web', 'pod-template-hash': 'old' } },
          },
        },
      },
      {
        metadata: {
          name: 'web-new',
          uid: 'rs2',
          creationTimestamp: '2026-01-01T00:05:00Z',
          ownerReferences: ownerRef('uid-web'),
        },
        spec: {
          selector: {},
          template: {
            ...template('web:2'),
            metadata: { labels: { app: 'web', 'pod-template-hash': 'new' } },
          },
        },
      },
      {
        metadata: {
          name: 'web-foreign',
          uid: 'rs3',
          creationTimestamp: '2026-01-01T00:01:00Z',
          ownerReferences: ownerRef('other'),
        },
        spec: { selector: {}, template: template('web:2') },
      },
    ];
    const pod = (name: string, rs: string, waiting?: string): Pod => ({
      metadata: {
        name,
        uid: `uid-${name}`,
        labels: { app: 'web', 'pod-template-hash': rs.slice('web-'.length) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: rs, controller: true }],
      },
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'app',
            ready: false,
            restartCount: 4,
            state: waiting
              ? { waiting: { reason: waiting, message: 'back-off 1m20s restarting failed container' } }
              : {},
            lastState: { terminated: { exitCode: 3, reason: 'Error' } },
          },
        ],
      },
    });
    const conn = new FakeConn((_m, path, options) => {
      if (path.endsWith('/deployments')) return list([deployment('web', 5, 'progressing')]);
      if (path.endsWith('/replicasets')) {
        expect(options.query?.labelSelector).toBe('app=web');
        return list(replicaSets);
      }
      if (path.endsWith('/pods')) return list([pod('web-old-1', 'web-old', 'CrashLoopBackOff')]);
      if (path.endsWith('/events')) {
        return list([
          {
            metadata: { name: 'e1' },
            involvedObject: { kind: 'Pod', name: 'web-new-1' },
            type: 'Warning',
            reason: 'BackOff',
            message: 'Back-off restarting failed container app',
            lastTimestamp: '2026-01-01T00:06:00Z',
          },
          {
            metadata: { name: 'e2' },
            involvedObject: { kind: 'Pod', name: 'someone-else' },
            type: 'Warning',
            reason: 'X',
          },
        ]);
      }
      if (path.endsWith('/pods/web-new-1/log')) {
        expect(options.query).toMatchObject({ container: 'app', previous: 'true', tailLines: 2 });
        return 'connecting to db\nfatal: no DATABASE_URL\n';
      }
      throw new Error(path);
    });
    const run = waitForRollouts({
      conn,
      namespace: 'prod',
      deployments: ['web'],
      deadline: future(),
      failFast: true,
      readyGraceMs: 60_000,
      logger: new MemoryLogger(),
      logTailLines: 2,
    });
    const podWatch = await conn.nthWatch(0, '/pods');
    expect(podWatch.options.query?.labelSelector).toBe('app=web');
    expect(podWatch.options.query?.resourceVersion).toBe('0');
    // A crash-looping pod of the old ReplicaSet (a previous failed rollout) is not this rollout's failure.
    podWatch.channel.push({ type: 'ADDED', object: pod('web-old-1', 'web-old', 'CrashLoopBackOff') });
    podWatch.channel.push({ type: 'ADDED', object: pod('web-new-1', 'web-new') });
    podWatch.channel.push({ type: 'MODIFIED', object: pod('web-new-1', 'web-new', 'CrashLoopBackOff') });
    const [result] = await run;
    expect(result).toMatchObject({ outcome: 'failed', revision: 2 });
    expect(result?.diagnosis).toMatchObject({
      reason: 'CrashLoopBackOff',
      pod: 'web-new-1',
      container: 'app',
      exitCode: 3,
      events: ['Warning BackOff: Back-off restarting failed container app'],
      logs: ['connecting to db', 'fatal: no DATABASE_URL'],
    });
    expect(result?.message).toContain('CrashLoopBackOff (last exit code 3, Error; restarted 4 times)');
  });
});
