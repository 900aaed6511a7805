import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/core';
import { startSandbox, type Sandbox } from '@planner-deploy/sandbox';
import type { KubeConnection } from '../../src/connection.js';
import { managementWarning, restartDeployment, scaleDeployment, setImages } from '../../src/deployments.js';
import { getRolloutHistory, UndoError, undoRollout } from '../../src/history.js';
import { waitForRollouts, type RolloutResult } from '../../src/rollout-watcher.js';
import type { Deployment } from '../../src/types.js';
import { createDeployment, newNamespace, sandboxConnection } from './helpers.js';

let sandbox: Sandbox;
let conn: KubeConnection;
let connectionLogger: MemoryLogger;

beforeAll(async () => {
  // 20× faster than real time: a pod is ready 100 ms after it starts, back-offs are short.
  sandbox = await startSandbox({ timeScale: 0.05 });
  ({ conn, logger: connectionLogger } = await sandboxConnection(sandbox));
});
afterAll(async () => {
  conn?.close();
  await sandbox?.stop();
});

async function rollOut(
  namespace: string,
  deployments: string[],
  options: { timeoutMs?: number; failFast?: boolean; readyGraceMs?: number; logger?: MemoryLogger } = {},
): Promise<RolloutResult[]> {
  return waitForRollouts({
    conn,
    namespace,
    deployments,
    deadline: Date.now() + (options.timeoutMs ?? 20_000),
    failFast: options.failFast ?? true,
    readyGraceMs: options.readyGraceMs ?? 10_000,
    logger: options.logger ?? new MemoryLogger(),
  });
}

