/**
 * Faults: what each one looks like on the wire, that a faulted write is never applied, the admin
 * endpoint, and the oracle under faults — 10% 5xx, watches cut every 2 s and one forced 410 — where
 * `kubectl rollout status` still reports the right outcome and the stored state matches a fault-free run.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { seededRandom } from '../src/kube/faults.js';
import { startSandbox, type KubeObject, type Sandbox } from '../src/index.js';
import { deploymentManifest, kubectl, manifestFile } from './helpers/kube.js';
import { openStream, rawRequest } from './helpers/http.js';

describe('fault injection on the wire', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ https: false, controllers: false });
    sandbox.store.create('deployments', deploymentManifest('web'));
  });
  afterAll(async () => {
    sandbox.faults.clear();
    await sandbox?.stop();
  });
  const get = (path = '/apis/apps/v1/namespaces/default/deployments/web') =>
    rawRequest(sandbox.url, path, { token: sandbox.token });

  it('answers 5xx with a Status body and never applies the faulted write', async () => {
    sandbox.faults.set({ errorRate: 1, errorCodes: [503], verbs: ['patch'] });
    const rv = sandbox.store.currentResourceVersion();
    const r = await rawRequest(sandbox.url, '/apis/apps/v1/namespaces/default/deployments/web', {
      method: 'PATCH',
      token: sandbox.token,
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: { spec: { replicas: 7 } },
    });
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'ServiceUnavailable',
      code: 503,
    });
    expect(r.headers['retry-after']).toBeUndefined();
    expect(sandbox.store.currentResourceVersion()).toBe(rv);
    expect(sandbox.store.get('deployments', 'default', 'web')!.spec.replicas).toBe(2);
    // Only the listed verbs are faulted.
    expect((await get()).status).toBe(200);
  });

  it('answers 429 with Retry-After, adds latency, and resets connections', async () => {
    sandbox.faults.set({ throttleRate: 1, retryAfterSeconds: 3 });
    const throttled = await get();
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('3');
    expect(throttled.json).toMatchObject({
      reason: 'TooManyRequests',
      code: 429,
      details: { retryAfterSeconds: 3 },
    });

    sandbox.faults.set({ latencyMs: 300 });
    const t0 = Date.now();
    expect((await get()).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);

    sandbox.faults.set({ resetRate: 1 });
    await expect(get()).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|socket hang up/) });
    sandbox.faults.clear();
    expect((await get()).status).toBe(200);
  });

  it('applies a share of errors reproducibly with a seed', async () => {
    const run = async (): Promise<number[]> => {
      sandbox.faults.set({ errorRate: 0.3, seed: 7 });
      const codes: number[] = [];
      for (let i = 0; i < 30; i++) codes.push((await get()).status);
      return codes;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    const failures = a.filter((c) => c >= 500).length;
    expect(failures).toBeGreaterThan(2);
    expect(failures).toBeLessThan(20);
    sandbox.faults.clear();
  });

  it('forces 410 on the next watch and cuts watch streams', async () => {
    sandbox.faults.set({ expireNextWatches: 1, watchCutSeconds: 1 });
    const path = '/apis/apps/v1/namespaces/default/deployments?watch=true&resourceVersion=1';
    const first = await openStream(sandbox.url, path, { token: sandbox.token });
    await first.ended;
    expect(first.status).toBe(200);
    expect(first.lines.map((l) => JSON.parse(l))).toEqual([
      { type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) },
    ]);
    const t0 = Date.now();
    const second = await openStream(sandbox.url, path, { token: sandbox.token });
    await second.ended;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(JSON.parse(second.lines[0]!)).toMatchObject({
      type: 'ADDED',
      object: { metadata: { name: 'web' } },
    });
    expect(sandbox.faults.stats.watchesExpired).toBe(1);
    expect(sandbox.faults.stats.watchesCut).toBe(1);
    sandbox.faults.clear();
  });

  it('is set through the loopback admin endpoint without the Kubernetes token', async () => {
    const set = await rawRequest(sandbox.url, '/_sandbox/faults', {
      method: 'POST',
      body: { errorRate: 1, errorCodes: [500] },
    });
    expect(set.status).toBe(200);
    expect(set.json.faults).toMatchObject({ errorRate: 1, errorCodes: [500] });
    expect((await get()).status).toBe(500);
    const patched = await rawRequest(sandbox.url, '/_sandbox/faults', {
      method: 'PATCH',
      body: { errorRate: 0 },
    });
    expect(patched.json.faults).toMatchObject({ errorRate: 0, errorCodes: [500] });
    expect((await get()).status).toBe(200);
    const bad = await rawRequest(sandbox.url, '/_sandbox/faults', { method: 'POST', body: { errorRate: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('errorRate must be a number between 0 and 1, got 2');
    const unknown = await rawRequest(sandbox.url, '/_sandbox/faults', {
      method: 'POST',
      body: { chaos: true },
    });
    expect(unknown.status).toBe(400);
    const cleared = await rawRequest(sandbox.url, '/_sandbox/faults', { method: 'DELETE' });
    expect(cleared.json.faults).toEqual({ expireNextWatches: 0 });
    expect(cleared.json.stats.errors).toBeGreaterThanOrEqual(1);
  });
});

/** The parts of the state a rollout decides, without uids, timestamps, RVs or random pod names. */
function snapshot(s: Sandbox): unknown {
  const strip = (o: KubeObject) => {
    const status = { ...(o.status ?? {}) };
    if (status.conditions)
      status.conditions = status.conditions.map((c: any) => ({
        type: c.type,
        status: c.status,
        reason: c.reason,
      }));
    return {
      name: o.metadata.name,
      generation: o.metadata.generation,
      annotations: o.metadata.annotations,
      labels: o.metadata.labels,
      spec: o.spec,
      status,
    };
  };
  const pods = s.store.list('pods', 'default');
  return {
    deployments: s.store.list('deployments', 'default').map(strip),
    replicasets: s.store.list('replicasets', 'default').map(strip),
    pods: pods
      .map(
        (p) =>
          `${p.metadata.ownerReferences?.[0]?.name} ${p.status?.phase} ${p.spec.containers[0].image} ${p.metadata.deletionTimestamp ? 'deleting' : ''}`,
      )
      .sort(),
  };
}

