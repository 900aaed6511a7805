import { afterEach, describe, expect, it } from '@jest/globals';
import type { KubeObject, ObjectStore } from '../src/kube/store.js';
import { computeTemplateHash, resolveFenceposts, scaledValue } from '../src/kube/controllers/index.js';
import {
  recordVersions,
  startTestCluster,
  waitForObject,
  waitUntil,
  type TestCluster,
} from '../src/kube/controllers/testing.js';

const NS = 'default';

function deployment(
  name: string,
  image: string,
  spec: Record<string, unknown> = {},
  annotations?: Record<string, string>,
) {
  return {
    metadata: { name, namespace: NS, labels: { app: name }, ...(annotations ? { annotations } : {}) },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
      ...spec,
    },
  };
}

const cond = (o: KubeObject, type: string) =>
  (o.status?.conditions ?? []).find((c: { type: string }) => c.type === type);

function replicaSets(store: ObjectStore, d: KubeObject): KubeObject[] {
  return store
    .list('replicasets', NS)
    .filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid && r.controller));
}

function rolledOut(store: ObjectStore, name: string): Promise<KubeObject> {
  return waitForObject(
    store,
    'deployments',
    NS,
    name,
    (d) => {
      const s = d.status ?? {};
      const r = d.spec.replicas;
      return (
        (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) &&
        (s.updatedReplicas ?? 0) === r &&
        (s.replicas ?? 0) === r &&
        (s.availableReplicas ?? 0) === r &&
        cond(d, 'Progressing')?.reason === 'NewReplicaSetAvailable'
      );
    },
    `deployment ${name} rolled out`,
  );
}

function setImage(store: ObjectStore, name: string, image: string, changeCause?: string): void {
  store.mutate('deployments', NS, name, (d) => {
    d.spec.template.spec.containers[0].image = image;
    if (changeCause)
      d.metadata.annotations = {
        ...(d.metadata.annotations ?? {}),
        'kubernetes.io/change-cause': changeCause,
      };
  });
}

let cluster: TestCluster | undefined;
afterEach(() => {
  const errors = cluster?.errors ?? [];
  cluster?.stop();
  cluster = undefined;
  // No controller sync failed along the way.
  expect(errors.map(String)).toEqual([]);
});

describe('deployment helpers', () => {
  it('hashes templates deterministically with the safe alphabet and the collision count', () => {
    const t = {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
    };
    const h = computeTemplateHash(t);
    expect(h).toMatch(/^[456789bcdf]{1,10}$/);
    expect(computeTemplateHash(structuredClone(t))).toBe(h);
    // Key order does not matter, content does.
    expect(computeTemplateHash({ spec: t.spec, metadata: t.metadata })).toBe(h);
    expect(
      computeTemplateHash({ ...t, spec: { containers: [{ name: 'app', image: 'nginx:1.26' }] } }),
    ).not.toBe(h);
    expect(computeTemplateHash(t, 1)).not.toBe(h);
    expect(computeTemplateHash(t, 1)).not.toBe(computeTemplateHash(t, 2));
  });

  it.each([
    ['25%', '25%', 10, 3, 2],
    ['25%', '25%', 3, 1, 0],
    ['25%', '25%', 1, 1, 0],
    [0, 0, 5, 0, 1],
    ['30%', '20%', 10, 3, 2],
    [1, '50%', 3, 1, 1],
    ['0%', '100%', 4, 0, 4],
    [2, 0, 4, 2, 0],
  ])(
    'resolves maxSurge %p / maxUnavailable %p of %p to surge %p, unavailable %p',
    (s, u, n, surge, unavailable) => {
      expect(resolveFenceposts(s, u, n)).toEqual({ surge, unavailable });
    },
  );

  it('rejects a non-percentage string', () => {
    expect(() => scaledValue('abc', 10, true)).toThrow(/percentage/);
  });
});