describe('rollouts against the sandbox', () => {
  it('sets the image and waits for the rollout to complete, with kubectl wording', async () => {
    const ns = await newNamespace(conn);
    await createDeployment(conn, ns, 'web', 'registry.local/web:1');
    const change = await setImages({
      conn,
      namespace: ns,
      name: 'web',
      image: 'registry.local/web:2',
      changeCause: 'deploy 2',
    });
    expect(change).toMatchObject({
      changed: true,
      previousRevision: 1,
      imagesBefore: ['app=registry.local/web:1'],
      imagesAfter: ['app=registry.local/web:2'],
    });
    const logger = new MemoryLogger();
    const [result] = await rollOut(ns, ['web'], { logger });
    expect(result).toMatchObject({
      name: 'web',
      outcome: 'succeeded',
      message: 'deployment "web" successfully rolled out',
      revision: 2,
    });
    expect(logger.text()).toMatch(/Waiting for deployment "web" rollout to finish/);
    // Nothing logged, at any level, carries the bearer token.
    expect(`${logger.text()}\n${connectionLogger.text()}`).not.toContain(sandbox.token);

    // A re-run of the same step changes nothing and finds the rollout done.
    const again = await setImages({ conn, namespace: ns, name: 'web', image: 'registry.local/web:2' });
    expect(again.changed).toBe(false);
    const [rerun] = await rollOut(ns, ['web']);
    expect(rerun).toMatchObject({ outcome: 'succeeded', revision: 2 });
  });

  it('rolls out several deployments at once under one deadline', async () => {
    const ns = await newNamespace(conn);
    const names = ['api', 'web', 'worker'];
    await Promise.all(names.map((n) => createDeployment(conn, ns, n, `registry.local/${n}:1`)));
    await Promise.all(
      names.map((n) => setImages({ conn, namespace: ns, name: n, image: `registry.local/${n}:2` })),
    );
    const results = await rollOut(ns, names);
    expect(results.map((r) => [r.name, r.outcome, r.revision])).toEqual(
      names.map((n) => [n, 'succeeded', 2]),
    );
  });

  it.each<[string, (ns: string) => void, Record<string, unknown>, string, RegExp]>([
    [
      'an image that cannot be pulled',
      () => sandbox.images.set('registry.local/broken:404', { kind: 'missing', message: 'manifest unknown' }),
      { image: 'registry.local/broken:404' },
      'ErrImagePull|ImagePullBackOff',
      /registry.local\/broken:404|manifest unknown/,
    ],
    [
      'a crash loop',
      () =>
        sandbox.images.set('registry.local/crash:1', {
          kind: 'crash',
          exitCode: 2,
          lines: ['starting', 'KeyError: DATABASE_URL'],
          after: 200,
        }),
      { image: 'registry.local/crash:1' },
      'CrashLoopBackOff',
      /last exit code 2/,
    ],
    [
      'an OOM kill',
      () => sandbox.images.set('registry.local/oom:1', { kind: 'oom', lines: ['allocating'], after: 200 }),
      { image: 'registry.local/oom:1' },
      'OOMKilled',
      /OOMKilled/,
    ],
    [
      'a missing secret',
      (ns) => sandbox.images.addMissingSecret('db-credentials', ns),
      {
        image: 'registry.local/web:1',
        env: [{ name: 'DB', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'url' } } }],
      },
      'CreateContainerConfigError',
      /secret "db-credentials" not found/,
    ],
  ])(
    'fails fast on %s, with the reason, the pod, its events and logs',
    async (_name, arrange, container, reason, message) => {
      const ns = await newNamespace(conn);
      arrange(ns);
      await createDeployment(conn, ns, 'web', 'registry.local/web:0');
      const current = await conn.request<Deployment>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`);
      await conn.request('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web`, {
        contentType: 'application/strategic-merge-patch+json',
        body: { spec: { template: { spec: { containers: [{ name: 'app', ...container }] } } } },
      });
      const started = Date.now();
      const [result] = await rollOut(ns, ['web'], { timeoutMs: 30_000 });
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(result?.outcome).toBe('failed');
      expect(result?.diagnosis?.reason).toMatch(new RegExp(`^(${reason})$`));
      expect(result?.diagnosis?.pod).toMatch(/^web-/);
      expect(result?.diagnosis?.container).toBe('app');
      expect(result?.message).toMatch(message);
      expect(result?.diagnosis?.events?.length).toBeGreaterThan(0);
      if (reason === 'CrashLoopBackOff') {
        expect(result?.diagnosis?.exitCode).toBe(2);
        expect(result?.diagnosis?.logs).toContain('KeyError: DATABASE_URL');
      }
      expect(current.metadata.generation).toBe(1);
    },
  );

  it('fails a pod that never becomes ready after the grace', async () => {
    const ns = await newNamespace(conn);
    sandbox.images.set('registry.local/slow:1', { kind: 'never-ready', lines: ['listening'] });
    await createDeployment(conn, ns, 'web', 'registry.local/web:1');
    await setImages({ conn, namespace: ns, name: 'web', image: 'registry.local/slow:1' });
    const [result] = await rollOut(ns, ['web'], { readyGraceMs: 1500 });
    expect(result).toMatchObject({ outcome: 'failed', diagnosis: { reason: 'Unready', container: 'app' } });
    expect(result?.message).toMatch(/without becoming ready/);
  });

  it('reports the progress deadline like kubectl when fail-fast is off', async () => {
    const ns = await newNamespace(conn);
    sandbox.images.set('registry.local/hang:1', { kind: 'never-ready' });
    await createDeployment(conn, ns, 'web', 'registry.local/web:1', { progressDeadlineSeconds: 10 });
    await setImages({ conn, namespace: ns, name: 'web', image: 'registry.local/hang:1' });
    const [result] = await rollOut(ns, ['web'], { failFast: false });
    expect(result).toMatchObject({
      outcome: 'failed',
      message: 'deployment "web" exceeded its progress deadline',
    });
  });

  it('times out at the deadline and says where it was', async () => {
    const ns = await newNamespace(conn);
    sandbox.images.set('registry.local/hang:2', { kind: 'never-ready' });
    await createDeployment(conn, ns, 'web', 'registry.local/web:1');
    await setImages({ conn, namespace: ns, name: 'web', image: 'registry.local/hang:2' });
    const [result] = await rollOut(ns, ['web'], { failFast: false, timeoutMs: 800 });
    expect(result?.outcome).toBe('timed-out');
    expect(result?.message).toMatch(
      /^timed out waiting for the condition: Waiting for deployment "web" rollout to finish/,
    );
  });

  it('reports a missing deployment', async () => {
    const ns = await newNamespace(conn);
    const [result] = await rollOut(ns, ['ghost']);
    expect(result).toMatchObject({
      outcome: 'failed',
      message: 'Error from server (NotFound): deployments.apps "ghost" not found',
    });
  });

  it('restarts with the same image (a new revision) and scales', async () => {
    const ns = await newNamespace(conn);
    await createDeployment(conn, ns, 'web', 'registry.local/web:1');
    await restartDeployment({ conn, namespace: ns, name: 'web' });
    const [result] = await rollOut(ns, ['web']);
    expect(result).toMatchObject({ outcome: 'succeeded', revision: 2 });
    expect(await scaleDeployment({ conn, namespace: ns, name: 'web', replicas: 3 })).toEqual({ replicas: 3 });
    const [scaled] = await rollOut(ns, ['web']);
    expect(scaled).toMatchObject({ outcome: 'succeeded', revision: 2 });
  });

  it('warns about Helm-managed deployments', async () => {
    const ns = await newNamespace(conn);
    const d = await createDeployment(conn, ns, 'web', 'registry.local/web:1', {
      annotations: { 'meta.helm.sh/release-name': 'planner' },
    });
    expect(managementWarning(d)).toMatch(/Helm \(release "planner"\)/);
  });
});

