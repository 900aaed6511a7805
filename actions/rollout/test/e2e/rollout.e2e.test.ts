// End to end: the built rollout dist, run as the GitHub runner runs it, against the sandbox's Kubernetes API,
// with the real kubectl as the oracle of what it left behind.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import {
  createDeployment,
  startSandbox,
  waitForDeploymentReady,
  type ImageBehaviour,
  type Sandbox,
} from '@planner-deploy/sandbox';
import { runKubectl } from '../../../../packages/sandbox/src/kubectl.js';

const action = 'actions/rollout';
let sandbox: Sandbox;
let seq = 0;

beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.05 });
});
afterAll(async () => {
  await sandbox.stop();
});

/** A fresh deployment per test (unique name), ready on `image`. */
async function deployment(
  image: string,
  extra: Partial<Parameters<typeof createDeployment>[1]> = {},
): Promise<string> {
  const name = `web-${++seq}`;
  createDeployment(sandbox, { name, image, replicas: 2, ...extra });
  if (!extra.paused) await waitForDeploymentReady(sandbox, name);
  return name;
}

function rollout(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<RunResult> {
  return runStep({
    action,
    inputs: { 'ready-grace': '3s', timeout: '60s', ...inputs },
    env: { KUBECONFIG: sandbox.kubeconfigPath, ...env },
  });
}

const errors = (r: RunResult) => r.annotations.filter((a) => a.level === 'error');
const results = (r: RunResult) => JSON.parse(r.outputs['result-json'] ?? '[]') as Array<Record<string, any>>;
const kubectl = (args: string[]) => runKubectl(args, { kubeconfig: sandbox.kubeconfigPath });
const image = (name: string) =>
  sandbox.store.get('deployments', 'default', name)?.spec.template.spec.containers[0].image;

describe('rollout (built dist on the sandbox)', () => {
  it('rolls out a new image, records the revisions, and kubectl agrees', async () => {
    const name = await deployment('registry.local/planner-app:v1');
    const r = await rollout({ deployments: name, image: 'registry.local/planner-app:v2' });
    expect(r.exitCode).toBe(0);
    expect(r.outputs['previous-revision']).toBe('1');
    expect(r.outputs.revision).toBe('2');
    expect(JSON.parse(r.outputs['previous-images'] ?? '{}')).toEqual({
      [name]: ['app=registry.local/planner-app:v1'],
    });
    expect(results(r)[0]).toMatchObject({
      name,
      outcome: 'succeeded',
      'images-after': ['app=registry.local/planner-app:v2'],
    });
    expect(r.summary).toContain('registry.local/planner-app:v1 → app=registry.local/planner-app:v2');

    const status = await kubectl(['rollout', 'status', `deployment/${name}`, '--timeout=20s']);
    expect(status.stdout).toContain(`deployment "${name}" successfully rolled out`);
    const history = await kubectl(['rollout', 'history', `deployment/${name}`]);
    expect(history.stdout).toMatch(
      /2\s+planner-deploy: registry\.local\/planner-app:v2 — commit 0123456 — https:\/\/github\.com\/example-org\/planner-app\/actions\/runs\/1234567890/,
    );
  });

  it('a re-run of the same step changes nothing and still reports the revision before ours', async () => {
    const name = await deployment('registry.local/planner-app:v1');
    const first = await rollout({ deployments: name, image: 'registry.local/planner-app:v2' });
    expect(first.exitCode).toBe(0);
    const again = await rollout(
      { deployments: name, image: 'registry.local/planner-app:v2' },
      { GITHUB_RUN_ATTEMPT: '2' },
    );
    expect(again.exitCode).toBe(0);
    expect(again.outputs['previous-revision']).toBe('1');
    expect(again.outputs.revision).toBe('2');
    const rs = sandbox.store
      .list('replicasets', 'default')
      .filter((x) => x.metadata.name.startsWith(`${name}-`));
    expect(rs).toHaveLength(2);
  });

  const brokenImages: Array<[string, ImageBehaviour, RegExp]> = [
    ['an image that cannot be pulled', { kind: 'missing' }, /ErrImagePull|ImagePullBackOff/],
    [
      'a crash-looping container',
      { kind: 'crash', exitCode: 2, lines: ['Traceback (most recent call last):', 'KeyError: DATABASE_URL'] },
      /CrashLoopBackOff|exit code 2|exited/i,
    ],
    ['a container that never gets ready', { kind: 'never-ready' }, /Unready|ready/i],
    ['an OOM-killed container', { kind: 'oom' }, /OOMKilled/],
  ];
  it.each(brokenImages)('fails fast with the reason for %s', async (_what, behaviour, reason) => {
    const broken = `registry.local/broken-${++seq}:v9`;
    sandbox.images.set(broken, behaviour);
    const name = await deployment('registry.local/planner-app:v1');
    const r = await rollout({ deployments: name, image: broken });
    expect(r.exitCode).toBe(1);
    // The progress deadline is 600 s: we must not have waited for it.
    expect(r.durationMs).toBeLessThan(30_000);
    const [row] = results(r);
    expect(row?.outcome).toBe('failed');
    expect(`${row?.diagnosis?.reason} ${row?.diagnosis?.message}`).toMatch(reason);
    expect(errors(r).some((a) => reason.test(`${a.title} ${a.message}`))).toBe(true);
    expect(r.outputs['previous-revision']).toBe('1');
    if (behaviour.kind === 'crash') expect(r.summary).toContain('KeyError: DATABASE_URL');
  });

  it('fails fast on a missing secret (CreateContainerConfigError)', async () => {
    sandbox.images.addMissingSecret('planner-db-credentials');
    const name = await deployment('registry.local/planner-app:v1');
    sandbox.store.mutate('deployments', 'default', name, (d) => {
      d.spec.template.spec.containers[0].envFrom = [{ secretRef: { name: 'planner-db-credentials' } }];
    });
    const r = await rollout({ deployments: name, image: 'registry.local/planner-app:v3' });
    expect(r.exitCode).toBe(1);
    expect(JSON.stringify(results(r)[0]?.diagnosis)).toMatch(/CreateContainerConfigError/);
    expect(JSON.stringify(results(r)[0]?.diagnosis)).toContain('planner-db-credentials');
    sandbox.images.removeMissingSecret('planner-db-credentials');
  });

  it('without fail-fast, reports the progress deadline as kubectl does', async () => {
    const broken = `registry.local/stuck-${++seq}:v1`;
    sandbox.images.set(broken, { kind: 'never-ready' });
    const name = await deployment('registry.local/planner-app:v1', { progressDeadlineSeconds: 40 });
    const r = await rollout({ deployments: name, image: broken, 'fail-fast': 'false' });
    expect(r.exitCode).toBe(1);
    expect(results(r)[0]?.message).toContain(`deployment "${name}" exceeded its progress deadline`);
  });

  it('refuses a paused deployment and changes nothing', async () => {
    const name = await deployment('registry.local/planner-app:v1', { paused: true });
    const r = await rollout({ deployments: name, image: 'registry.local/planner-app:v2' });
    expect(r.exitCode).toBe(1);
    expect(errors(r)[0]?.message).toContain('is paused');
    expect(image(name)).toBe('registry.local/planner-app:v1');
  });

  it('rolls out two deployments at once under one deadline', async () => {
    const web = await deployment('registry.local/planner-app:v1');
    const worker = await deployment('registry.local/planner-app:v1');
    const r = await rollout({ deployments: `${web}\n${worker}`, image: 'registry.local/planner-app:v4' });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.outputs['previous-revision'] ?? '{}')).toEqual({ [web]: 1, [worker]: 1 });
    expect(JSON.parse(r.outputs.revision ?? '{}')).toEqual({ [web]: 2, [worker]: 2 });
    expect(image(web)).toBe('registry.local/planner-app:v4');
    expect(image(worker)).toBe('registry.local/planner-app:v4');
  });

  it('restart starts a new rollout with the same image', async () => {
    const name = await deployment('registry.local/planner-app:v1');
    const r = await rollout({ deployments: name, restart: 'true' });
    expect(r.exitCode).toBe(0);
    expect(r.outputs.revision).toBe('2');
    expect(image(name)).toBe('registry.local/planner-app:v1');
    const annotations =
      sandbox.store.get('deployments', 'default', name)?.spec.template.metadata.annotations ?? {};
    expect(annotations['kubectl.kubernetes.io/restartedAt']).toBeDefined();
  });

  it('takes the kubeconfig as an input and masks its token', async () => {
    const name = await deployment('registry.local/planner-app:v1');
    const r = await runStep({
      action,
      inputs: {
        deployments: name,
        image: 'registry.local/planner-app:v2',
        kubeconfig: Buffer.from(sandbox.kubeconfigYaml).toString('base64'),
      },
    });
    expect(r.exitCode).toBe(0);
    expect(r.masks).toContain(sandbox.token);
    expect(r.log).not.toContain(sandbox.token);
  });

  it('warns when Helm manages the deployment', async () => {
    const name = await deployment('registry.local/planner-app:v1', {
      labels: { 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { 'meta.helm.sh/release-name': 'planner' },
    });
    const r = await rollout({ deployments: name, image: 'registry.local/planner-app:v2' });
    expect(r.exitCode).toBe(0);
    expect(r.annotations.some((a) => a.level === 'warning' && a.message.includes('Helm'))).toBe(true);
  });
});

