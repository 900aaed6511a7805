// End to end: a failed rollout, then the built auto-rollback dist, on the sandbox; kubectl is the oracle.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import {
  createDeployment,
  startSandbox,
  waitForDeploymentReady,
  type Sandbox,
} from '@planner-deploy/sandbox';
import { runKubectl } from '../../../../packages/sandbox/src/kubectl.js';

let sandbox: Sandbox;
let seq = 0;

beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.05 });
  sandbox.images.set('registry.local/planner-app:broken', {
    kind: 'crash',
    exitCode: 1,
    lines: ['ImportError: no module named planner'],
  });
});
afterAll(async () => {
  await sandbox.stop();
});

const env = (): Record<string, string> => ({ KUBECONFIG: sandbox.kubeconfigPath });
const kubectl = (args: string[]) => runKubectl(args, { kubeconfig: sandbox.kubeconfigPath });
/** The pod template without the per-deployment app label, to compare a deployment with its twin. */
const template = (name: string) => {
  const t = structuredClone(sandbox.store.get('deployments', 'default', name)?.spec.template);
  delete t.metadata.labels.app;
  return t;
};

async function ready(name: string, image: string): Promise<void> {
  createDeployment(sandbox, { name, image, replicas: 2 });
  await waitForDeploymentReady(sandbox, name);
}

function rollout(name: string, image: string): Promise<RunResult> {
  return runStep({
    action: 'actions/rollout',
    inputs: { deployments: name, image, 'ready-grace': '3s', timeout: '60s' },
    env: env(),
  });
}

function rollback(inputs: Record<string, string>): Promise<RunResult> {
  return runStep({ action: 'actions/auto-rollback', inputs: { timeout: '60s', ...inputs }, env: env() });
}

describe('auto-rollback (built dist on the sandbox)', () => {
  it('restores the recorded revision after a failed rollout, exactly as kubectl rollout undo --to-revision does', async () => {
    const name = `app-${++seq}`;
    const twin = `twin-${seq}`;
    for (const d of [name, twin]) {
      await ready(d, 'registry.local/planner-app:v1');
      expect((await rollout(d, 'registry.local/planner-app:v2')).exitCode).toBe(0);
    }
    const failed = await rollout(name, 'registry.local/planner-app:broken');
    expect(failed.exitCode).toBe(1);
    expect(failed.outputs['previous-revision']).toBe('2');
    expect((await rollout(twin, 'registry.local/planner-app:broken')).exitCode).toBe(1);

    const r = await rollback({
      deployments: name,
      'to-revision': failed.outputs['previous-revision'] ?? '',
      reason: 'verify-health failed',
      'snapshot-identifier': 'pre-deploy-planner-app-0123456-1234567890',
    });
    expect(r.exitCode).toBe(0);
    expect(r.outputs['rolled-back']).toBe('true');
    expect(r.outputs.revision).toBe('4');
    expect(r.summary).toContain('restore-db-instance-from-db-snapshot');
    expect(r.summary).toContain('pre-deploy-planner-app-0123456-1234567890');
    expect(r.summary).toContain('verify-health failed');

    const undo = await kubectl(['rollout', 'undo', `deployment/${twin}`, '--to-revision=2']);
    expect(undo.stdout).toContain(`deployment.apps/${twin} rolled back`);
    await waitForDeploymentReady(sandbox, twin);
    await waitForDeploymentReady(sandbox, name);
    expect(template(name)).toEqual(template(twin));
    expect(template(name).spec.containers[0].image).toBe('registry.local/planner-app:v2');
    const revisions = async (d: string) =>
      (await kubectl(['rollout', 'history', `deployment/${d}`])).stdout
        .split('\n')
        .filter((l) => /^\d+\s/.test(l))
        .map((l) => l.split(/\s+/)[0]);
    expect(await revisions(name)).toEqual(await revisions(twin));
    const status = await kubectl(['rollout', 'status', `deployment/${name}`, '--timeout=20s']);
    expect(status.stdout).toContain('successfully rolled out');
  });

  it('a second run finds the rollback in place and changes nothing (no flip-flop)', async () => {
    const name = `app-${++seq}`;
    await ready(name, 'registry.local/planner-app:v1');
    const failed = await rollout(name, 'registry.local/planner-app:broken');
    expect(failed.exitCode).toBe(1);
    const first = await rollback({ deployments: name, 'to-revision': '1' });
    expect(first.exitCode).toBe(0);
    const rv = sandbox.store.get('deployments', 'default', name)?.metadata.resourceVersion;
    const second = await rollback({ deployments: name, 'to-revision': '1' });
    expect(second.exitCode).toBe(0);
    expect(second.outputs['rolled-back']).toBe('false');
    expect(sandbox.store.get('deployments', 'default', name)?.metadata.resourceVersion).toBe(rv);
  });

  it('refuses when someone rolled out after us, unless forced', async () => {
    const name = `app-${++seq}`;
    await ready(name, 'registry.local/planner-app:v1');
    expect((await rollout(name, 'registry.local/planner-app:v2')).exitCode).toBe(0); // ours: 1 → 2
    await kubectl(['set', 'image', `deployment/${name}`, 'app=registry.local/planner-app:v3']); // theirs: 3
    await waitForDeploymentReady(sandbox, name);
    const refused = await rollback({ deployments: name, 'to-revision': '1' });
    expect(refused.exitCode).toBe(1);
    expect(refused.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /revision 3.*someone changed it/,
    );
    expect(sandbox.store.get('deployments', 'default', name)?.spec.template.spec.containers[0].image).toBe(
      'registry.local/planner-app:v3',
    );
    const forced = await rollback({ deployments: name, 'to-revision': '1', force: 'true' });
    expect(forced.exitCode).toBe(0);
    expect(sandbox.store.get('deployments', 'default', name)?.spec.template.spec.containers[0].image).toBe(
      'registry.local/planner-app:v1',
    );
  });

  it('fails clearly when the revision is gone from the history', async () => {
    const name = `app-${++seq}`;
    await ready(name, 'registry.local/planner-app:v1');
    const r = await rollback({ deployments: name, 'to-revision': '7' });
    expect(r.exitCode).toBe(1);
    expect(r.annotations.find((a) => a.level === 'error')?.message).toContain(
      'revision 7 is no longer in the history',
    );
  });
});

