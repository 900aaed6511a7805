/**
 * The API's HTTP contract below the client libraries: watch semantics (replay, synthetic ADDED,
 * BOOKMARK, 410, timeoutSeconds, selector transitions), discovery and OpenAPI, Tables, subresources,
 * dryRun, Status bodies for 404/409/415/422, events and the apps health endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox, type Sandbox } from '../src/index.js';
import { KubeApiServer } from '../src/kube/server.js';
import { ObjectStore } from '../src/kube/store.js';
import { PodLogs } from '../src/kube/logs.js';
import { deploymentManifest } from './helpers/kube.js';
import { openStream, rawRequest, type RawOptions } from './helpers/http.js';

let sandbox: Sandbox;
const DEPLOYS = '/apis/apps/v1/namespaces/default/deployments';

beforeAll(async () => {
  sandbox = await startSandbox({ https: false, controllers: false, bookmarkIntervalMs: 100 });
});
afterAll(async () => {
  await sandbox?.stop();
});

const req = (path: string, opts: RawOptions = {}) =>
  rawRequest(sandbox.url, path, { token: sandbox.token, ...opts });
const watch = (path: string) => openStream(sandbox.url, path, { token: sandbox.token });
const events = (lines: string[]) => lines.map((l) => JSON.parse(l) as { type: string; object: any });

describe('watch', () => {
  it('replays changes after a resourceVersion, then streams live ones', async () => {
    sandbox.store.create('deployments', deploymentManifest('w1'));
    const rv = sandbox.store.currentResourceVersion();
    sandbox.store.create('deployments', deploymentManifest('w2'));
    sandbox.store.mutate('deployments', 'default', 'w1', (d) => {
      d.spec.replicas = 5;
    });
    const s = await watch(`${DEPLOYS}?watch=true&resourceVersion=${rv}`);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('application/json');
    expect(s.headers['transfer-encoding']).toBe('chunked');
    await s.waitForLines(2);
    sandbox.store.delete('deployments', 'default', 'w2');
    const got = events(await s.waitForLines(3));
    s.close();
    expect(got.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      'ADDED w2',
      'MODIFIED w1',
      'DELETED w2',
    ]);
    expect(got[1]!.object).toMatchObject({
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      spec: { replicas: 5 },
    });
    const rvs = got.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    expect(rvs[0]).toBeGreaterThan(Number(rv));
  });

  it('starts with synthetic ADDED events for resourceVersion=0 and filters by field selector', async () => {
    const s = await watch(`${DEPLOYS}?watch=true&resourceVersion=0&fieldSelector=metadata.name%3Dw1`);
    const got = events(await s.waitForLines(1));
    sandbox.store.mutate('deployments', 'default', 'w1', (d) => {
      d.spec.replicas = 6;
    });
    const next = events(await s.waitForLines(2));
    s.close();
    expect(got.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w1']);
    expect(next[1]).toMatchObject({ type: 'MODIFIED', object: { spec: { replicas: 6 } } });
  });

  it('sends BOOKMARKs with the current resourceVersion when other objects change', async () => {
    const s = await watch(
      `${DEPLOYS}?watch=true&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dw1&resourceVersion=${sandbox.store.currentResourceVersion()}`,
    );
    sandbox.store.create('deployments', deploymentManifest('other'));
    const got = events(await s.waitForLines(1));
    s.close();
    expect(got[0]).toEqual({
      type: 'BOOKMARK',
      object: {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { resourceVersion: sandbox.store.currentResourceVersion() },
      },
    });
  });

  it('turns a label change into DELETED/ADDED for a label-selected watch', async () => {
    const s = await watch(
      `${DEPLOYS}?watch=true&labelSelector=tier%3Dfront&resourceVersion=${sandbox.store.currentResourceVersion()}`,
    );
    sandbox.store.mutate('deployments', 'default', 'other', (d) => {
      d.metadata.labels = { app: 'other', tier: 'front' };
    });
    sandbox.store.mutate('deployments', 'default', 'other', (d) => {
      d.metadata.labels = { app: 'other' };
    });
    const got = events(await s.waitForLines(2));
    s.close();
    expect(got.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED other', 'DELETED other']);
  });

  it('closes the stream after timeoutSeconds', async () => {
    const t0 = Date.now();
    const s = await watch(
      `${DEPLOYS}?watch=true&timeoutSeconds=1&resourceVersion=${sandbox.store.currentResourceVersion()}`,
    );
    await s.ended;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('answers a resourceVersion older than the history window with an ERROR 410 event', async () => {
    const store = new ObjectStore({ historyWindow: 3 });
    const server = new KubeApiServer({ store, logs: new PodLogs(), token: 't' });
    const url = await server.start();
    try {
      const first = store.create('deployments', deploymentManifest('a'));
      for (let i = 0; i < 5; i++)
        store.mutate('deployments', 'default', 'a', (d) => (d.spec.replicas = i + 3));
      const s = await openStream(
        url,
        `${DEPLOYS}?watch=true&resourceVersion=${first.metadata.resourceVersion}`,
        { token: 't' },
      );
      await s.ended;
      expect(events(s.lines)).toEqual([
        {
          type: 'ERROR',
          object: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: `too old resource version: ${first.metadata.resourceVersion} (${Number(store.currentResourceVersion()) - 2})`,
            reason: 'Expired',
            code: 410,
          },
        },
      ]);
    } finally {
      await server.stop();
    }
  });
});

describe('discovery, OpenAPI and Tables', () => {
  it('serves aggregated discovery when asked, legacy lists otherwise', async () => {
    const accept =
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    const apis = await req('/apis', { headers: { Accept: accept } });
    expect(apis.headers['content-type']).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    expect(apis.json.items.map((g: any) => g.metadata.name)).toEqual(['apps', 'batch']);
    const deployments = apis.json.items[0].versions[0].resources.find(
      (r: any) => r.resource === 'deployments',
    );
    expect(deployments.subresources.find((s: any) => s.subresource === 'scale').responseKind).toEqual({
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
    });
    const core = await req('/api', { headers: { Accept: accept } });
    expect(core.json.items[0].metadata.name).toBe('');
    expect(core.json.items[0].versions[0].resources.map((r: any) => r.resource).sort()).toEqual([
      'configmaps',
      'events',
      'namespaces',
      'nodes',
      'pods',
    ]);
    expect((await req('/apis')).json.kind).toBe('APIGroupList');
    const v1 = await req('/api/v1');
    expect(v1.json.resources.map((r: any) => r.name)).toContain('pods/log');
    const appsV1 = await req('/apis/apps/v1');
    expect(appsV1.json.resources.find((r: any) => r.name === 'deployments/scale')).toMatchObject({
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
    });
  });

  it('serves an OpenAPI v3 index whose patch operations accept fieldValidation', async () => {
    const root = await req('/openapi/v3');
    const url: string = root.json.paths['apis/batch/v1'].serverRelativeURL;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/batch\/v1\?hash=[0-9A-F]+$/);
    const doc = await req(url);
    const patch = doc.json.paths['/apis/batch/v1/namespaces/{namespace}/jobs/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'batch', version: 'v1', kind: 'Job' });
    expect(patch.parameters).toContainEqual(
      expect.objectContaining({ name: 'fieldValidation', in: 'query' }),
    );
    expect((await req('/openapi/v2')).status).toBe(404);
  });

  it('answers Table requests with the columns kubectl prints', async () => {
    sandbox.store.mutate(
      'deployments',
      'default',
      'w1',
      (d) => (d.status = { replicas: 6, updatedReplicas: 4, readyReplicas: 3, availableReplicas: 2 }),
      { subresource: 'status' },
    );
    const t = await req(`${DEPLOYS}?fieldSelector=metadata.name%3Dw1`, {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    expect(t.json.kind).toBe('Table');
    expect(t.json.metadata.resourceVersion).toBe(sandbox.store.currentResourceVersion());
    expect(t.json.columnDefinitions.filter((c: any) => c.priority === 0).map((c: any) => c.name)).toEqual([
      'Name',
      'Ready',
      'Up-to-date',
      'Available',
      'Age',
    ]);
    expect(t.json.rows[0].cells.slice(0, 4)).toEqual(['w1', '3/6', 4, 2]);
    expect(t.json.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'w1' } });
  });
});

describe('writes', () => {
  it('ignores status on the main resource and spec on /status', async () => {
    const d = sandbox.store.get('deployments', 'default', 'w1')!;
    const put = await req(`${DEPLOYS}/w1`, {
      method: 'PUT',
      body: { ...d, spec: { ...d.spec, replicas: 2 }, status: { replicas: 99 } },
    });
    expect(put.status).toBe(200);
    expect(put.json.spec.replicas).toBe(2);
    expect(put.json.status.replicas).toBe(6);
    const st = await req(`${DEPLOYS}/w1/status`, {
      method: 'PUT',
      body: { ...put.json, spec: { ...put.json.spec, replicas: 50 }, status: { replicas: 1 } },
    });
    expect(st.json.spec.replicas).toBe(2);
    expect(st.json.status).toEqual({ replicas: 1 });
    expect(st.json.metadata.generation).toBe(put.json.metadata.generation);
  });

  it('reads and writes /scale', async () => {
    const scale = await req(`${DEPLOYS}/w1/scale`);
    expect(scale.json).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 2 },
      status: { replicas: 1, selector: 'app=w1' },
    });
    const put = await req(`${DEPLOYS}/w1/scale`, {
      method: 'PUT',
      body: { ...scale.json, spec: { replicas: 4 } },
    });
    expect(put.json.spec.replicas).toBe(4);
    const stale = await req(`${DEPLOYS}/w1/scale`, {
      method: 'PUT',
      body: { ...scale.json, spec: { replicas: 5 } },
    });
    expect(stale.status).toBe(409);
    expect(sandbox.store.get('deployments', 'default', 'w1')!.spec.replicas).toBe(4);
  });

  it('returns 422 with causes, 404 for a missing namespace, 415 for an unknown patch type', async () => {
    const bad = deploymentManifest('bad');
    bad.spec.template.spec.containers = [{ image: 'x:1' }];
    const r = await req(DEPLOYS, { method: 'POST', body: bad });
    expect(r.status).toBe(422);
    expect(r.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Deployment.apps "bad" is invalid: spec.template.spec.containers[0].name: Required value',
      reason: 'Invalid',
      details: {
        name: 'bad',
        group: 'apps',
        kind: 'Deployment',
        causes: [
          {
            reason: 'FieldValueRequired',
            message: 'Required value',
            field: 'spec.template.spec.containers[0].name',
          },
        ],
      },
      code: 422,
    });
    const ns = await req('/apis/apps/v1/namespaces/nowhere/deployments', {
      method: 'POST',
      body: deploymentManifest('x'),
    });
    expect(ns.status).toBe(404);
    expect(ns.json.message).toBe('namespaces "nowhere" not found');
    const apply = await req(`${DEPLOYS}/w1`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
      body: '{}',
    });
    expect(apply.status).toBe(415);
    expect(apply.json.reason).toBe('UnsupportedMediaType');
  });

  it('drops unknown fields with a Warning header by default, silently with fieldValidation=Ignore', async () => {
    const body: any = deploymentManifest('lax');
    body.spec.template.spec.containers[0].imagee = 'x';
    const warned = await req(`${DEPLOYS}?dryRun=All`, { method: 'POST', body });
    expect(warned.status).toBe(201);
    expect(warned.headers.warning).toBe(
      '299 - "unknown field \\"spec.template.spec.containers[0].imagee\\""',
    );
    expect(warned.json.spec.template.spec.containers[0].imagee).toBeUndefined();
    const ignored = await req(`${DEPLOYS}?dryRun=All&fieldValidation=Ignore`, { method: 'POST', body });
    expect(ignored.status).toBe(201);
    expect(ignored.headers.warning).toBeUndefined();
    const strict = await req(`${DEPLOYS}?dryRun=All&fieldValidation=Strict`, { method: 'POST', body });
    expect(strict.status).toBe(400);
    expect(strict.json.reason).toBe('BadRequest');
  });

  it('does not persist dryRun=All creates or deletes', async () => {
    const rv = sandbox.store.currentResourceVersion();
    const created = await req(`${DEPLOYS}?dryRun=All`, { method: 'POST', body: deploymentManifest('dry') });
    expect(created.status).toBe(201);
    expect(created.json.spec.revisionHistoryLimit).toBe(10);
    const deleted = await req(`${DEPLOYS}/w1?dryRun=All`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(sandbox.store.get('deployments', 'default', 'dry')).toBeUndefined();
    expect(sandbox.store.get('deployments', 'default', 'w1')).toBeDefined();
    expect(sandbox.store.currentResourceVersion()).toBe(rv);
  });

  it('honours delete preconditions and deletecollection by label', async () => {
    const uid = sandbox.store.get('deployments', 'default', 'other')!.metadata.uid;
    const wrong = await req(`${DEPLOYS}/other`, {
      method: 'DELETE',
      body: { preconditions: { uid: 'nope' } },
    });
    expect(wrong.status).toBe(409);
    const ok = await req(`${DEPLOYS}/other`, {
      method: 'DELETE',
      body: { propagationPolicy: 'Background', preconditions: { uid } },
    });
    expect(ok.json).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'other', group: 'apps', kind: 'deployments', uid },
    });
    const coll = await req(`${DEPLOYS}?labelSelector=app%20in%20(w1)`, { method: 'DELETE' });
    expect(coll.json.items.map((d: any) => d.metadata.name)).toEqual(['w1']);
    expect(sandbox.store.list('deployments', 'default').map((d) => d.metadata.name)).toEqual([]);
  });
});

describe('pod logs', () => {
  const LOG = '/api/v1/namespaces/default/pods/app-1/log';
  beforeAll(() => {
    sandbox.store.create('pods', {
      metadata: { name: 'app-1', namespace: 'default' },
      spec: { nodeName: 'sandbox-node', containers: [{ name: 'app', image: 'app:1' }] },
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'app',
            ready: true,
            restartCount: 1,
            state: { running: { startedAt: '2026-01-01T00:00:01Z' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error' } },
          },
        ],
      },
    });
    sandbox.logs.startContainer('default', 'app-1', 'app');
    sandbox.logs.append('default', 'app-1', 'app', 'first run');
    sandbox.logs.endContainer('default', 'app-1', 'app');
    sandbox.logs.startContainer('default', 'app-1', 'app');
    sandbox.logs.append('default', 'app-1', 'app', 'early');
  });

  it('serves previous, timestamps, tailLines, limitBytes and sinceSeconds', async () => {
    const previous = await req(`${LOG}?container=app&previous=true`);
    expect(previous.status).toBe(200);
    expect(previous.headers['content-type']).toBe('text/plain');
    expect(previous.text).toBe('first run\n');
    await new Promise((r) => setTimeout(r, 1200));
    sandbox.logs.append('default', 'app-1', 'app', 'late');
    expect((await req(LOG)).text).toBe('early\nlate\n');
    expect((await req(`${LOG}?sinceSeconds=1`)).text).toBe('late\n');
    expect((await req(`${LOG}?tailLines=1`)).text).toBe('late\n');
    expect((await req(`${LOG}?limitBytes=3`)).text).toBe('ear');
    const stamped = (await req(`${LOG}?timestamps=true`)).text.split('\n');
    expect(stamped[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z early$/);
    const missing = await req('/api/v1/namespaces/default/pods/nope/log');
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('pods "nope" not found');
  });

  it('streams with follow until the container ends', async () => {
    const s = await watch(`${LOG}?follow=true&tailLines=0`);
    sandbox.logs.append('default', 'app-1', 'app', 'live 1');
    await s.waitForLines(1);
    sandbox.logs.append('default', 'app-1', 'app', 'live 2');
    sandbox.logs.endContainer('default', 'app-1', 'app');
    await s.ended;
    expect(s.lines).toEqual(['live 1', 'live 2']);
  });
});

describe('authentication hook', () => {
  it('accepts tokens the hook accepts (e.g. EKS k8s-aws-v1.) besides the static one', async () => {
    const seen: string[] = [];
    const eks = await startSandbox({
      https: false,
      controllers: false,
      authenticate: (token) => {
        seen.push(token);
        return Promise.resolve(token.startsWith('k8s-aws-v1.') ? { user: 'deployer' } : false);
      },
    });
    try {
      const ok = await rawRequest(eks.url, '/api/v1/namespaces', { token: 'k8s-aws-v1.aHR0cHM6Ly9zdHM' });
      expect(ok.status).toBe(200);
      expect(ok.json.items.map((n: any) => n.metadata.name)).toContain('default');
      const refused = await rawRequest(eks.url, '/api/v1/namespaces', { token: 'k8s-aws-v2.nope' });
      expect(refused.status).toBe(401);
      expect((await rawRequest(eks.url, '/api/v1/namespaces', { token: eks.token })).status).toBe(200);
      expect(seen).toEqual(['k8s-aws-v1.aHR0cHM6Ly9zdHM', 'k8s-aws-v2.nope']);
    } finally {
      await eks.stop();
    }
  });
});

describe('events and app health', () => {
  it('creates events and selects them by involvedObject', async () => {
    for (const [name, reason] of [
      ['web-1', 'Pulled'],
      ['web-2', 'BackOff'],
    ] as const) {
      const r = await req('/api/v1/namespaces/default/events', {
        method: 'POST',
        body: {
          metadata: { generateName: `${name}.` },
          involvedObject: { kind: 'Pod', name, namespace: 'default' },
          reason,
          message: `${reason} happened`,
          type: reason === 'BackOff' ? 'Warning' : 'Normal',
          count: 1,
        },
      });
      expect(r.status).toBe(201);
    }
    const sel = await req(
      '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb-2,type%3DWarning',
    );
    expect(sel.json.items.map((e: any) => e.reason)).toEqual(['BackOff']);
    const unsupported = await req('/api/v1/namespaces/default/events?fieldSelector=spec.foo%3Dbar');
    expect(unsupported.status).toBe(400);
    expect(unsupported.json.message).toBe('field label not supported: spec.foo');
  });

  it('serves 503 until the rollout is complete, then 200 with the image tag', async () => {
    sandbox.store.create('deployments', deploymentManifest('shop', 'registry.local/shop:2.3.1', 2));
    const url = sandbox.appUrl('default', 'shop', '/health');
    expect(url).toBe(`${sandbox.appsUrl}/_sandbox/apps/default/shop/health`);
    let r = await fetch(url);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ status: 'unavailable', version: '2.3.1' });
    sandbox.store.mutate(
      'deployments',
      'default',
      'shop',
      (d) =>
        (d.status = {
          observedGeneration: 1,
          replicas: 2,
          updatedReplicas: 2,
          readyReplicas: 1,
          availableReplicas: 1,
        }),
      { subresource: 'status' },
    );
    r = await fetch(url);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { reason: string }).reason).toBe('1 of 2 updated replicas are available');
    sandbox.store.mutate(
      'deployments',
      'default',
      'shop',
      (d) =>
        (d.status = {
          observedGeneration: 1,
          replicas: 2,
          updatedReplicas: 2,
          readyReplicas: 2,
          availableReplicas: 2,
        }),
      { subresource: 'status' },
    );
    r = await fetch(`${sandbox.appsUrl}/_sandbox/apps/default/shop/api/version`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      status: 'ok',
      version: '2.3.1',
      image: 'registry.local/shop:2.3.1',
      namespace: 'default',
      deployment: 'shop',
    });
    expect((await fetch(sandbox.appUrl('default', 'missing'))).status).toBe(503);
  });
});
