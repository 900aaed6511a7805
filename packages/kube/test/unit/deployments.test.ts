import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '@planner-deploy/core';
import {
  imageRepository,
  managementWarning,
  resolveImageTargets,
  restartDeployment,
  scaleDeployment,
  setImagePatch,
  setImages,
} from '../../src/deployments.js';
import type { Container, Deployment } from '../../src/types.js';
import { FakeConn } from './fake-conn.js';

function deployment(
  containers: Container[],
  meta: Partial<Deployment['metadata']> = {},
  init?: Container[],
): Deployment {
  return {
    metadata: {
      name: 'web',
      namespace: 'prod',
      annotations: { 'deployment.kubernetes.io/revision': '4' },
      ...meta,
    },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { spec: { containers, ...(init ? { initContainers: init } : {}) } },
    },
  };
}

const app = { name: 'app', image: '123.dkr.ecr.eu-west-1.amazonaws.com/planner:abc' };
const sidecar = { name: 'proxy', image: 'envoyproxy/envoy:v1.30' };

describe('imageRepository', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io/library/nginx'],
    ['envoyproxy/envoy:v1', 'docker.io/envoyproxy/envoy'],
    ['localhost:5000/app:1', 'localhost:5000/app'],
    ['localhost/app', 'localhost/app'],
    [
      '123.dkr.ecr.eu-west-1.amazonaws.com/planner@sha256:abcd',
      '123.dkr.ecr.eu-west-1.amazonaws.com/planner',
    ],
    ['ghcr.io/org/app:v1@sha256:ef', 'ghcr.io/org/app'],
  ])('%s → %s', (ref, expected) => {
    expect(imageRepository(ref)).toBe(expected);
  });
});

describe('resolveImageTargets', () => {
  const newImage = '123.dkr.ecr.eu-west-1.amazonaws.com/planner@sha256:1234';
  it.each<[string, Deployment, Parameters<typeof resolveImageTargets>[1], [string, string][]]>([
    [
      'the only container',
      deployment([{ name: 'only', image: 'other:1' }]),
      { image: 'x:2' },
      [['only', 'x:2']],
    ],
    [
      'the container with the same repository',
      deployment([sidecar, app]),
      { image: newImage },
      [['app', newImage]],
    ],
    [
      'a named container',
      deployment([sidecar, app]),
      { image: 'envoy:2', container: 'proxy' },
      [['proxy', 'envoy:2']],
    ],
    [
      'a named init container',
      deployment([app], {}, [{ name: 'migrate', image: 'm:1' }]),
      { image: 'm:2', container: 'migrate' },
      [['migrate', 'm:2']],
    ],
    [
      'container=image lines',
      deployment([sidecar, app]),
      { images: { app: 'a:2', proxy: 'p:2' } },
      [
        ['app', 'a:2'],
        ['proxy', 'p:2'],
      ],
    ],
  ])('picks %s', (_name, subject, request, expected) => {
    expect([...resolveImageTargets(subject, request)]).toEqual(expected);
  });

  it.each<[string, Deployment, Parameters<typeof resolveImageTargets>[1], RegExp]>([
    [
      'an unknown container',
      deployment([app]),
      { image: 'x', container: 'nope' },
      /has no container "nope"; its containers are "app"/,
    ],
    [
      'no repository match among several',
      deployment([app, sidecar]),
      { image: 'redis:7' },
      /none runs docker.io\/library\/redis: set the container input/,
    ],
    [
      'an unknown container line',
      deployment([app]),
      { images: new Map([['db', 'x']]) },
      /has no container "db"/,
    ],
    ['nothing to set', deployment([app]), {}, /No image to set/],
  ])('refuses %s', (_name, subject, request, message) => {
    expect(() => resolveImageTargets(subject, request)).toThrow(ConfigurationError);
    expect(() => resolveImageTargets(subject, request)).toThrow(message);
  });
});

describe('setImagePatch', () => {
  it('is the strategic merge patch kubectl set image sends', () => {
    const patch = setImagePatch(
      deployment([{ name: 'app', image: 'nginx:1.25' }]),
      new Map([['app', 'nginx:1.26']]),
    );
    expect(JSON.stringify(patch)).toBe(
      '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],"containers":[{"image":"nginx:1.26","name":"app"}]}}}}',
    );
  });

  it('lists only changed containers and adds the change cause', () => {
    const patch = setImagePatch(
      deployment([sidecar, app]),
      new Map([
        ['app', 'new:1'],
        ['proxy', sidecar.image],
      ]),
      'deploy abc',
    );
    expect(patch).toEqual({
      metadata: { annotations: { 'kubernetes.io/change-cause': 'deploy abc' } },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'proxy' }, { name: 'app' }],
            containers: [{ image: 'new:1', name: 'app' }],
          },
        },
      },
    });
  });
});

