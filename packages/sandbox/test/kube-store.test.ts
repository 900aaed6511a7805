import { describe, expect, it } from '@jest/globals';
import { ObjectStore, StoreError, type Change } from '../src/kube/store.js';
import { PodLogs } from '../src/kube/logs.js';

const deployment = (name = 'web', image = 'nginx:1.25') => ({
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
  },
});

function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
  throw new Error('expected a StoreError');
}

describe('ObjectStore', () => {
  it('creates with defaults, uid, resourceVersion and generation 1', () => {
    const store = new ObjectStore();
    const d = store.create('deployments', deployment());
    expect(d.kind).toBe('Deployment');
    expect(d.apiVersion).toBe('apps/v1');
    expect(d.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.metadata.generation).toBe(1);
    expect(d.metadata.resourceVersion).toBe(store.currentResourceVersion());
    expect(d.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    });
    expect(d.spec.revisionHistoryLimit).toBe(10);
    expect(d.spec.progressDeadlineSeconds).toBe(600);
    expect(d.spec.template.metadata.creationTimestamp).toBeNull();
    expect(d.spec.template.spec).toMatchObject({
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
    });
    expect(d.spec.template.spec.containers[0]).toEqual({
      name: 'app',
      image: 'nginx:1.25',
      resources: {},
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'IfNotPresent',
    });
    expect(storeError(() => store.create('deployments', deployment())).reason).toBe('AlreadyExists');
  });

  it('names from generateName and defaults Jobs with the generated selector and labels', () => {
    const store = new ObjectStore();
    const job = store.create('jobs', {
      metadata: { name: 'migrate' },
      spec: {
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'm', image: 'app:latest' }] } },
      },
    });
    const uid = job.metadata.uid;
    expect(job.spec).toMatchObject({
      backoffLimit: 6,
      completions: 1,
      parallelism: 1,
      completionMode: 'NonIndexed',
      podReplacementPolicy: 'TerminatingOrFailed',
      manualSelector: false,
      suspend: false,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
    });
    expect(job.spec.template.metadata.labels).toEqual({
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'migrate',
      'controller-uid': uid,
      'job-name': 'migrate',
    });
    expect(job.metadata.labels).toEqual(job.spec.template.metadata.labels);
    expect(job.spec.template.spec.containers[0].imagePullPolicy).toBe('Always');
    const pod = store.create('pods', {
      metadata: { generateName: 'migrate-', namespace: 'default' },
      spec: { containers: [{ name: 'm', image: 'app:1' }] },
    });
    expect(pod.metadata.name).toMatch(/^migrate-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pod.status.phase).toBe('Pending');
  });

  it('rejects invalid objects with 422 and field causes', () => {
    const store = new ObjectStore();
    const bad = deployment();
    bad.spec.template.spec.containers = [{ name: 'app', image: '' }];
    const e = storeError(() => store.create('deployments', bad));
    expect(e.code).toBe(422);
    expect(e.message).toBe(
      'Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value',
    );
    const mismatch = deployment();
    mismatch.spec.selector.matchLabels.app = 'other';
    expect(storeError(() => store.create('deployments', mismatch)).details?.causes?.[0]?.field).toBe(
      'spec.template.metadata.labels',
    );
    const noSelector: any = deployment();
    delete noSelector.spec.selector;
    expect(storeError(() => store.create('deployments', noSelector)).message).toContain(
      'spec.selector: Required value',
    );
  });

  it('bumps generation on spec and annotation changes, not on status, and detects stale writes', () => {
    const store = new ObjectStore();
    const d = store.create('deployments', deployment());
    const labelled = store.mutate('deployments', 'default', 'web', (o) => {
      o.metadata.labels = { app: 'web', tier: 'front' };
    })!;
    expect(labelled.metadata.generation).toBe(1);
    const annotated = store.mutate('deployments', 'default', 'web', (o) => {
      o.metadata.annotations = { note: 'x' };
    })!;
    expect(annotated.metadata.generation).toBe(2);
    const statused = store.mutate(
      'deployments',
      'default',
      'web',
      (o) => {
        o.status = { observedGeneration: 2 };
        o.spec.replicas = 9; // ignored by the status subresource
      },
      { subresource: 'status' },
    )!;
    expect(statused.metadata.generation).toBe(2);
    expect(statused.spec.replicas).toBe(2);
    expect(statused.status.observedGeneration).toBe(2);
    const stale = { ...d, spec: { ...d.spec, replicas: 5 } };
    expect(storeError(() => store.update('deployments', stale)).reason).toBe('Conflict');
    const rvBefore = store.currentResourceVersion();
    const same = store.mutate('deployments', 'default', 'web', () => {});
    expect(same!.metadata.resourceVersion).toBe(rvBefore);
    expect(store.currentResourceVersion()).toBe(rvBefore);
  });

  it('emits changes in order, replays history, expires old versions and garbage-collects dependents', () => {
    const store = new ObjectStore({ historyWindow: 5 });
    const seen: Change[] = [];
    store.on((c) => seen.push(c));
    const d = store.create('deployments', deployment());
    const ownerRef = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'web',
      uid: d.metadata.uid,
      controller: true,
    };
    store.create('replicasets', {
      ...deployment('web-abc'),
      metadata: { name: 'web-abc', ownerReferences: [ownerRef] },
    });
    const rsUid = store.get('replicasets', 'default', 'web-abc')!.metadata.uid;
    store.create('pods', {
      metadata: {
        name: 'web-abc-xyz12',
        labels: { app: 'web' },
        ownerReferences: [{ ...ownerRef, kind: 'ReplicaSet', name: 'web-abc', uid: rsUid }],
      },
      spec: { containers: [{ name: 'app', image: 'nginx' }] },
    });
    const afterCreate = Number(d.metadata.resourceVersion);
    store.delete('deployments', 'default', 'web');
    expect(store.list('replicasets')).toHaveLength(0);
    expect(store.list('pods')).toHaveLength(0);
    expect(seen.map((c) => `${c.type} ${c.resource}`)).toEqual([
      'ADDED deployments',
      'ADDED replicasets',
      'ADDED pods',
      'DELETED deployments',
      'DELETED replicasets',
      'DELETED pods',
    ]);
    const rvs = seen.map((c) => Number(c.object.metadata.resourceVersion));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    expect(store.changesSince(afterCreate).map((c) => c.type)).toEqual([
      'ADDED',
      'ADDED',
      'DELETED',
      'DELETED',
      'DELETED',
    ]);
    expect(storeError(() => store.changesSince(afterCreate - 1)).code).toBe(410);
  });

  it('filters lists by label and field selectors', () => {
    const store = new ObjectStore();
    store.create('deployments', deployment('web'));
    store.create('deployments', deployment('api'));
    store.create('deployments', {
      ...deployment('worker'),
      metadata: { name: 'worker', labels: { app: 'worker', tier: 'back' } },
    });
    const names = (sel: { labelSelector?: string; fieldSelector?: string }) =>
      store.list('deployments', 'default', sel).map((o) => o.metadata.name);
    expect(names({ labelSelector: 'app=web' })).toEqual(['web']);
    expect(names({ labelSelector: 'app==web' })).toEqual(['web']);
    expect(names({ labelSelector: 'app!=web' })).toEqual(['api', 'worker']);
    expect(names({ labelSelector: 'app in (web, api)' })).toEqual(['api', 'web']);
    expect(names({ labelSelector: 'app notin (web,api)' })).toEqual(['worker']);
    expect(names({ labelSelector: 'tier' })).toEqual(['worker']);
    expect(names({ labelSelector: '!tier' })).toEqual(['api', 'web']);
    expect(names({ labelSelector: 'app in (web,api,worker),!tier' })).toEqual(['api', 'web']);
    expect(names({ fieldSelector: 'metadata.name=api' })).toEqual(['api']);
    expect(names({ fieldSelector: 'metadata.name!=api,metadata.namespace=default' })).toEqual([
      'web',
      'worker',
    ]);
    expect(storeError(() => names({ labelSelector: 'app in web' })).code).toBe(400);
  });
});

describe('PodLogs', () => {
  it('keeps the current and previous run and notifies followers', () => {
    const logs = new PodLogs();
    const events: string[] = [];
    logs.follow('default', 'p', 'c', (ev) => events.push(ev.type === 'line' ? ev.line.text : ev.type));
    logs.startContainer('default', 'p', 'c');
    logs.append('default', 'p', 'c', 'one');
    logs.endContainer('default', 'p', 'c');
    logs.startContainer('default', 'p', 'c');
    logs.append('default', 'p', 'c', 'two');
    expect(logs.run('default', 'p', 'c')!.lines.map((l) => l.text)).toEqual(['two']);
    expect(logs.run('default', 'p', 'c', true)!.lines.map((l) => l.text)).toEqual(['one']);
    expect(logs.run('default', 'p', 'c', true)!.ended).toBe(true);
    expect(events).toEqual(['restart', 'one', 'end', 'restart', 'two']);
  });
});