describe('kubectl rollout status under faults', () => {
  const images = { 'web:slow-2': { kind: 'ready' as const, after: 120000 } };

  async function scenario(s: Sandbox): Promise<{ code: number; stdout: string; stderr: string }> {
    const m = await manifestFile(deploymentManifest('web', 'web:1', 3));
    try {
      const created = await kubectl(s, ['create', '-f', m.path]);
      expect(created.stdout.trim()).toBe('deployment.apps/web created');
    } finally {
      await m.cleanup();
    }
    const first = await kubectl(s, ['rollout', 'status', 'deployment/web', '--timeout=60s'], {
      timeoutMs: 90000,
    });
    expect(first.code).toBe(0);
    const set = await kubectl(s, ['set', 'image', 'deployment/web', 'app=web:slow-2']);
    expect(set.stdout.trim()).toBe('deployment.apps/web image updated');
    return kubectl(s, ['rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 90000 });
  }

  it('reports success and leaves the same state as a fault-free run', async () => {
    // A seed whose first draw faults, so the first API request of the scenario fails for sure.
    let seed = 1;
    while (seededRandom(seed)() >= 0.1) seed++;
    const faulty = await startSandbox({
      timeScale: 0.01,
      images,
      faults: {
        errorRate: 0.1,
        errorRetryAfterSeconds: 1,
        watchCutSeconds: 2,
        expireNextWatches: 1,
        seed,
        verbs: ['get', 'list', 'watch', 'create', 'patch', 'update'],
      },
    });
    const clean = await startSandbox({ timeScale: 0.01, images });
    try {
      const [withFaults, without] = await Promise.all([scenario(faulty), scenario(clean)]);
      expect(without.code).toBe(0);
      expect(withFaults.stderr).toBe('');
      expect(withFaults.code).toBe(0);
      expect(withFaults.stdout.trim().split('\n').at(-1)).toBe('deployment "web" successfully rolled out');
      expect(faulty.faults.stats.errors).toBeGreaterThanOrEqual(1);
      expect(faulty.faults.stats.watchesExpired).toBe(1);
      expect(faulty.faults.stats.watchesCut).toBeGreaterThanOrEqual(1);
      // Let both controllers settle (old pods terminate) before comparing.
      const settled = async (s: Sandbox) => {
        const deadline = Date.now() + 20000;
        while (Date.now() < deadline) {
          const pods = s.store.list('pods', 'default');
          if (
            pods.length === 3 &&
            pods.every((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
          )
            return;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await Promise.all([settled(faulty), settled(clean)]);
      expect(snapshot(faulty)).toEqual(snapshot(clean));
    } finally {
      await Promise.all([faulty.stop(), clean.stop()]);
    }
  });
});