describe('history and undo against the sandbox', () => {
  it('rolls back to the recorded revision, then skips when already there', async () => {
    const ns = await newNamespace(conn);
    await createDeployment(conn, ns, 'web', 'registry.local/web:1');
    await setImages({ conn, namespace: ns, name: 'web', image: 'registry.local/web:2', changeCause: 'v2' });
    expect((await rollOut(ns, ['web']))[0]?.outcome).toBe('succeeded');
    sandbox.images.set('registry.local/web:3', { kind: 'crash', exitCode: 1 });
    await setImages({ conn, namespace: ns, name: 'web', image: 'registry.local/web:3', changeCause: 'v3' });
    expect((await rollOut(ns, ['web']))[0]?.outcome).toBe('failed');

    const history = await getRolloutHistory({ conn, namespace: ns, name: 'web' });
    expect(history.revisions.map((r) => [r.revision, r.images, r.current])).toEqual([
      [1, ['app=registry.local/web:1'], false],
      [2, ['app=registry.local/web:2'], false],
      [3, ['app=registry.local/web:3'], true],
    ]);

    const undo = await undoRollout({
      conn,
      namespace: ns,
      name: 'web',
      toRevision: 2,
      expectCurrentRevision: 3,
    });
    expect(undo).toMatchObject({
      outcome: 'rolled-back',
      message: `deployment.apps/web rolled back`,
      fromRevision: 3,
      toRevision: 2,
    });
    const [verified] = await rollOut(ns, ['web']);
    expect(verified).toMatchObject({ outcome: 'succeeded', revision: 4 });
    const after = await conn.request<Deployment>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`);
    expect(after.spec.template.spec.containers[0]?.image).toBe('registry.local/web:2');
    expect(after.metadata.annotations?.['kubernetes.io/change-cause']).toBe('v2');

    // A re-run of the same rollback step: revision 2 is now 4, and nothing changes.
    const rerun = await undoRollout({ conn, namespace: ns, name: 'web', toRevision: 2 });
    expect(rerun).toMatchObject({ outcome: 'skipped', toRevision: 4 });

    const skipped = await undoRollout({ conn, namespace: ns, name: 'web', toRevision: 4 });
    expect(skipped).toMatchObject({
      outcome: 'skipped',
      message: 'deployment.apps/web skipped rollback (current template already matches revision 4)',
    });
  });

  it('refuses to roll back a paused deployment', async () => {
    const ns = await newNamespace(conn);
    await createDeployment(conn, ns, 'web', 'registry.local/web:1');
    await setImages({ conn, namespace: ns, name: 'web', image: 'registry.local/web:2' });
    await rollOut(ns, ['web']);
    await conn.request('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web`, {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { paused: true } },
    });
    const error = await undoRollout({ conn, namespace: ns, name: 'web' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UndoError);
    expect((error as UndoError).code).toBe('paused');
  });
});

describe('under faults', () => {
  it('still ends right with 10% 5xx, 429s, resets, watches cut every second and 410s', async () => {
    const ns = await newNamespace(conn);
    await createDeployment(conn, ns, 'web', 'registry.local/web:1');
    await createDeployment(conn, ns, 'api', 'registry.local/api:1');
    sandbox.images.set('registry.local/api:broken', { kind: 'missing' });
    sandbox.faults.set({
      errorRate: 0.1,
      throttleRate: 0.05,
      retryAfterSeconds: 0,
      resetRate: 0.03,
      watchCutSeconds: 1,
      expireNextWatches: 3,
    });
    try {
      await setImages({ conn, namespace: ns, name: 'web', image: 'registry.local/web:2' });
      await setImages({ conn, namespace: ns, name: 'api', image: 'registry.local/api:broken' });
      const results = await rollOut(ns, ['web', 'api'], { timeoutMs: 30_000 });
      expect(results[0]).toMatchObject({ name: 'web', outcome: 'succeeded' });
      expect(results[1]).toMatchObject({ name: 'api', outcome: 'failed' });
      expect(results[1]?.diagnosis?.reason).toMatch(/ErrImagePull|ImagePullBackOff/);
      expect(results[0]?.revision).toBe(2);
    } finally {
      sandbox.faults.clear();
    }
  });
});