describe('deployment controller', () => {
  it('creates a hash-named ReplicaSet with owner, labels, annotations and pods, and reports status', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    const created = store.create(
      'deployments',
      deployment('web', 'nginx:1.25', {}, { 'kubernetes.io/change-cause': 'first' }),
    );
    const d = await rolledOut(store, 'web');
    const [rs, ...more] = replicaSets(store, d);
    expect(more).toHaveLength(0);
    const hash = computeTemplateHash(created.spec.template);
    expect(rs!.metadata.name).toBe(`web-${hash}`);
    expect(rs!.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.spec.template.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        uid: d.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(rs!.metadata.annotations).toEqual({
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
      'kubernetes.io/change-cause': 'first',
    });
    expect(rs!.status).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      observedGeneration: 1,
    });
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(d.metadata.generation).toBe(1);
    expect(d.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(d.status.unavailableReplicas).toBeUndefined();
    expect(cond(d, 'Available')).toMatchObject({
      status: 'True',
      reason: 'MinimumReplicasAvailable',
      message: 'Deployment has minimum availability.',
    });
    expect(cond(d, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "web-${hash}" has successfully progressed.`,
    });
    const pods = store
      .list('pods', NS)
      .filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs!.metadata.uid);
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p.metadata.generateName).toBe(`web-${hash}-`);
      expect(p.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
      expect(p.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs!.metadata.name,
          uid: rs!.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(p.status.phase).toBe('Running');
    }
    const events = store
      .list('events', NS)
      .filter((e) => (e.involvedObject as { name: string }).name === 'web');
    expect(events.map((e) => e.message)).toContain(`Scaled up replica set web-${hash} from 0 to 3`);
  });

  it.each([
    ['ints', 4, 1, 1],
    ['percentages', 10, '30%', '20%'],
    ['surge only', 3, 1, 0],
    ['unavailable only', 4, 0, 2],
    ['defaults', 5, undefined, undefined],
  ])(
    'rolls out a new image within maxSurge/maxUnavailable at every step (%s)',
    async (_label, replicas, surgeIn, unavailIn) => {
      cluster = startTestCluster();
      const { store } = cluster;
      const rollingUpdate: Record<string, unknown> = {};
      if (surgeIn !== undefined) rollingUpdate.maxSurge = surgeIn;
      if (unavailIn !== undefined) rollingUpdate.maxUnavailable = unavailIn;
      store.create(
        'deployments',
        deployment('web', 'app:v1', { replicas, strategy: { type: 'RollingUpdate', rollingUpdate } }),
      );
      const d1 = await rolledOut(store, 'web');
      const { surge, unavailable } = resolveFenceposts(surgeIn ?? '25%', unavailIn ?? '25%', replicas);
      const violations: string[] = [];
      let maxTotal = 0;
      let minReady = Infinity;
      const off = store.on(() => {
        const rss = replicaSets(store, d1);
        const total = rss.reduce((n, rs) => n + rs.spec.replicas, 0);
        maxTotal = Math.max(maxTotal, total);
        if (total > replicas + surge) violations.push(`Σ spec ${total} > ${replicas}+${surge}`);
        const ready = store
          .list('pods', NS)
          .filter((p) =>
            (p.status?.conditions ?? []).some(
              (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
            ),
          ).length;
        minReady = Math.min(minReady, ready);
        if (ready < replicas - unavailable) violations.push(`ready ${ready} < ${replicas}-${unavailable}`);
      });
      setImage(store, 'web', 'app:v2', 'to v2');
      const d2 = await waitForObject(
        store,
        'deployments',
        NS,
        'web',
        (d) => d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2',
      );
      const done = await rolledOut(store, 'web');
      off();
      expect(violations).toEqual([]);
      // The rollout really used the room it had.
      expect(maxTotal).toBe(replicas + surge);
      expect(minReady).toBeLessThanOrEqual(replicas);
      const rss = replicaSets(store, d2).sort(
        (a, b) =>
          Number(a.metadata.annotations!['deployment.kubernetes.io/revision']) -
          Number(b.metadata.annotations!['deployment.kubernetes.io/revision']),
      );
      expect(rss).toHaveLength(2);
      expect(rss[0]!.spec.replicas).toBe(0);
      expect(rss[0]!.spec.template.spec.containers[0].image).toBe('app:v1');
      expect(rss[1]!.spec.replicas).toBe(replicas);
      expect(rss[1]!.spec.template.spec.containers[0].image).toBe('app:v2');
      expect(rss[1]!.metadata.annotations?.['kubernetes.io/change-cause']).toBe('to v2');
      expect(done.status).toMatchObject({
        replicas,
        updatedReplicas: replicas,
        availableReplicas: replicas,
        observedGeneration: 2,
      });
      const pods = store.list('pods', NS);
      expect(pods).toHaveLength(replicas);
      expect(pods.every((p) => p.spec.containers[0].image === 'app:v2')).toBe(true);
    },
  );

  it('reports the intermediate status a rollout goes through', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('app:slow', { kind: 'ready', after: 300000 });
    store.create(
      'deployments',
      deployment('web', 'app:v1', {
        replicas: 2,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      }),
    );
    await rolledOut(store, 'web');
    const versions = recordVersions(store, 'deployments', NS, 'web');
    setImage(store, 'web', 'app:slow');
    const done = await rolledOut(store, 'web');
    versions.stop();
    const mid = versions.versions.find(
      (d) =>
        d.status?.observedGeneration === 2 && d.status?.updatedReplicas === 1 && d.status?.replicas === 3,
    )!;
    expect(mid.status).toMatchObject({
      replicas: 3,
      updatedReplicas: 1,
      readyReplicas: 2,
      availableReplicas: 2,
      unavailableReplicas: 1,
    });
    expect(cond(mid, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(['NewReplicaSetCreated', 'ReplicaSetUpdated']).toContain(cond(mid, 'Progressing')?.reason);
    const progressing = cond(done, 'Progressing');
    // The transition time stays from when the rollout started progressing.
    expect(Date.parse(progressing.lastUpdateTime)).toBeGreaterThanOrEqual(
      Date.parse(progressing.lastTransitionTime),
    );
  });

  it('reuses the old ReplicaSet on undo and moves its revision to max+1 with revision-history', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    const d0 = store.create('deployments', deployment('web', 'app:v1', { replicas: 2 }));
    await rolledOut(store, 'web');
    const [rs1] = replicaSets(store, d0);
    setImage(store, 'web', 'app:v2');
    await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (d) => d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2',
    );
    await rolledOut(store, 'web');
    // What `kubectl rollout undo` sends: the old RS's template without the hash label.
    const template = structuredClone(store.get('replicasets', NS, rs1!.metadata.name)!.spec.template);
    delete template.metadata.labels['pod-template-hash'];
    store.mutate('deployments', NS, 'web', (d) => {
      d.spec.template = template;
    });
    const d3 = await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (d) => d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3',
    );
    await rolledOut(store, 'web');
    const rss = replicaSets(store, d3);
    expect(rss).toHaveLength(2);
    const reused = store.get('replicasets', NS, rs1!.metadata.name)!;
    expect(reused.metadata.uid).toBe(rs1!.metadata.uid);
    expect(reused.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
    });
    expect(reused.spec.replicas).toBe(2);
    // Forward again: the v2 RS becomes revision 4 with history "2"; back again: v1 becomes 5 with "1,3".
    setImage(store, 'web', 'app:v2');
    await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (d) => d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '4',
    );
    await rolledOut(store, 'web');
    const v2 = replicaSets(store, d3).find((rs) => rs.metadata.uid !== rs1!.metadata.uid)!;
    expect(v2.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '4',
      'deployment.kubernetes.io/revision-history': '2',
    });
    store.mutate('deployments', NS, 'web', (d) => {
      d.spec.template = template;
    });
    await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (d) => d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '5',
    );
    expect(
      store.get('replicasets', NS, rs1!.metadata.name)!.metadata.annotations?.[
        'deployment.kubernetes.io/revision-history'
      ],
    ).toBe('1,3');
    expect(replicaSets(store, d3)).toHaveLength(2);
  });

  it('marks ProgressDeadlineExceeded after progressDeadlineSeconds without progress, on the simulated clock', async () => {
    cluster = startTestCluster();
    const { store, images, clock } = cluster;
    images.set('app:broken', { kind: 'never-ready' });
    store.create('deployments', deployment('web', 'app:v1', { replicas: 2, progressDeadlineSeconds: 30 }));
    await rolledOut(store, 'web');
    setImage(store, 'web', 'app:broken');
    const started = clock.nowMs();
    const d = await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (o) => cond(o, 'Progressing')?.reason === 'ProgressDeadlineExceeded',
    );
    const elapsed = clock.nowMs() - started;
    expect(elapsed).toBeGreaterThanOrEqual(29000);
    const rss = replicaSets(store, d);
    const newRS = rss.find((rs) => rs.spec.template.spec.containers[0].image === 'app:broken')!;
    expect(cond(d, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `ReplicaSet "${newRS.metadata.name}" has timed out progressing.`,
    });
    // Nothing is rolled back: old pods keep serving within maxUnavailable.
    expect(d.status.availableReplicas).toBeGreaterThanOrEqual(1);
    expect(cond(d, 'Available')?.status).toBe('True');
    expect(d.status.updatedReplicas).toBeGreaterThanOrEqual(1);
  });

  it('does not roll out while paused, still scales, and resumes', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    const d0 = store.create('deployments', deployment('web', 'app:v1', { replicas: 2 }));
    await rolledOut(store, 'web');
    store.mutate('deployments', NS, 'web', (d) => {
      d.spec.paused = true;
    });
    const paused = await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (o) => cond(o, 'Progressing')?.reason === 'DeploymentPaused',
    );
    expect(cond(paused, 'Progressing')).toMatchObject({ status: 'Unknown', message: 'Deployment is paused' });
    setImage(store, 'web', 'app:v2');
    store.mutate('deployments', NS, 'web', (d) => {
      d.spec.replicas = 4;
    });
    await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (o) => o.status?.availableReplicas === 4 && o.status?.observedGeneration === o.metadata.generation,
    );
    let rss = replicaSets(store, d0);
    expect(rss).toHaveLength(1);
    expect(rss[0]!.spec.replicas).toBe(4);
    expect(rss[0]!.spec.template.spec.containers[0].image).toBe('app:v1');
    expect(rss[0]!.metadata.annotations?.['deployment.kubernetes.io/desired-replicas']).toBe('4');
    store.mutate('deployments', NS, 'web', (d) => {
      delete d.spec.paused;
    });
    const done = await rolledOut(store, 'web');
    rss = replicaSets(store, d0);
    expect(rss).toHaveLength(2);
    expect(done.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(store.list('pods', NS).every((p) => p.spec.containers[0].image === 'app:v2')).toBe(true);
  });

  it('records DeploymentResumed when resumed', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('app:slow', { kind: 'ready', after: 1e9 });
    store.create('deployments', deployment('web', 'app:slow', { replicas: 1, paused: true }));
    await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (o) => cond(o, 'Progressing')?.reason === 'DeploymentPaused',
    );
    const changes: string[] = [];
    const off = store.on((c) => {
      if (c.resource === 'deployments') changes.push(cond(c.object, 'Progressing')?.reason ?? '');
    });
    store.mutate('deployments', NS, 'web', (d) => {
      delete d.spec.paused;
    });
    await waitForObject(store, 'deployments', NS, 'web', (o) => o.status?.updatedReplicas === 1);
    off();
    expect(changes).toContain('DeploymentResumed');
  });

  it('Recreate scales the old ReplicaSet to zero before creating the new one', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    const d0 = store.create(
      'deployments',
      deployment('web', 'app:v1', { replicas: 3, strategy: { type: 'Recreate' } }),
    );
    await rolledOut(store, 'web');
    const overlaps: string[] = [];
    const off = store.on((c) => {
      if (c.resource !== 'pods' && c.resource !== 'replicasets') return;
      const images = new Set(store.list('pods', NS).map((p) => p.spec.containers[0].image));
      if (images.size > 1) overlaps.push([...images].join(','));
      const activeRS = replicaSets(store, d0).filter((rs) => rs.spec.replicas > 0);
      if (activeRS.length > 1) overlaps.push(`RS ${activeRS.map((r) => r.metadata.name).join(',')}`);
    });
    setImage(store, 'web', 'app:v2');
    await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (d) => d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2',
    );
    const done = await rolledOut(store, 'web');
    off();
    expect(overlaps).toEqual([]);
    expect(cond(done, 'Available')).toMatchObject({ status: 'True' });
    const rss = replicaSets(store, d0);
    expect(rss.map((rs) => rs.spec.replicas).sort()).toEqual([0, 3]);
    // Recreate has no surge.
    const newRS = rss.find((rs) => rs.spec.replicas === 3)!;
    expect(newRS.metadata.annotations?.['deployment.kubernetes.io/max-replicas']).toBe('3');
  });

  it('keeps at most revisionHistoryLimit old ReplicaSets, deleting the oldest revisions', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    const d0 = store.create(
      'deployments',
      deployment('web', 'app:v1', { replicas: 1, revisionHistoryLimit: 2 }),
    );
    await rolledOut(store, 'web');
    for (let v = 2; v <= 5; v++) {
      setImage(store, 'web', `app:v${v}`);
      await waitForObject(
        store,
        'deployments',
        NS,
        'web',
        (d) => d.metadata.annotations?.['deployment.kubernetes.io/revision'] === String(v),
      );
      await rolledOut(store, 'web');
    }
    await waitUntil(store, () => replicaSets(store, d0).length === 3, '3 replica sets left');
    const revisions = replicaSets(store, d0)
      .map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision']))
      .sort();
    expect(revisions).toEqual([3, 4, 5]);
  });

  it('keeps no old ReplicaSet with revisionHistoryLimit 0', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    const d0 = store.create(
      'deployments',
      deployment('web', 'app:v1', { replicas: 2, revisionHistoryLimit: 0 }),
    );
    await rolledOut(store, 'web');
    setImage(store, 'web', 'app:v2');
    await waitForObject(
      store,
      'deployments',
      NS,
      'web',
      (d) => d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2',
    );
    await rolledOut(store, 'web');
    const left = await waitUntil(
      store,
      () => (replicaSets(store, d0).length === 1 ? replicaSets(store, d0) : undefined),
      'one replica set',
    );
    expect(left[0]!.spec.template.spec.containers[0].image).toBe('app:v2');
  });

  it('scales a complete deployment up and down and records the events', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    const d0 = store.create('deployments', deployment('web', 'app:v1', { replicas: 2 }));
    await rolledOut(store, 'web');
    const [rs] = replicaSets(store, d0);
    store.mutate('deployments', NS, 'web', (d) => {
      d.spec.replicas = 5;
    });
    await rolledOut(store, 'web');
    expect(store.get('replicasets', NS, rs!.metadata.name)!.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/desired-replicas': '5',
      'deployment.kubernetes.io/max-replicas': '7',
    });
    store.mutate('deployments', NS, 'web', (d) => {
      d.spec.replicas = 1;
    });
    await rolledOut(store, 'web');
    expect(store.list('pods', NS)).toHaveLength(1);
    const messages = store.list('events', NS).map((e) => e.message);
    expect(messages).toContain(`Scaled up replica set ${rs!.metadata.name} from 2 to 5`);
    expect(messages).toContain(`Scaled down replica set ${rs!.metadata.name} from 5 to 1`);
  });

  it('scales proportionally in the middle of a rollout', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('app:stuck', { kind: 'never-ready' });
    const d0 = store.create(
      'deployments',
      deployment('web', 'app:v1', {
        replicas: 10,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
      }),
    );
    await rolledOut(store, 'web');
    setImage(store, 'web', 'app:stuck');
    await waitUntil(
      store,
      () => {
        const rss = replicaSets(store, d0);
        return (
          rss.length === 2 &&
          rss.reduce((n, r) => n + r.spec.replicas, 0) === 13 &&
          rss.every((r) => r.spec.replicas > 0)
        );
      },
      'rollout stuck at full surge',
    );
    store.mutate('deployments', NS, 'web', (d) => {
      d.spec.replicas = 20;
    });
    // 20 + 3 surge = 23 in total, distributed over both replica sets.
    const rss = await waitUntil(
      store,
      () => {
        const r = replicaSets(store, d0);
        return r.reduce((n, x) => n + x.spec.replicas, 0) === 23 &&
          r.every((x) => x.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'] === '20')
          ? r
          : undefined;
      },
      'proportional scale',
    );
    expect(rss.every((r) => r.spec.replicas > 0)).toBe(true);
  });

  it('counts a pod available only minReadySeconds after it became ready', async () => {
    cluster = startTestCluster();
    const { store, clock } = cluster;
    let availableAt: number | undefined;
    const off = store.on((c) => {
      if (c.resource !== 'deployments') return;
      const s = c.object.status ?? {};
      if (availableAt === undefined && s.availableReplicas === 2) availableAt = clock.nowMs();
    });
    const d0 = store.create('deployments', deployment('web', 'app:v1', { replicas: 2, minReadySeconds: 20 }));
    const d = await rolledOut(store, 'web');
    off();
    expect(replicaSets(store, d0)[0]!.spec.minReadySeconds).toBe(20);
    // Available no earlier than minReadySeconds after the last pod turned Ready (second precision).
    const readyAt = Math.max(
      ...store
        .list('pods', NS)
        .map((p) =>
          Date.parse(
            p.status.conditions.find((c: { type: string }) => c.type === 'Ready').lastTransitionTime,
          ),
        ),
    );
    expect(availableAt! - readyAt).toBeGreaterThanOrEqual(19000);
    expect(cond(d, 'Available')?.status).toBe('True');
  });

  it('a crash-looping new image blocks the rollout without taking old pods below maxUnavailable', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('app:crash', { kind: 'crash', exitCode: 1 });
    const d0 = store.create(
      'deployments',
      deployment('web', 'app:v1', {
        replicas: 4,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      }),
    );
    await rolledOut(store, 'web');
    setImage(store, 'web', 'app:crash');
    await waitUntil(
      store,
      () =>
        store
          .list('pods', NS)
          .filter((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff')
          .length >= 2,
      'two crash-looping pods',
    );
    const d = store.get('deployments', NS, 'web')!;
    const rss = replicaSets(store, d0);
    const old = rss.find((rs) => rs.spec.template.spec.containers[0].image === 'app:v1')!;
    const fresh = rss.find((rs) => rs.spec.template.spec.containers[0].image === 'app:crash')!;
    expect(old.spec.replicas).toBe(3);
    expect(fresh.spec.replicas).toBe(2);
    expect(d.status).toMatchObject({
      replicas: 5,
      updatedReplicas: 2,
      availableReplicas: 3,
      unavailableReplicas: 2,
    });
    expect(cond(d, 'Available')?.status).toBe('True');
  });

  it('deleting a deployment removes its replica sets and pods for good', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    store.create('deployments', deployment('web', 'app:v1', { replicas: 3 }));
    await rolledOut(store, 'web');
    store.delete('deployments', NS, 'web');
    await new Promise((r) => setTimeout(r, 100));
    expect(store.list('replicasets', NS)).toEqual([]);
    expect(store.list('pods', NS)).toEqual([]);
  });

  it('bumps collisionCount when the hash name is taken by another template', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    const spec = deployment('web', 'app:v1', { replicas: 1 });
    // Pre-compute the name the controller will choose (the template as the store defaults it).
    const probe = store.create(
      'deployments',
      { ...spec, metadata: { ...spec.metadata, name: 'probe' } },
      { dryRun: true },
    );
    const hash = computeTemplateHash(probe.spec.template);
    store.create('replicasets', {
      metadata: { name: `web-${hash}`, namespace: NS, labels: { app: 'other' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'other' } },
        template: {
          metadata: { labels: { app: 'other' } },
          spec: { containers: [{ name: 'x', image: 'other:1' }] },
        },
      },
    });
    store.create('deployments', spec);
    const d = await rolledOut(store, 'web');
    expect(d.status.collisionCount).toBe(1);
    const [rs] = replicaSets(store, d);
    expect(rs!.metadata.name).toBe(`web-${computeTemplateHash(probe.spec.template, 1)}`);
  });
});