describe('rollout bad inputs: exit 1 before any change, the message names the input', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['deployments', { deployments: 'Web_App', image: 'a:1' }],
    ['image', { deployments: 'web', image: 'UPPER/Case:tag' }],
    ['images', { deployments: 'web', images: 'app' }],
    ['container', { deployments: 'web', image: 'a:1', container: 'Bad Name' }],
    ['restart', { deployments: 'web', restart: 'yes' }],
    ['replicas', { deployments: 'web', replicas: '-1' }],
    ['wait', { deployments: 'web', image: 'a:1', wait: 'nope' }],
    ['timeout', { deployments: 'web', image: 'a:1', timeout: '10' }],
    ['fail-fast', { deployments: 'web', image: 'a:1', 'fail-fast': 'sure' }],
    ['ready-grace', { deployments: 'web', image: 'a:1', 'ready-grace': 'later' }],
    ['namespace', { deployments: 'web', image: 'a:1', namespace: 'Prod_NS' }],
    ['cluster-name', { deployments: 'web', image: 'a:1', 'cluster-name': '-bad', region: 'us-east-1' }],
    ['region', { deployments: 'web', image: 'a:1', 'cluster-name': 'prod', region: 'mars-1' }],
    ['kubeconfig', { deployments: 'web', image: 'a:1', kubeconfig: 'not-a-kubeconfig!!' }],
    ['change-cause', { deployments: 'web', image: 'a:1', 'change-cause': 'x'.repeat(2000) }],
    ['context', { deployments: 'web', image: 'a:1', context: 'no-such-context' }],
    ['image', { deployments: 'web' }],
  ];
  it.each(cases)('%s', async (input, inputs) => {
    const before = sandbox.faults.stats.requests;
    const r = await rollout(inputs);
    expect(r.exitCode).toBe(1);
    expect(errors(r)[0]?.message).toContain(`"${input}"`);
    // Only a bad context is found by reading the kubeconfig; nothing reaches the API server either way.
    expect(sandbox.faults.stats.requests).toBe(before);
  });
});