describe('auto-rollback bad inputs: exit 1 before any request, the message names the input', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['deployments', { deployments: 'Not_Valid' }],
    ['to-revision', { deployments: 'web', 'to-revision': 'previous' }],
    ['to-revision', { deployments: 'web\nworker', 'to-revision': '3' }],
    ['to-revision', { deployments: 'web', 'to-revision': '{"api":3}' }],
    ['snapshot-identifier', { deployments: 'web', 'snapshot-identifier': '1-starts-with-digit' }],
    ['force', { deployments: 'web', force: 'please' }],
    ['wait', { deployments: 'web', wait: '0' }],
    ['timeout', { deployments: 'web', timeout: 'soon' }],
    ['ready-grace', { deployments: 'web', 'ready-grace': '5' }],
    ['namespace', { deployments: 'web', namespace: 'UPPER' }],
    ['cluster-name', { deployments: 'web', 'cluster-name': 'has space', region: 'us-east-1' }],
    ['region', { deployments: 'web', 'cluster-name': 'prod', region: 'nowhere' }],
    ['kubeconfig', { deployments: 'web', kubeconfig: '%%%' }],
    ['context', { deployments: 'web', context: 'missing' }],
  ];
  it.each(cases)('%s', async (input, inputs) => {
    const before = sandbox.faults.stats.requests;
    const r = await rollback(inputs);
    expect(r.exitCode).toBe(1);
    expect(r.annotations.find((a) => a.level === 'error')?.message).toContain(`"${input}"`);
    expect(sandbox.faults.stats.requests).toBe(before);
  });
});

describe('auto-rollback under API faults (10% 5xx, 5% 429, watches cut every 2 s, a 410)', () => {
  it('still restores the recorded revision, with one new revision only', async () => {
    const name = `app-${++seq}`;
    await ready(name, 'registry.local/planner-app:v1');
    expect((await rollout(name, 'registry.local/planner-app:broken')).exitCode).toBe(1);
    sandbox.faults.set({
      errorRate: 0.1,
      errorRetryAfterSeconds: 1,
      throttleRate: 0.05,
      retryAfterSeconds: 1,
      watchCutSeconds: 2,
      expireNextWatches: 1,
      seed: 99,
    });
    try {
      const r = await rollback({ deployments: name, 'to-revision': '1' });
      expect(r.exitCode).toBe(0);
      expect(r.outputs.revision).toBe('3');
    } finally {
      sandbox.faults.set({});
    }
    expect(sandbox.store.get('deployments', 'default', name)?.spec.template.spec.containers[0].image).toBe(
      'registry.local/planner-app:v1',
    );
    const revisions = sandbox.store
      .list('replicasets', 'default')
      .filter((rs) => rs.metadata.name.startsWith(`${name}-`))
      .map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'])
      .sort();
    expect(revisions).toEqual(['2', '3']);
  });
});
