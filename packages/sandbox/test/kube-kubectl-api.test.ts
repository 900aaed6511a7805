/**
 * kubectl 1.32 (the pinned oracle) against the sandbox's API without controllers: create, get with
 * server-side Tables, set image, patch, scale, delete — plus the errors kubectl prints from our Status bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox, type Sandbox } from '../src/index.js';
import { deploymentManifest, kubectl, manifestFile } from './helpers/kube.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ controllers: false });
});
afterAll(async () => {
  await sandbox?.stop();
});

describe('kubectl against the sandbox API (no controllers)', () => {
  it('reports server version 1.32', async () => {
    const r = await kubectl(sandbox, ['version', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v.serverVersion).toMatchObject({ major: '1', minor: '32' });
    expect(v.clientVersion.gitVersion).toMatch(/^v1\.32\./);
  });

  it('creates a Deployment from a file with server-side validation and shows it in get', async () => {
    const m = await manifestFile(deploymentManifest('web'));
    try {
      const r = await kubectl(sandbox, ['create', '-f', m.path]);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('deployment.apps/web created');
      expect(r.code).toBe(0);
      const again = await kubectl(sandbox, ['create', '-f', m.path]);
      expect(again.code).toBe(1);
      expect(again.stderr.trim()).toBe(
        'Error from server (AlreadyExists): error when creating "' +
          m.path +
          '": deployments.apps "web" already exists',
      );
    } finally {
      await m.cleanup();
    }
    const stored = sandbox.store.get('deployments', 'default', 'web')!;
    expect(stored.spec.replicas).toBe(2);
    expect(stored.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(stored.metadata.managedFields).toBeUndefined();

    // Status written as the controller would, so the Table columns have something to show.
    sandbox.store.mutate(
      'deployments',
      'default',
      'web',
      (d) => {
        d.status = {
          observedGeneration: 1,
          replicas: 2,
          updatedReplicas: 2,
          readyReplicas: 1,
          availableReplicas: 1,
        };
      },
      { subresource: 'status' },
    );
    const get = await kubectl(sandbox, ['get', 'deploy', 'web']);
    expect(get.stderr).toBe('');
    const lines = get.stdout.trim().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(lines[1]!.split(/\s+/).slice(0, 4)).toEqual(['web', '1/2', '2', '1']);
    const wide = await kubectl(sandbox, ['get', 'deployments', '-o', 'wide']);
    expect(wide.stdout.trim().split('\n')[1]!.split(/\s+/).slice(5)).toEqual([
      'app',
      'nginx:1.25',
      'app=web',
    ]);
  });

  it('rejects an invalid Deployment with the 422 message kubectl prints', async () => {
    const bad = deploymentManifest('broken');
    bad.spec.selector.matchLabels = { app: 'other' };
    const m = await manifestFile(bad);
    try {
      const r = await kubectl(sandbox, ['create', '-f', m.path]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'The Deployment "broken" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"broken"}: `selector` does not match template `labels`',
      );
    } finally {
      await m.cleanup();
    }
    expect(sandbox.store.get('deployments', 'default', 'broken')).toBeUndefined();
  });

  it('rejects unknown fields under the strict field validation kubectl create asks for', async () => {
    const typo: any = deploymentManifest('typo');
    typo.spec.template.spec.containers[0].imagee = 'nginx:1.25';
    typo.spec.replica = 3;
    const m = await manifestFile(typo);
    try {
      const r = await kubectl(sandbox, ['create', '-f', m.path]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        `Error from server (BadRequest): error when creating "${m.path}": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica", unknown field "spec.template.spec.containers[0].imagee"`,
      );
      const lax = await kubectl(sandbox, ['create', '-f', m.path, '--validate=false']);
      expect(lax.stdout.trim()).toBe('deployment.apps/typo created');
    } finally {
      await m.cleanup();
    }
    expect(
      sandbox.store.get('deployments', 'default', 'typo')!.spec.template.spec.containers[0].imagee,
    ).toBeUndefined();
    sandbox.store.delete('deployments', 'default', 'typo');
  });

  it('sets an image (strategic merge), annotates, scales and bumps generation as the registry does', async () => {
    const before = sandbox.store.get('deployments', 'default', 'web')!;
    const set = await kubectl(sandbox, ['set', 'image', 'deployment/web', 'app=nginx:1.26']);
    expect(set.stderr).toBe('');
    expect(set.stdout.trim()).toBe('deployment.apps/web image updated');
    const afterSet = sandbox.store.get('deployments', 'default', 'web')!;
    expect(afterSet.spec.template.spec.containers).toEqual([
      { ...before.spec.template.spec.containers[0], image: 'nginx:1.26' },
    ]);
    expect(afterSet.metadata.generation).toBe(before.metadata.generation! + 1);
    expect(afterSet.status).toEqual(before.status);

    const scale = await kubectl(sandbox, ['scale', 'deployment/web', '--replicas=3']);
    expect(scale.stdout.trim()).toBe('deployment.apps/web scaled');
    const afterScale = sandbox.store.get('deployments', 'default', 'web')!;
    expect(afterScale.spec.replicas).toBe(3);
    expect(afterScale.metadata.generation).toBe(afterSet.metadata.generation! + 1);

    const stale = await kubectl(sandbox, ['scale', 'deployment/web', '--current-replicas=2', '--replicas=4']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('Expected replicas to be 2, was 3');

    const label = await kubectl(sandbox, ['label', 'deployment/web', 'tier=front']);
    expect(label.code).toBe(0);
    expect(sandbox.store.get('deployments', 'default', 'web')!.metadata.generation).toBe(
      afterScale.metadata.generation,
    );
    const annotate = await kubectl(sandbox, [
      'annotate',
      'deployment/web',
      'kubernetes.io/change-cause=demo',
    ]);
    expect(annotate.code).toBe(0);
    expect(sandbox.store.get('deployments', 'default', 'web')!.metadata.generation).toBe(
      afterScale.metadata.generation! + 1,
    );
  });

  it('patches with merge and json patch, and honours --dry-run=server', async () => {
    const merge = await kubectl(sandbox, [
      'patch',
      'deployment',
      'web',
      '--type=merge',
      '-p',
      '{"spec":{"minReadySeconds":5}}',
    ]);
    expect(merge.stdout.trim()).toBe('deployment.apps/web patched');
    expect(sandbox.store.get('deployments', 'default', 'web')!.spec.minReadySeconds).toBe(5);
    const json = await kubectl(sandbox, [
      'patch',
      'deployment',
      'web',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/minReadySeconds","value":7}]',
    ]);
    expect(json.code).toBe(0);
    expect(sandbox.store.get('deployments', 'default', 'web')!.spec.minReadySeconds).toBe(7);
    const rv = sandbox.store.currentResourceVersion();
    const dry = await kubectl(sandbox, [
      'patch',
      'deployment',
      'web',
      '--type=merge',
      '-p',
      '{"spec":{"replicas":9}}',
      '--dry-run=server',
    ]);
    expect(sandbox.store.get('deployments', 'default', 'web')!.spec.replicas).toBe(3);
    expect(dry.stdout.trim()).toBe('deployment.apps/web patched'); // kubectl 1.32 prints no dry-run suffix for patch
    expect(sandbox.store.currentResourceVersion()).toBe(rv);
    const missing = await kubectl(sandbox, [
      'patch',
      'deployment',
      'nope',
      '--type=merge',
      '-p',
      '{"spec":{}}',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "nope" not found');
  });

  it('lists pods with the READY/STATUS/RESTARTS columns', async () => {
    sandbox.store.create('pods', {
      metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.26' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'app',
            ready: true,
            restartCount: 0,
            state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
          },
        ],
      },
    });
    sandbox.store.create('pods', {
      metadata: { name: 'web-2', namespace: 'default', labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', image: 'nginx:nope' }] },
      status: {
        phase: 'Pending',
        containerStatuses: [
          { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } },
        ],
      },
    });
    const r = await kubectl(sandbox, ['get', 'pods', '-l', 'app=web']);
    expect(r.stderr).toBe('');
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/));
    expect(rows[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(rows.slice(1).map((x) => x.slice(0, 4))).toEqual([
      ['web-1', '1/1', 'Running', '0'],
      ['web-2', '0/1', 'ImagePullBackOff', '0'],
    ]);
    const sel = await kubectl(sandbox, [
      'get',
      'pods',
      '--field-selector',
      'status.phase=Running',
      '-o',
      'name',
    ]);
    expect(sel.stdout.trim()).toBe('pod/web-1');
  });

  it('decodes the protobuf bodies of kubectl create namespace/deployment', async () => {
    const ns = await kubectl(sandbox, ['create', 'namespace', 'staging']);
    expect(ns.stderr).toBe('');
    expect(ns.stdout.trim()).toBe('namespace/staging created');
    const missing = await kubectl(sandbox, ['create', 'deployment', 'api', '--image=api:1', '-n', 'nowhere']);
    expect(missing.stderr.trim()).toBe('error: failed to create deployment: namespaces "nowhere" not found');
    const r = await kubectl(sandbox, [
      'create',
      'deployment',
      'api',
      '--image=registry.local/api:1.4.2',
      '--replicas=3',
      '--port=8080',
      '-n',
      'staging',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('deployment.apps/api created');
    const d = sandbox.store.get('deployments', 'staging', 'api')!;
    expect(d.metadata.labels).toEqual({ app: 'api' });
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'api' } });
    expect(d.spec.template.metadata).toEqual({ creationTimestamp: null, labels: { app: 'api' } });
    expect(d.spec.template.spec.containers).toEqual([
      {
        name: 'api',
        image: 'registry.local/api:1.4.2',
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      },
    ]);
    const zero = await kubectl(sandbox, [
      'create',
      'deployment',
      'idle',
      '--image=api:1',
      '--replicas=0',
      '-n',
      'staging',
    ]);
    expect(zero.code).toBe(0);
    expect(sandbox.store.get('deployments', 'staging', 'idle')!.spec.replicas).toBe(0);
  });

  it('lists the served resources in api-resources from aggregated discovery', async () => {
    const r = await kubectl(sandbox, ['api-resources', '--no-headers']);
    expect(r.stderr).toBe('');
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(rows).toEqual(
      expect.arrayContaining([
        ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment'],
        ['jobs', 'batch/v1', 'true', 'Job'],
        ['pods', 'po', 'v1', 'true', 'Pod'],
        ['namespaces', 'ns', 'v1', 'false', 'Namespace'],
      ]),
    );
  });

  it('applies a manifest twice (client-side apply: create, then a strategic merge patch)', async () => {
    const manifest = deploymentManifest('applied', 'nginx:1.25', 1);
    const first = await manifestFile(manifest);
    manifest.spec.template.spec.containers[0].image = 'nginx:1.26';
    const second = await manifestFile(manifest);
    try {
      const a = await kubectl(sandbox, ['apply', '-f', first.path]);
      expect(a.stderr).toBe('');
      expect(a.stdout.trim()).toBe('deployment.apps/applied created');
      const b = await kubectl(sandbox, ['apply', '-f', second.path]);
      expect(b.stderr).toBe('');
      expect(b.stdout.trim()).toBe('deployment.apps/applied configured');
      const c = await kubectl(sandbox, ['apply', '-f', second.path]);
      expect(c.stdout.trim()).toBe('deployment.apps/applied unchanged');
    } finally {
      await first.cleanup();
      await second.cleanup();
    }
    const d = sandbox.store.get('deployments', 'default', 'applied')!;
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.26');
    expect(
      JSON.parse(d.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!),
    ).toMatchObject({
      spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.26' }] } } },
    });
    expect(d.metadata.generation).toBe(2);
  });

  it('deletes and then reports NotFound', async () => {
    const r = await kubectl(sandbox, ['delete', 'deployment', 'web']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('deployment.apps "web" deleted');
    expect(sandbox.store.get('deployments', 'default', 'web')).toBeUndefined();
    const get = await kubectl(sandbox, ['get', 'deployment', 'web']);
    expect(get.code).toBe(1);
    expect(get.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "web" not found');
  });
});
