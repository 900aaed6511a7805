import { afterEach, describe, expect, it } from '@jest/globals';
import type { KubeObject, ObjectStore } from '../src/kube/store.js';
import {
  eventsFor,
  recordVersions,
  startTestCluster,
  waitForObject,
  waitUntil,
  type TestCluster,
} from '../src/kube/controllers/testing.js';

const NS = 'default';

function job(name: string, image: string, spec: Record<string, unknown> = {}, restartPolicy = 'Never') {
  return {
    metadata: { name, namespace: NS },
    spec: {
      template: {
        spec: {
          restartPolicy,
          containers: [{ name: 'migrate', image, command: ['alembic', 'upgrade', 'head'] }],
        },
      },
      ...spec,
    },
  };
}

type Cond = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };
const conds = (j: KubeObject): Cond[] => j.status?.conditions ?? [];
const finished = (j: KubeObject) =>
  conds(j).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
const podsOf = (store: ObjectStore, j: KubeObject) =>
  store.list('pods', NS, { labelSelector: `batch.kubernetes.io/controller-uid=${j.metadata.uid}` });

let cluster: TestCluster | undefined;
afterEach(() => {
  const errors = cluster?.errors ?? [];
  cluster?.stop();
  cluster = undefined;
  // No controller sync failed along the way.
  expect(errors.map(String)).toEqual([]);
});

function conditionHistory(store: ObjectStore, name: string): { seen: string[][]; stop: () => void } {
  const seen: string[][] = [];
  const stop = store.on((c) => {
    if (c.resource !== 'jobs' || c.object.metadata.name !== name) return;
    const types = conds(c.object).map((x) => x.type);
    if (JSON.stringify(seen[seen.length - 1]) !== JSON.stringify(types)) seen.push(types);
  });
  return { seen, stop };
}

