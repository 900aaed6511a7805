import { afterEach, describe, expect, it } from '@jest/globals';
import type { KubeObject, ObjectStore } from '../src/kube/store.js';
import { ImageCatalog, parseImage } from '../src/kube/controllers/index.js';
import {
  eventsFor,
  startTestCluster,
  waitForObject,
  waitUntil,
  type TestCluster,
} from '../src/kube/controllers/testing.js';

const NS = 'default';

function pod(
  name: string,
  image: string,
  extra: Record<string, unknown> = {},
  container: Record<string, unknown> = {},
) {
  return {
    metadata: { name, namespace: NS, labels: { app: name } },
    spec: { containers: [{ name: 'app', image, ...container }], ...extra },
  };
}

const cstatus = (p: KubeObject) => p.status?.containerStatuses?.[0];
const cond = (p: KubeObject, type: string) =>
  (p.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
const waiting = (reason: string) => (p: KubeObject) => cstatus(p)?.state?.waiting?.reason === reason;

let cluster: TestCluster | undefined;
afterEach(() => {
  const errors = cluster?.errors ?? [];
  cluster?.stop();
  cluster = undefined;
  // No controller sync failed along the way.
  expect(errors.map(String)).toEqual([]);
});

function seen(
  store: ObjectStore,
  name: string,
  pred: (p: KubeObject) => boolean,
): { hits: KubeObject[]; stop: () => void } {
  const hits: KubeObject[] = [];
  const stop = store.on((c) => {
    if (c.resource === 'pods' && c.object.metadata.name === name && pred(c.object)) hits.push(c.object);
  });
  return { hits, stop };
}

describe('image catalog', () => {
  it('looks images up exactly, by repository, by glob, else the default', () => {
    const c = new ImageCatalog();
    c.set('app:v1', { kind: 'crash' });
    c.set('registry.local:5000/team/api', { kind: 'never-ready' });
    c.set('*/migrate:*', { kind: 'exit', exitCode: 0, lines: ['ok'] });
    expect(c.get('app:v1').kind).toBe('crash');
    expect(c.get('app:v2')).toEqual({ kind: 'ready', after: 2000 });
    expect(c.get('registry.local:5000/team/api:v7').kind).toBe('never-ready');
    expect(c.get('registry.local:5000/team/api@sha256:' + 'a'.repeat(64)).kind).toBe('never-ready');
    expect(c.get('ecr.example/migrate:v3').kind).toBe('exit');
    c.setDefault({ kind: 'missing' });
    expect(c.get('whatever:1').kind).toBe('missing');
  });

  it('resolves command rules before image entries, and a default that completes in run-to-completion pods', () => {
    const c = new ImageCatalog();
    c.set('app:v2', { kind: 'ready', after: 100 });
    c.setCommand('alembic *', { kind: 'exit', exitCode: 0, lines: ['upgraded'] });
    c.setCommand('alembic downgrade *', { kind: 'exit', exitCode: 1, lines: ['no'] }, 'app');
    expect(c.resolve({ image: 'app:v2' }).kind).toBe('ready');
    expect(c.resolve({ image: 'app:v2', command: ['alembic'], args: ['upgrade', 'head'] })).toEqual({
      kind: 'exit',
      exitCode: 0,
      lines: ['upgraded'],
    });
    expect(c.resolve({ image: 'app:v2', command: ['alembic', 'downgrade', '-1'] })).toMatchObject({
      exitCode: 1,
    });
    expect(c.resolve({ image: 'other:v2', command: ['alembic', 'downgrade', '-1'] })).toMatchObject({
      exitCode: 0,
    });
    // No entry: a server in a Deployment, a command that succeeds in a Job.
    expect(c.resolve({ image: 'unknown:1' }, 'Always')).toEqual({ kind: 'ready', after: 2000 });
    expect(c.resolve({ image: 'unknown:1' }, 'Never')).toEqual({
      kind: 'exit',
      exitCode: 0,
      lines: [],
      after: 2000,
    });
    expect(c.resolve({ image: 'app:v2' }, 'Never').kind).toBe('ready');
    c.setDefault({ kind: 'crash' });
    expect(c.resolve({ image: 'unknown:1' }, 'Never').kind).toBe('crash');
  });

  it('applies and returns a JSON configuration, rejecting malformed behaviours', () => {
    const c = new ImageCatalog();
    c.configure({
      images: { 'app:bad': { kind: 'crash', exitCode: 2 } },
      commands: [{ command: 'alembic *', behaviour: { kind: 'exit', exitCode: 0, lines: ['ok'] } }],
      missingSecrets: ['prod/db'],
      pullMs: 50,
    });
    expect(c.get('app:bad')).toEqual({ kind: 'crash', exitCode: 2 });
    expect(c.resolve({ image: 'x:1', command: ['alembic', 'upgrade'] }).kind).toBe('exit');
    expect(c.isSecretMissing('prod', 'db')).toBe(true);
    expect(c.snapshot()).toEqual({
      images: { 'app:bad': { kind: 'crash', exitCode: 2 } },
      commands: [{ command: 'alembic *', behaviour: { kind: 'exit', exitCode: 0, lines: ['ok'] } }],
      missingSecrets: ['prod/db'],
      missingConfigMaps: [],
      pullMs: 50,
    });
    expect(() => c.configure({ images: { x: { kind: 'explode' } as never } })).toThrow(
      'images["x"]: kind "explode" is not one of ready, never-ready, crash, oom, exit, missing',
    );
    expect(() => c.configure({ images: { x: { kind: 'exit', exitCode: 1 } as never } })).toThrow(
      'images["x"]: lines must be an array of strings (required)',
    );
    expect(() => c.configure({ images: { x: { kind: 'ready', after: -1 } } })).toThrow(
      'after must be a non-negative number',
    );
    expect(() => new ImageCatalog({ 'app:1': { kind: 'crash', exitCode: 'x' } as never })).toThrow(
      'images["app:1"]: exitCode must be a non-negative number',
    );
  });

  it('parses and normalises image references', () => {
    expect(parseImage('nginx')?.fullName).toBe('docker.io/library/nginx:latest');
    expect(parseImage('team/app:1.0')?.fullName).toBe('docker.io/team/app:1.0');
    expect(parseImage('123.dkr.ecr.eu-west-1.amazonaws.com/app:sha-1')?.fullName).toBe(
      '123.dkr.ecr.eu-west-1.amazonaws.com/app:sha-1',
    );
    expect(parseImage('localhost:5000/app@sha256:' + 'b'.repeat(64))?.digest).toBe(
      'sha256:' + 'b'.repeat(64),
    );
    expect(parseImage('Nginx:1.0')).toBeUndefined();
    expect(parseImage('nginx:bad tag')).toBeUndefined();
    expect(parseImage('nginx::1')).toBeUndefined();
  });

  it('declares missing secrets and configmaps per namespace or everywhere', () => {
    const c = new ImageCatalog();
    c.addMissingSecret('db');
    c.addMissingConfigMap('cfg', 'prod');
    expect(c.isSecretMissing('any', 'db')).toBe(true);
    expect(c.isConfigMapMissing('prod', 'cfg')).toBe(true);
    expect(c.isConfigMapMissing('staging', 'cfg')).toBe(false);
    c.removeMissingSecret('db');
    expect(c.isSecretMissing('any', 'db')).toBe(false);
  });
});

describe('simulated kubelet', () => {
  it('runs a ready image through Pending → ContainerCreating → Running → Ready with events and logs', async () => {
    cluster = startTestCluster();
    const { store, images, logs } = cluster;
    images.set('web:1', { kind: 'ready', after: 5000, lines: ['listening on :8080'] });
    const phases: string[] = [];
    const off = store.on((c) => {
      if (c.resource !== 'pods') return;
      const s = cstatus(c.object);
      const label = `${c.object.status?.phase}/${s?.state?.waiting?.reason ?? (s?.state?.running ? 'running' : s ? 'other' : 'none')}/${s?.ready ?? '-'}`;
      if (phases[phases.length - 1] !== label) phases.push(label);
    });
    store.create('pods', pod('web', 'web:1'));
    const p = await waitForObject(store, 'pods', NS, 'web', (o) => cond(o, 'Ready')?.status === 'True');
    off();
    expect(phases).toEqual([
      'Pending/none/-',
      'Pending/ContainerCreating/false',
      'Running/running/false',
      'Running/running/true',
    ]);
    expect(p.spec.nodeName).toBe('sandbox-node');
    expect(p.status).toMatchObject({ phase: 'Running', hostIP: '172.18.0.2', qosClass: 'BestEffort' });
    expect(p.status.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    expect(p.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`)).toEqual(
      [
        'PodReadyToStartContainers=True',
        'Initialized=True',
        'Ready=True',
        'ContainersReady=True',
        'PodScheduled=True',
      ],
    );
    const cs = cstatus(p);
    expect(cs).toMatchObject({
      name: 'app',
      ready: true,
      started: true,
      restartCount: 0,
      image: 'web:1',
      lastState: {},
    });
    expect(cs.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(cs.imageID).toMatch(/^docker\.io\/library\/web@sha256:[0-9a-f]{64}$/);
    expect(cs.state.running.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const events = eventsFor(store, NS, 'web');
    expect(events.map((e) => e.reason)).toEqual(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']);
    expect(events[0]).toMatchObject({
      type: 'Normal',
      message: 'Successfully assigned default/web to sandbox-node',
      source: { component: 'default-scheduler' },
      count: 1,
      involvedObject: { kind: 'Pod', name: 'web', namespace: NS, uid: p.metadata.uid, apiVersion: 'v1' },
    });
    expect(events[1]).toMatchObject({
      message: 'Pulling image "web:1"',
      source: { component: 'kubelet', host: 'sandbox-node' },
      involvedObject: { fieldPath: 'spec.containers{app}' },
    });
    expect(events[2]!.message).toMatch(
      /^Successfully pulled image "web:1" in [\d.]+s \([\d.]+s including waiting\)\. Image size: \d+ bytes\.$/,
    );
    expect(events[3]!.message).toBe('Created container: app');
    expect(events[4]!.message).toBe('Started container app');
    for (const e of events) expect(e.firstTimestamp).toBe(e.lastTimestamp);
    expect(logs.run(NS, 'web', 'app')?.lines.map((l) => l.text)).toEqual(['listening on :8080']);
    // A second pod of an IfNotPresent image finds it on the node.
    store.create('pods', pod('web2', 'web:1'));
    await waitForObject(store, 'pods', NS, 'web2', (o) => cond(o, 'Ready')?.status === 'True');
    expect(eventsFor(store, NS, 'web2').find((e) => e.reason === 'Pulled')?.message).toBe(
      'Container image "web:1" already present on machine',
    );
  });

  it('never-ready: running but not ready, with aggregated Unhealthy events', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('web:bad', { kind: 'never-ready' });
    store.create(
      'pods',
      pod(
        'web',
        'web:bad',
        {},
        { readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 } },
      ),
    );
    await waitUntil(
      store,
      () => eventsFor(store, NS, 'web').find((e) => e.reason === 'Unhealthy' && (e.count as number) >= 3),
      'Unhealthy ×3',
    );
    const p = store.get('pods', NS, 'web')!;
    expect(p.status.phase).toBe('Running');
    expect(cstatus(p)).toMatchObject({ ready: false, started: true, state: { running: {} } });
    expect(cond(p, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [app]',
    });
    const unhealthy = eventsFor(store, NS, 'web').filter((e) => e.reason === 'Unhealthy');
    expect(unhealthy).toHaveLength(1);
    expect(unhealthy[0]).toMatchObject({
      type: 'Warning',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
    });
  });

  it('drops events beyond the spam filter burst (25 per source and object)', async () => {
    cluster = startTestCluster({ timeScale: 0.01 });
    const { store, images, clock } = cluster;
    images.set('web:bad', { kind: 'never-ready' });
    store.create(
      'pods',
      pod('web', 'web:bad', {}, { readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }),
    );
    await waitUntil(
      store,
      () => eventsFor(store, NS, 'web').find((e) => e.reason === 'Unhealthy'),
      'Unhealthy',
    );
    const start = clock.nowMs();
    // 100 probe periods: without the filter the count would pass 21 well before.
    await waitUntil(store, () => clock.nowMs() - start > 100000, '100 simulated seconds');
    const kubelet = eventsFor(store, NS, 'web').filter(
      (e) => (e.source as { component: string }).component === 'kubelet',
    );
    // Pulling, Pulled, Created, Started, then 21 probe failures: the burst of 25 is spent (no refill within 5 min).
    expect(kubelet.map((e) => e.reason)).toEqual(['Pulling', 'Pulled', 'Created', 'Started', 'Unhealthy']);
    expect(kubelet[4]!.count).toBe(21);
    expect(kubelet[4]!.message).toMatch(
      /^Readiness probe failed: dial tcp 10\.244\.\d+\.\d+:8080: connect: connection refused$/,
    );
  });

  it('crash: prints, exits, restarts, then CrashLoopBackOff with growing back-off and lastState', async () => {
    cluster = startTestCluster();
    const { store, images, logs } = cluster;
    images.set('web:crash', { kind: 'crash', exitCode: 3, lines: ['boom'] });
    const clbo = seen(store, 'web', waiting('CrashLoopBackOff'));
    store.create('pods', pod('web', 'web:crash'));
    const p = await waitForObject(store, 'pods', NS, 'web', (o) => (cstatus(o)?.restartCount ?? 0) >= 4);
    clbo.stop();
    const backoffs = [
      ...new Set(
        clbo.hits.map((h) => /back-off (\S+) restarting/.exec(cstatus(h).state.waiting.message)?.[1]),
      ),
    ];
    expect(backoffs.slice(0, 3)).toEqual(['10s', '20s', '40s']);
    const first = clbo.hits[0]!;
    expect(first.status.phase).toBe('Running');
    expect(cstatus(first).state.waiting.message).toBe(
      `back-off 10s restarting failed container=app pod=web_default(${first.metadata.uid})`,
    );
    expect(cstatus(first).lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(cstatus(first).ready).toBe(false);
    expect(cstatus(p).lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    const backoff = eventsFor(store, NS, 'web').find((e) => e.reason === 'BackOff')!;
    expect(backoff).toMatchObject({
      type: 'Warning',
      message: `Back-off restarting failed container app in pod web_default(${p.metadata.uid})`,
    });
    expect(backoff.count).toBeGreaterThanOrEqual(2);
    expect(eventsFor(store, NS, 'web').find((e) => e.reason === 'Started')!.count).toBeGreaterThanOrEqual(4);
    // Logs: the current run and the previous one.
    await waitUntil(store, () => logs.run(NS, 'web', 'app', true)?.ended, 'a previous run');
    expect(logs.run(NS, 'web', 'app', true)!.lines.map((l) => l.text)).toEqual(['boom']);
  });

  it('oom: OOMKilled with exit code 137, then CrashLoopBackOff', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('web:oom', { kind: 'oom' });
    const killed = seen(store, 'web', (o) => cstatus(o)?.state?.terminated?.reason === 'OOMKilled');
    store.create('pods', pod('web', 'web:oom'));
    const p = await waitForObject(store, 'pods', NS, 'web', waiting('CrashLoopBackOff'));
    killed.stop();
    expect(cstatus(killed.hits[0]!).state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(cstatus(p).lastState.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(cstatus(p).restartCount).toBeGreaterThanOrEqual(1);
  });

  it('missing image: ErrImagePull ↔ ImagePullBackOff with Failed and BackOff events, until it appears', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('ghost:1', { kind: 'missing' });
    const reasons: string[] = [];
    const off = store.on((c) => {
      if (c.resource !== 'pods') return;
      const r = cstatus(c.object)?.state?.waiting?.reason;
      if (r && reasons[reasons.length - 1] !== r) reasons.push(r);
    });
    store.create('pods', pod('web', 'ghost:1'));
    const p = await waitUntil(
      store,
      () =>
        reasons.filter((r) => r === 'ErrImagePull').length >= 2 ? store.get('pods', NS, 'web') : undefined,
      'two pull attempts',
    );
    expect(reasons.slice(0, 4)).toEqual([
      'ContainerCreating',
      'ErrImagePull',
      'ImagePullBackOff',
      'ErrImagePull',
    ]);
    expect(p.status.phase).toBe('Pending');
    const events = eventsFor(store, NS, 'web');
    const failed = events.filter((e) => e.reason === 'Failed').map((e) => e.message);
    expect(failed).toContain(
      'Failed to pull image "ghost:1": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/ghost:1": failed to resolve reference "docker.io/library/ghost:1": docker.io/library/ghost:1: not found',
    );
    expect(failed).toContain('Error: ErrImagePull');
    expect(failed).toContain('Error: ImagePullBackOff');
    expect(events.find((e) => e.reason === 'BackOff')).toMatchObject({
      type: 'Normal',
      message: 'Back-off pulling image "ghost:1"',
    });
    expect(events.find((e) => e.reason === 'Pulling')!.count).toBeGreaterThanOrEqual(2);
    const backoffState = await waitForObject(store, 'pods', NS, 'web', waiting('ImagePullBackOff'));
    expect(cstatus(backoffState).state.waiting.message).toMatch(
      /^Back-off pulling image "ghost:1": ErrImagePull: rpc error: code = NotFound/,
    );
    off();
    // Pushed at last: the next attempt pulls it.
    images.set('ghost:1', { kind: 'ready', after: 100 });
    await waitForObject(store, 'pods', NS, 'web', (o) => cond(o, 'Ready')?.status === 'True');
  });

  it('a pod with two containers is Pending while one image cannot be pulled', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('sidecar:gone', { kind: 'missing' });
    store.create('pods', {
      metadata: { name: 'web', namespace: NS },
      spec: {
        containers: [
          { name: 'app', image: 'web:1' },
          { name: 'proxy', image: 'sidecar:gone' },
        ],
      },
    });
    const p = await waitForObject(store, 'pods', NS, 'web', (o) =>
      (o.status?.containerStatuses ?? []).some(
        (s: { state: { waiting?: { reason: string } } }) => s.state.waiting?.reason === 'ImagePullBackOff',
      ),
    );
    const [app, proxy] = p.status.containerStatuses;
    expect(app.name).toBe('app');
    expect(proxy.name).toBe('proxy');
    expect(p.status.phase).toBe('Pending');
    expect(cond(p, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    expect(cond(p, 'Ready').message).toContain('proxy');
    const failed = eventsFor(store, NS, 'web').filter((e) => e.reason === 'Failed');
    expect(
      failed.every((e) => (e.involvedObject as { fieldPath: string }).fieldPath === 'spec.containers{proxy}'),
    ).toBe(true);
  });

  it('invalid image reference: InvalidImageName', async () => {
    cluster = startTestCluster();
    const { store } = cluster;
    store.create('pods', pod('web', 'Web:1'));
    const p = await waitForObject(store, 'pods', NS, 'web', waiting('InvalidImageName'));
    expect(cstatus(p).state.waiting.message).toBe(
      'Failed to apply default image tag "Web:1": couldn\'t parse image name "Web:1": invalid reference format: repository name (Web) must be lowercase',
    );
    expect(p.status.phase).toBe('Pending');
    expect(eventsFor(store, NS, 'web').map((e) => e.reason)).toEqual(
      expect.arrayContaining(['InspectFailed', 'Failed']),
    );
  });

  it('missing secret in env: CreateContainerConfigError until the secret exists', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.addMissingSecret('db-credentials');
    store.create(
      'pods',
      pod(
        'web',
        'web:1',
        {},
        {
          env: [
            {
              name: 'OPT',
              valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'x', optional: true } },
            },
            { name: 'DB', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'url' } } },
          ],
        },
      ),
    );
    const p = await waitForObject(store, 'pods', NS, 'web', waiting('CreateContainerConfigError'));
    expect(cstatus(p).state.waiting.message).toBe('secret "db-credentials" not found');
    expect(p.status.phase).toBe('Pending');
    expect(
      eventsFor(store, NS, 'web').some(
        (e) => e.reason === 'Failed' && e.message === 'Error: secret "db-credentials" not found',
      ),
    ).toBe(true);
    images.removeMissingSecret('db-credentials');
    await waitForObject(store, 'pods', NS, 'web', (o) => cond(o, 'Ready')?.status === 'True');
  });

  it('missing configmap in envFrom: CreateContainerConfigError; as a volume: FailedMount in ContainerCreating', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.addMissingConfigMap('settings', NS);
    store.create('pods', pod('a', 'web:1', {}, { envFrom: [{ configMapRef: { name: 'settings' } }] }));
    store.create('pods', pod('b', 'web:1', { volumes: [{ name: 'cfg', configMap: { name: 'settings' } }] }));
    const a = await waitForObject(store, 'pods', NS, 'a', waiting('CreateContainerConfigError'));
    expect(cstatus(a).state.waiting.message).toBe('configmap "settings" not found');
    await waitUntil(
      store,
      () => eventsFor(store, NS, 'b').find((e) => e.reason === 'FailedMount'),
      'FailedMount',
    );
    const b = store.get('pods', NS, 'b')!;
    expect(cstatus(b).state.waiting.reason).toBe('ContainerCreating');
    expect(eventsFor(store, NS, 'b').find((e) => e.reason === 'FailedMount')!.message).toBe(
      'MountVolume.SetUp failed for volume "cfg" : configmap "settings" not found',
    );
  });

  it('exit: prints lines over time, then terminates; restartPolicy Never ends the pod', async () => {
    cluster = startTestCluster({ timeScale: 0.01 });
    const { store, images, logs } = cluster;
    images.set('migrate:1', { kind: 'exit', exitCode: 0, lines: ['one', 'two', 'three'], after: 40000 });
    store.create('pods', pod('m', 'migrate:1', { restartPolicy: 'Never' }));
    await waitForObject(store, 'pods', NS, 'm', (o) => cstatus(o)?.state?.running !== undefined);
    const got: string[] = [];
    let ended = false;
    const unfollow = logs.follow(NS, 'm', 'app', (ev) => {
      if (ev.type === 'line') got.push(ev.line.text);
      if (ev.type === 'end') ended = true;
    });
    const p = await waitForObject(store, 'pods', NS, 'm', (o) => o.status?.phase === 'Succeeded');
    unfollow();
    // The follower saw the tail of what was printed (it attached while the container ran) and the end.
    expect(['one', 'two', 'three'].slice(3 - got.length)).toEqual(got);
    expect(ended).toBe(true);
    const run = logs.run(NS, 'm', 'app')!;
    expect(run.ended).toBe(true);
    expect(run.lines.map((l) => l.text)).toEqual(['one', 'two', 'three']);
    // Printed over time: 10 s apart on the simulated clock (after 40 s, 3 lines).
    const times = run.lines.map((l) => l.time.getTime());
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(12000);
    expect(cstatus(p)).toMatchObject({
      ready: false,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    });
    expect(cond(p, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    images.set('migrate:2', { kind: 'exit', exitCode: 2, lines: ['nope'], after: 1000 });
    store.create('pods', pod('f', 'migrate:2', { restartPolicy: 'Never' }));
    const f = await waitForObject(store, 'pods', NS, 'f', (o) => o.status?.phase === 'Failed');
    expect(cstatus(f).state.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
  });

  it('FallbackToLogsOnError puts the last log lines into the terminated message', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('migrate:bad', {
      kind: 'exit',
      exitCode: 4,
      lines: ['starting', 'ERROR: relation "users" already exists'],
      after: 500,
    });
    store.create(
      'pods',
      pod(
        'm',
        'migrate:bad',
        { restartPolicy: 'Never' },
        { terminationMessagePolicy: 'FallbackToLogsOnError' },
      ),
    );
    const p = await waitForObject(store, 'pods', NS, 'm', (o) => o.status?.phase === 'Failed');
    expect(cstatus(p).state.terminated).toMatchObject({
      exitCode: 4,
      reason: 'Error',
      message: 'starting\nERROR: relation "users" already exists',
    });
  });

  it('restartPolicy OnFailure restarts a failing container and not a succeeding one', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('job:fail', { kind: 'exit', exitCode: 1, lines: [], after: 500 });
    store.create('pods', pod('f', 'job:fail', { restartPolicy: 'OnFailure' }));
    images.set('job:ok', { kind: 'exit', exitCode: 0, lines: [], after: 500 });
    store.create('pods', pod('s', 'job:ok', { restartPolicy: 'OnFailure' }));
    const f = await waitForObject(store, 'pods', NS, 'f', (o) => (cstatus(o)?.restartCount ?? 0) >= 2);
    expect(f.status.phase).toBe('Running');
    const s = await waitForObject(store, 'pods', NS, 's', (o) => o.status?.phase === 'Succeeded');
    expect(cstatus(s).restartCount).toBe(0);
  });

  it('runs init containers in order before the app containers', async () => {
    cluster = startTestCluster();
    const { store, images, logs } = cluster;
    images.set('tools:1', { kind: 'exit', exitCode: 0, lines: ['waiting for db', 'db is up'], after: 3000 });
    const initStates: string[] = [];
    const off = store.on((c) => {
      if (c.resource !== 'pods' || !c.object.status?.initContainerStatuses) return;
      const app =
        cstatus(c.object)?.state?.waiting?.reason ?? (cstatus(c.object)?.state?.running ? 'running' : '?');
      const init = c.object.status.initContainerStatuses
        .map(
          (s: { state: Record<string, { reason?: string }> }) =>
            s.state.waiting?.reason ?? s.state.terminated?.reason ?? 'running',
        )
        .join('+');
      const label = `${String(cond(c.object, 'Initialized')?.status)} ${init} ${String(app)}`;
      if (initStates[initStates.length - 1] !== label) initStates.push(label);
    });
    store.create('pods', {
      metadata: { name: 'web', namespace: NS },
      spec: {
        initContainers: [
          { name: 'wait-db', image: 'tools:1' },
          { name: 'migrate', image: 'app:v1', command: ['alembic', 'upgrade', 'head'] },
        ],
        containers: [{ name: 'app', image: 'app:v1' }],
      },
    });
    const p = await waitForObject(store, 'pods', NS, 'web', (o) => cond(o, 'Ready')?.status === 'True');
    off();
    expect(initStates[0]).toBe('False PodInitializing+PodInitializing PodInitializing');
    expect(initStates).toContain('False running+PodInitializing PodInitializing');
    expect(initStates).toContain('False Completed+running PodInitializing');
    expect(initStates[initStates.length - 1]).toBe('True Completed+Completed running');
    expect(p.status.initContainerStatuses[0]).toMatchObject({
      name: 'wait-db',
      ready: true,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    });
    expect(logs.run(NS, 'web', 'wait-db')!.lines.map((l) => l.text)).toEqual(['waiting for db', 'db is up']);
    const started = eventsFor(store, NS, 'web').filter((e) => e.reason === 'Started');
    expect(started.map((e) => (e.involvedObject as { fieldPath: string }).fieldPath)).toEqual([
      'spec.initContainers{wait-db}',
      'spec.initContainers{migrate}',
      'spec.containers{app}',
    ]);
  });

  it('a failing init container: Init CrashLoopBackOff under Always, a Failed pod under Never', async () => {
    cluster = startTestCluster();
    const { store, images } = cluster;
    images.set('tools:bad', { kind: 'exit', exitCode: 2, lines: ['db unreachable'], after: 500 });
    const spec = (restartPolicy: string) => ({
      restartPolicy,
      initContainers: [{ name: 'wait-db', image: 'tools:bad' }],
      containers: [{ name: 'app', image: 'app:v1' }],
    });
    store.create('pods', { metadata: { name: 'a', namespace: NS }, spec: spec('Always') });
    store.create('pods', { metadata: { name: 'n', namespace: NS }, spec: spec('Never') });
    const a = await waitForObject(
      store,
      'pods',
      NS,
      'a',
      (o) => o.status?.initContainerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    expect(a.status.phase).toBe('Pending');
    expect(cstatus(a).state.waiting.reason).toBe('PodInitializing');
    expect(a.status.initContainerStatuses[0].lastState.terminated).toMatchObject({
      exitCode: 2,
      reason: 'Error',
    });
    const n = await waitForObject(store, 'pods', NS, 'n', (o) => o.status?.phase === 'Failed');
    expect(cond(n, 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [wait-db]',
    });
    expect(cstatus(n).state.waiting.reason).toBe('PodInitializing');
    expect(
      eventsFor(store, NS, 'n').some(
        (e) =>
          e.reason === 'Started' &&
          (e.involvedObject as { fieldPath: string }).fieldPath === 'spec.containers{app}',
      ),
    ).toBe(false);
  });

  it('deletes events an hour (simulated) after they last happened', async () => {
    cluster = startTestCluster({ timeScale: 0.0001 });
    const { store } = cluster;
    store.create('pods', pod('web', 'web:1'));
    await waitUntil(store, () => eventsFor(store, NS, 'web').length >= 5, 'pod events');
    await waitUntil(store, () => eventsFor(store, NS, 'web').length === 0, 'events expired', 5000);
    // The pod itself stays.
    expect(store.get('pods', NS, 'web')?.status.phase).toBe('Running');
  });

  it('forgets a deleted pod: its timers stop and its logs go', async () => {
    cluster = startTestCluster();
    const { store, images, logs } = cluster;
    images.set('web:stuck', { kind: 'never-ready', lines: ['x'] });
    store.create('pods', pod('web', 'web:stuck'));
    await waitUntil(
      store,
      () => eventsFor(store, NS, 'web').some((e) => e.reason === 'Unhealthy'),
      'a probe failure',
    );
    store.delete('pods', NS, 'web');
    const before = store.currentResourceVersion();
    await new Promise((r) => setTimeout(r, 100));
    // No kubelet write or event about the pod after its deletion.
    const later = store
      .changesSince(Number(before))
      .filter(
        (c) =>
          c.resource === 'pods' || (c.object.involvedObject as { name?: string } | undefined)?.name === 'web',
      );
    expect(later).toEqual([]);
    expect(logs.run(NS, 'web', 'app')).toBeUndefined();
    expect(eventsFor(store, NS, 'web').find((e) => e.reason === 'Killing')?.message).toBe(
      'Stopping container app',
    );
  });
});