describe('setImages / restart / scale', () => {
  const serve = (current: Deployment) =>
    new FakeConn((method, path, options) => {
      if (method === 'GET') return current;
      if (method === 'PATCH' && path.endsWith('/scale'))
        return { spec: { replicas: (options.body as { spec: { replicas: number } }).spec.replicas } };
      if (method === 'PATCH')
        return {
          ...current,
          spec: { ...current.spec, template: { spec: { containers: [{ name: 'app', image: 'new:2' }] } } },
        };
      throw new Error(path);
    });

  it('patches when the image differs and reports before/after and the previous revision', async () => {
    const conn = serve(deployment([{ name: 'app', image: 'new:1' }]));
    const change = await setImages({
      conn,
      namespace: 'prod',
      name: 'web',
      image: 'new:2',
      changeCause: 'ci run 7',
    });
    expect(change).toMatchObject({
      changed: true,
      imagesBefore: ['app=new:1'],
      imagesAfter: ['app=new:2'],
      previousRevision: 4,
    });
    const patch = conn.calls.find((c) => c.method === 'PATCH');
    expect(patch?.options.contentType).toBe('application/strategic-merge-patch+json');
    expect(patch?.path).toBe('/apis/apps/v1/namespaces/prod/deployments/web');
  });

  it('does not patch when the image is already set (re-run)', async () => {
    const conn = serve(deployment([{ name: 'app', image: 'new:2' }]));
    const change = await setImages({ conn, namespace: 'prod', name: 'web', image: 'new:2' });
    expect(change.changed).toBe(false);
    expect(conn.count('PATCH', '')).toBe(0);
  });

  it('restarts through the restartedAt annotation', async () => {
    const conn = serve(deployment([app]));
    await restartDeployment({
      conn,
      namespace: 'prod',
      name: 'web',
      now: new Date('2026-03-01T10:20:30.456Z'),
    });
    expect(conn.calls.find((c) => c.method === 'PATCH')?.options.body).toEqual({
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-03-01T10:20:30Z' } },
        },
      },
    });
  });

  it('refuses to restart a paused deployment', async () => {
    const paused = deployment([app]);
    paused.spec.paused = true;
    await expect(restartDeployment({ conn: serve(paused), namespace: 'prod', name: 'web' })).rejects.toThrow(
      /paused/,
    );
  });

  it('scales through the scale subresource with a merge patch', async () => {
    const conn = serve(deployment([app]));
    expect(await scaleDeployment({ conn, namespace: 'prod', name: 'web', replicas: 3 })).toEqual({
      replicas: 3,
    });
    const call = conn.calls[0];
    expect(call?.path).toBe('/apis/apps/v1/namespaces/prod/deployments/web/scale');
    expect(call?.options.contentType).toBe('application/merge-patch+json');
    await expect(scaleDeployment({ conn, namespace: 'prod', name: 'web', replicas: -1 })).rejects.toThrow(
      ConfigurationError,
    );
  });
});

describe('managementWarning', () => {
  it.each<[string, Partial<Deployment['metadata']>, RegExp | undefined]>([
    ['plain', {}, undefined],
    [
      'Helm by annotation',
      { annotations: { 'meta.helm.sh/release-name': 'planner' } },
      /managed by Helm \(release "planner"\)/,
    ],
    [
      'Helm by label',
      { labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'planner' } },
      /managed by Helm/,
    ],
    [
      'Argo CD by annotation',
      { annotations: { 'argocd.argoproj.io/tracking-id': 'planner-prod:apps/Deployment:prod/web' } },
      /managed by Argo CD \(application "planner-prod"\)/,
    ],
    [
      'Argo CD by instance label',
      { labels: { 'app.kubernetes.io/instance': 'planner-prod' } },
      /managed by Argo CD \(application "planner-prod"\)/,
    ],
  ])('%s', (_name, meta, expected) => {
    const warning = managementWarning(deployment([app], meta));
    if (expected) expect(warning).toMatch(expected);
    else expect(warning).toBeUndefined();
  });
});