describe('job controller', () => {
  it('runs a migration to completion: pods labelled and owned, logs, SuccessCriteriaMet then Complete', async () => {
    cluster = startTestCluster();
    const { store, images, logs } = cluster;
    images.set('app:migrate', {
      kind: 'exit',
      exitCode: 0,
      lines: ['INFO  [alembic] Running upgrade a -> b', 'done'],
      after: 3000,
    });
    const history = conditionHistory(store, 'migrate');
    const versions = recordVersions(store, 'jobs', NS, 'migrate');
    const j0 = store.create('jobs', job('migrate', 'app:migrate'));
    const pod = await waitUntil(store, () => podsOf(store, j0)[0], 'a job pod');
    expect(pod.metadata.generateName).toBe('migrate-');
    expect(pod.metadata.name).toMatch(/^migrate-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pod.metadata.labels).toEqual({
      'batch.kubernetes.io/controller-uid': j0.metadata.uid,
      'batch.kubernetes.io/job-name': 'migrate',
      'controller-uid': j0.metadata.uid,
      'job-name': 'migrate',
    });
    expect(pod.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: 'migrate',
        uid: j0.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(pod.metadata.finalizers).toEqual(['batch.kubernetes.io/job-tracking']);
    expect(pod.spec.restartPolicy).toBe('Never');
    const j = await waitForObject(store, 'jobs', NS, 'migrate', finished);
    const running = versions.versions.find((v) => v.status?.active === 1)!;
    versions.stop();
    expect(running.status.ready).toBe(0);
    expect(running.status.startTime).toMatch(/Z$/);
    expect(running.status.uncountedTerminatedPods).toEqual({});
    history.stop();
    expect(history.seen).toContainEqual(['SuccessCriteriaMet']);
    expect(history.seen[history.seen.length - 1]).toEqual(['SuccessCriteriaMet', 'Complete']);
    for (const c of conds(j)) {
      expect(c).toMatchObject({
        status: 'True',
        reason: 'CompletionsReached',
        message: 'Reached expected number of succeeded pods',
      });
    }
    expect(j.status).toMatchObject({ succeeded: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
    expect(j.status.active).toBeUndefined();
    expect(j.status.failed).toBeUndefined();
    expect(Date.parse(j.status.completionTime)).toBeGreaterThanOrEqual(Date.parse(j.status.startTime));
    const done = store.get('pods', NS, pod.metadata.name)!;
    expect(done.status.phase).toBe('Succeeded');
    expect(done.metadata.finalizers).toBeUndefined();
    expect(logs.run(NS, pod.metadata.name, 'migrate')).toMatchObject({ ended: true });
    expect(logs.run(NS, pod.metadata.name, 'migrate')!.lines.map((l) => l.text)).toEqual([
      'INFO  [alembic] Running upgrade a -> b',
      'done',
    ]);
    const reasons = eventsFor(store, NS, 'migrate').map((e) => `${String(e.reason)}: ${String(e.message)}`);
    expect(reasons).toEqual([
      `SuccessfulCreate: Created pod: ${pod.metadata.name}`,
      'Completed: Job completed',
    ]);
  });

  it('fails after backoffLimit failed pods: FailureTarget then Failed with BackoffLimitExceeded', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('app:bad-migration', {
      kind: 'exit',
      exitCode: 1,
      lines: ['sqlalchemy.exc.OperationalError'],
      after: 500,
    });
    const history = conditionHistory(store, 'migrate');
    const j0 = store.create('jobs', job('migrate', 'app:bad-migration', { backoffLimit: 2 }));
    const j = await waitForObject(store, 'jobs', NS, 'migrate', finished);
    history.stop();
    expect(history.seen[history.seen.length - 1]).toEqual(['FailureTarget', 'Failed']);
    expect(history.seen).toContainEqual(['FailureTarget']);
    for (const c of conds(j)) {
      expect(c).toMatchObject({
        status: 'True',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      });
    }
    expect(j.status.failed).toBe(3);
    expect(j.status.succeeded).toBeUndefined();
    expect(j.status.completionTime).toBeUndefined();
    const pods = podsOf(store, j0);
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.status.phase === 'Failed')).toBe(true);
    // Replacements came after a growing back-off (10 s, then 20 s, on the simulated clock).
    const starts = pods.map((p) => Date.parse(p.metadata.creationTimestamp)).sort((a, b) => a - b);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(9000);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(19000);
    expect(
      eventsFor(store, NS, 'migrate').some(
        (e) => e.reason === 'BackoffLimitExceeded' && e.type === 'Warning',
      ),
    ).toBe(true);
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds and deletes the active pod', async () => {
    cluster = startTestCluster();
    const { store, images, clock } = cluster;
    images.set('app:hang', { kind: 'ready', after: 100 });
    const j0 = store.create('jobs', job('migrate', 'app:hang', { activeDeadlineSeconds: 300 }));
    const pod = await waitUntil(store, () => podsOf(store, j0)[0], 'a job pod');
    await waitForObject(store, 'jobs', NS, 'migrate', (j) => j.status?.ready === 1);
    const j = await waitForObject(store, 'jobs', NS, 'migrate', finished);
    expect(conds(j).map((c) => `${c.type}/${c.reason}`)).toEqual([
      'FailureTarget/DeadlineExceeded',
      'Failed/DeadlineExceeded',
    ]);
    expect(conds(j)[1]!.message).toBe('Job was active longer than specified deadline');
    expect(clock.nowMs() - Date.parse(j.status.startTime)).toBeGreaterThanOrEqual(299000);
    expect(store.get('pods', NS, pod.metadata.name)).toBeUndefined();
    expect(j.status.active).toBeUndefined();
    expect(j.status.failed).toBe(1);
  });

  it('a pull-failing job pod stays Pending until the deadline', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('app:ghost', { kind: 'missing' });
    const j0 = store.create('jobs', job('migrate', 'app:ghost', { activeDeadlineSeconds: 60 }));
    await waitUntil(
      store,
      () =>
        podsOf(store, j0).find(
          (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
        ),
      'ImagePullBackOff',
    );
    expect(podsOf(store, j0)[0]!.status.phase).toBe('Pending');
    const j = await waitForObject(store, 'jobs', NS, 'migrate', finished);
    expect(conds(j).map((c) => c.reason)).toEqual(['DeadlineExceeded', 'DeadlineExceeded']);
  });

  it('deletes the job and its pods ttlSecondsAfterFinished after it finished', async () => {
    cluster = startTestCluster();
    const { store, images, clock } = cluster;
    images.set('app:migrate', { kind: 'exit', exitCode: 0, lines: ['ok'], after: 500 });
    const j0 = store.create('jobs', job('migrate', 'app:migrate', { ttlSecondsAfterFinished: 30 }));
    const done = await waitForObject(store, 'jobs', NS, 'migrate', finished);
    const finishedAt = Date.parse(done.status.completionTime);
    const deleted = await waitUntil(
      store,
      () => (store.get('jobs', NS, 'migrate') ? undefined : clock.nowMs()),
      'job deleted',
    );
    expect(deleted - finishedAt).toBeGreaterThanOrEqual(29000);
    expect(podsOf(store, j0)).toEqual([]);
  });

  it('restartPolicy OnFailure: container restarts count against backoffLimit', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('app:flaky', { kind: 'crash', exitCode: 1, after: 200 });
    const j0 = store.create('jobs', job('migrate', 'app:flaky', { backoffLimit: 2 }, 'OnFailure'));
    const j = await waitForObject(store, 'jobs', NS, 'migrate', finished);
    expect(conds(j).map((c) => `${c.type}/${c.reason}`)).toEqual([
      'FailureTarget/BackoffLimitExceeded',
      'Failed/BackoffLimitExceeded',
    ]);
    // The one pod restarted in place and was then terminated.
    expect(podsOf(store, j0)).toEqual([]);
  });

  it('a Job running the app image with a migration command completes by the command rule or the default', async () => {
    cluster = startTestCluster();
    const { store, images, logs } = cluster;
    images.set('app:v2', { kind: 'ready', after: 100 });
    images.setCommand('alembic upgrade head', {
      kind: 'exit',
      exitCode: 0,
      lines: ['INFO  upgraded'],
      after: 500,
    });
    const j0 = store.create('jobs', job('migrate', 'app:v2'));
    const j = await waitForObject(store, 'jobs', NS, 'migrate', finished);
    expect(conds(j).map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    const pod = podsOf(store, j0)[0]!;
    expect(logs.run(NS, pod.metadata.name, 'migrate')!.lines.map((l) => l.text)).toEqual(['INFO  upgraded']);
    // An image nobody described: the command succeeds.
    store.create('jobs', job('other', 'unknown:1'));
    const other = await waitForObject(store, 'jobs', NS, 'other', finished);
    expect(other.status.succeeded).toBe(1);
  });

  it('suspend deletes the active pod and resuming starts a new one', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('app:long', { kind: 'exit', exitCode: 0, lines: [], after: 1e7 });
    const j0 = store.create('jobs', job('migrate', 'app:long'));
    const first = await waitUntil(store, () => podsOf(store, j0)[0], 'a job pod');
    store.mutate('jobs', NS, 'migrate', (j) => {
      j.spec.suspend = true;
    });
    const suspended = await waitForObject(store, 'jobs', NS, 'migrate', (j) =>
      conds(j).some((c) => c.type === 'Suspended'),
    );
    expect(conds(suspended).find((c) => c.type === 'Suspended')).toMatchObject({
      status: 'True',
      reason: 'JobSuspended',
      message: 'Job suspended',
    });
    expect(podsOf(store, j0)).toEqual([]);
    expect(suspended.status.active).toBeUndefined();
    store.mutate('jobs', NS, 'migrate', (j) => {
      j.spec.suspend = false;
    });
    const second = await waitUntil(store, () => podsOf(store, j0)[0], 'a new job pod');
    expect(second.metadata.name).not.toBe(first.metadata.name);
    const resumed = await waitForObject(store, 'jobs', NS, 'migrate', (j) => j.status?.active === 1);
    expect(conds(resumed).find((c) => c.type === 'Suspended')).toMatchObject({
      status: 'False',
      reason: 'JobResumed',
      message: 'Job resumed',
    });
  });

  it('runs completions pods with parallelism', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('app:batch', { kind: 'exit', exitCode: 0, lines: [], after: 1000 });
    let maxActive = 0;
    const off = store.on((c) => {
      if (c.resource === 'jobs') maxActive = Math.max(maxActive, c.object.status?.active ?? 0);
    });
    const j0 = store.create('jobs', job('batch', 'app:batch', { completions: 5, parallelism: 2 }));
    const j = await waitForObject(store, 'jobs', NS, 'batch', finished);
    off();
    expect(j.status.succeeded).toBe(5);
    expect(maxActive).toBe(2);
    expect(podsOf(store, j0)).toHaveLength(5);
  });
});
