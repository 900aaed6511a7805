/**
 * @kubernetes/client-node 2.x against the sandbox over HTTPS, trusting the generated CA, with the
 * bearer token from the kubeconfig: list, watch, patch, logs — and a wrong token gets 401.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../src/index.js';
import { deploymentManifest, waitFor } from './helpers/kube.js';
import { rawRequest } from './helpers/http.js';

let sandbox: Sandbox;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  sandbox = await startSandbox({ controllers: false });
  kc = new k8s.KubeConfig();
  kc.loadFromString(sandbox.kubeconfigYaml);
});
afterAll(async () => {
  await sandbox?.stop();
});

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const strategicPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

function runningPod(name: string, containers: string[] = ['app']): Parameters<Sandbox['store']['create']>[1] {
  return {
    metadata: { name, namespace: 'default', labels: { app: 'logs' } },
    spec: {
      nodeName: 'sandbox-node',
      containers: containers.map((c) => ({ name: c, image: 'busybox:1.36' })),
    },
    status: {
      phase: 'Running',
      containerStatuses: containers.map((c) => ({
        name: c,
        ready: true,
        restartCount: 0,
        state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
      })),
    },
  };
}

describe('@kubernetes/client-node against the sandbox', () => {
  it('uses the kubeconfig: HTTPS with the sandbox CA and the token', () => {
    const cluster = kc.getCurrentCluster()!;
    expect(cluster.server).toBe(sandbox.url);
    expect(sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(Buffer.from(cluster.caData!, 'base64').toString()).toBe(sandbox.caPem);
    expect(kc.getCurrentUser()!.token).toBe(sandbox.token);
  });

  it('creates and lists Deployments, with selectors', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: 'default', body: deploymentManifest('web') });
    await apps.createNamespacedDeployment({ namespace: 'default', body: deploymentManifest('api') });
    const list = await apps.listNamespacedDeployment({ namespace: 'default' });
    expect(list.items.map((d) => d.metadata!.name)).toEqual(['api', 'web']);
    expect(Number(list.metadata!.resourceVersion)).toBeGreaterThan(0);
    expect(list.items[0]!.spec!.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    });
    const selected = await apps.listNamespacedDeployment({
      namespace: 'default',
      labelSelector: 'app in (web,other)',
    });
    expect(selected.items.map((d) => d.metadata!.name)).toEqual(['web']);
    const byName = await apps.listDeploymentForAllNamespaces({ fieldSelector: 'metadata.name=api' });
    expect(byName.items.map((d) => d.metadata!.name)).toEqual(['api']);
  });

  it('patches (strategic merge keeps other containers, merge patch) and gets 409 on a stale update', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'default',
        body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1.30' }] } } } },
      },
      strategicPatch,
    );
    const patched = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'default',
        body: {
          spec: {
            template: {
              spec: {
                $setElementOrder: undefined,
                '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
                containers: [{ name: 'app', image: 'nginx:1.27' }],
              },
            },
          },
        },
      },
      strategicPatch,
    );
    expect(patched.spec!.template.spec!.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      'app=nginx:1.27',
      'sidecar=envoy:1.30',
    ]);
    expect(patched.metadata!.generation).toBe(3);

    const scaled = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'default', body: { spec: { replicas: 4 } } },
      mergePatch,
    );
    expect(scaled.spec!.replicas).toBe(4);

    const stale = { ...patched, spec: { ...patched.spec!, replicas: 1 } };
    const err = await apps
      .replaceNamespacedDeployment({ name: 'web', namespace: 'default', body: stale })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(k8s.ApiException);
    const apiErr = err as k8s.ApiException<string>;
    expect(apiErr.code).toBe(409);
    expect(JSON.parse(apiErr.body)).toMatchObject({
      kind: 'Status',
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    });
    expect(sandbox.store.get('deployments', 'default', 'web')!.spec.replicas).toBe(4);
  });

  it('watches from a list resourceVersion and sees later changes in order', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const list = await apps.listNamespacedDeployment({
      namespace: 'default',
      fieldSelector: 'metadata.name=api',
    });
    const events: { type: string; image?: string; rv?: string }[] = [];
    const watch = new k8s.Watch(kc);
    let doneErr: unknown = 'open';
    const ctrl = await watch.watch(
      '/apis/apps/v1/namespaces/default/deployments',
      {
        fieldSelector: 'metadata.name=api',
        resourceVersion: list.metadata!.resourceVersion!,
        allowWatchBookmarks: true,
      },
      (type, obj: k8s.V1Deployment) =>
        events.push({
          type,
          image: obj.spec?.template.spec?.containers[0]?.image,
          rv: obj.metadata?.resourceVersion,
        }),
      (err) => (doneErr = err),
    );
    await apps.patchNamespacedDeployment(
      {
        name: 'api',
        namespace: 'default',
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'api:2' }] } } } },
      },
      strategicPatch,
    );
    // A change to another object must not show up in this field-selected watch.
    await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'default', body: { spec: { replicas: 5 } } },
      mergePatch,
    );
    await apps.deleteNamespacedDeployment({ name: 'api', namespace: 'default' });
    await waitFor('the DELETED event', () => events.some((e) => e.type === 'DELETED'));
    ctrl.abort();
    const real = events.filter((e) => e.type !== 'BOOKMARK');
    expect(real.map((e) => `${e.type} ${e.image}`)).toEqual(['MODIFIED api:2', 'DELETED api:2']);
    expect(Number(real[1]!.rv)).toBeGreaterThan(Number(real[0]!.rv));
    expect(doneErr).toBe('open');
  });

  it('reads pod logs: all, tail, follow until the container ends', async () => {
    sandbox.store.create('pods', runningPod('logger'));
    for (const l of ['one', 'two', 'three']) sandbox.logs.append('default', 'logger', 'app', l);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    expect(await core.readNamespacedPodLog({ name: 'logger', namespace: 'default' })).toBe(
      'one\ntwo\nthree\n',
    );
    expect(await core.readNamespacedPodLog({ name: 'logger', namespace: 'default', tailLines: 1 })).toBe(
      'three\n',
    );

    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const ended = new Promise<void>((r) => out.on('finish', () => r()));
    await new k8s.Log(kc).log('default', 'logger', 'app', out, { follow: true, tailLines: 1 });
    await waitFor('the tail line', () => text === 'three\n');
    sandbox.logs.append('default', 'logger', 'app', 'four');
    await waitFor('the followed line', () => text === 'three\nfour\n');
    sandbox.logs.endContainer('default', 'logger', 'app');
    await ended;
    expect(text).toBe('three\nfour\n');
  });

  it('answers log errors as the kubelet does', async () => {
    sandbox.store.create('pods', runningPod('two', ['a', 'b']));
    sandbox.store.create('pods', {
      metadata: { name: 'pulling', namespace: 'default' },
      spec: { nodeName: 'sandbox-node', containers: [{ name: 'migrate', image: 'app:1' }] },
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'migrate',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ContainerCreating' } },
          },
        ],
      },
    });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const message = async (p: Promise<unknown>): Promise<string> => {
      const e = (await p.catch((x: unknown) => x)) as k8s.ApiException<string>;
      expect(e.code).toBe(400);
      return JSON.parse(e.body).message as string;
    };
    expect(await message(core.readNamespacedPodLog({ name: 'two', namespace: 'default' }))).toBe(
      'a container name must be specified for pod two, choose one of: [a b]',
    );
    expect(await message(core.readNamespacedPodLog({ name: 'pulling', namespace: 'default' }))).toBe(
      'container "migrate" in pod "pulling" is waiting to start: ContainerCreating',
    );
    expect(
      await message(
        core.readNamespacedPodLog({ name: 'two', namespace: 'default', container: 'a', previous: true }),
      ),
    ).toBe('previous terminated container "a" in pod "two" not found');
  });

  it('rejects a wrong or missing token with 401 and a Status body', async () => {
    const bad = new k8s.KubeConfig();
    bad.loadFromString(sandbox.kubeconfigYaml.replace(sandbox.token, 'not-the-token'));
    const err = (await bad
      .makeApiClient(k8s.CoreV1Api)
      .listNamespace()
      .catch((e: unknown) => e)) as k8s.ApiException<string>;
    expect(err).toBeInstanceOf(k8s.ApiException);
    expect(err.code).toBe(401);
    const wrong = await rawRequest(sandbox.url, '/api/v1/namespaces', {
      ca: sandbox.caPem,
      token: 'not-the-token',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const anonymous = await rawRequest(sandbox.url, '/api/v1/namespaces', { ca: sandbox.caPem });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.reason).toBe('Unauthorized');
    // The token works, and /version is public as on a real cluster.
    expect(
      (await rawRequest(sandbox.url, '/api/v1/namespaces', { ca: sandbox.caPem, token: sandbox.token }))
        .status,
    ).toBe(200);
    expect((await rawRequest(sandbox.url, '/version', { ca: sandbox.caPem })).json.minor).toBe('32');
  });
});
