// End to end: the built rollout (and auto-rollback) dists through the runner harness on the sandbox, when a
// change fails part-way through several Deployments, and when the user's cluster settings are wrong (a
// missing Deployment, a refused token, a missing permission, credentials in the server URL).
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import {
  createDeployment,
  startSandbox,
  waitForDeploymentReady,
  type Sandbox,
} from '@planner-deploy/sandbox';

let sandbox: Sandbox;
let seq = 0;

beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.05 });
});
afterAll(async () => {
  await sandbox.stop();
});
afterEach(() => {
  sandbox.faults.set({});
});

async function deployment(image: string): Promise<string> {
  const name = `part-${++seq}`;
  createDeployment(sandbox, { name, image, replicas: 1 });
  await waitForDeploymentReady(sandbox, name);
  return name;
}

function step(action: string, inputs: Record<string, string>, env: Record<string, string> = {}) {
  return runStep({
    action,
    inputs: { 'ready-grace': '3s', timeout: '60s', ...inputs },
    env: { KUBECONFIG: sandbox.kubeconfigPath, ...env },
  });
}

const errors = (r: RunResult) => r.annotations.filter((a) => a.level === 'error');
const image = (name: string) =>
  sandbox.store.get('deployments', 'default', name)?.spec.template.spec.containers[0].image as string;

describe('rollout of several Deployments when a later change fails', () => {
  it('writes outputs for every Deployment, says which changed, and the example rollback condition holds', async () => {
    const a = await deployment('registry.local/planner-app:v1');
    const b = await deployment('registry.local/planner-app:v1');
    // b's PATCH answers 503 until the step's deadline: past the retries, while a's applies.
    sandbox.faults.set({
      errorRate: 1,
      errorCodes: [503],
      verbs: ['patch'],
      resources: ['deployments'],
      names: [b],
    });
    const r = await step('actions/rollout', {
      deployments: `${a},${b}`,
      image: 'registry.local/planner-app:v2',
      timeout: '4s',
    });
    sandbox.faults.set({});
    expect(r.exitCode).toBe(1);
    expect(image(a)).toBe('registry.local/planner-app:v2');
    expect(image(b)).toBe('registry.local/planner-app:v1');

    // The example workflows roll back when `failure() && steps.rollout.outputs.previous-revision != ''`.
    const previous = r.outputs['previous-revision'] ?? '';
    expect(previous).not.toBe('');
    expect(JSON.parse(previous)).toEqual({ [a]: 1, [b]: 1 });
    const rows = JSON.parse(r.outputs['result-json'] ?? '[]') as Array<Record<string, unknown>>;
    expect(rows.map((row) => [row.name, row.changed])).toEqual([
      [a, true],
      [b, false],
    ]);
    expect(r.log).toContain(`Changed: ${a} (was revision 1). Not changed: ${b}.`);
    const [error] = errors(r);
    expect(error?.title).toBe('Rollout failed');
    expect(error?.message).toContain(`${b}: HTTP 503`);
    expect(error?.message).toContain(`Changed: ${a}`);
    expect(error?.message).not.toMatch(/internal error/i);
    expect(r.summary).toContain(a);

    // …and auto-rollback, given the output as the example gives it, brings a back.
    const back = await step('actions/auto-rollback', {
      deployments: `${a},${b}`,
      'to-revision': previous,
      reason: 'e2e: a later PATCH failed',
    });
    expect(back.exitCode).toBe(0);
    expect(image(a)).toBe('registry.local/planner-app:v1');
    expect(image(b)).toBe('registry.local/planner-app:v1');
  });
});

describe('rollout: a user mistake is a clear error, never an internal one', () => {
  it('a Deployment that does not exist: names it, the namespace and the context', async () => {
    const r = await step('actions/rollout', { deployments: 'no-such-app', image: 'registry.local/x:v2' });
    expect(r.exitCode).toBe(1);
    const [error] = errors(r);
    expect(error?.title).toBe('Deployment not found');
    expect(error?.message).toContain('Deployment "no-such-app" was not found in namespace "default"');
    expect(error?.message).toContain('context sandbox');
  });

  it('a refused token (401): names the kubeconfig user and what to check', async () => {
    const name = await deployment('registry.local/planner-app:v1');
    const text = await readFile(sandbox.kubeconfigPath, 'utf8');
    const wrong = text.replace(/token: .*/, 'token: "wrong-token-0123456789"');
    const r = await step(
      'actions/rollout',
      { deployments: name, image: 'registry.local/x:v2', kubeconfig: wrong },
      {
        KUBECONFIG: '',
      },
    );
    expect(r.exitCode).toBe(1);
    const [error] = errors(r);
    expect(error?.title).toBe('Kubernetes credentials refused');
    expect(error?.message).toContain('refused the credentials of user "sandbox" in the kubeconfig input');
    expect(r.log).not.toContain('wrong-token-0123456789');
  });

  it('a missing permission (403): names the verb and resource and points at the RBAC example', async () => {
    const name = await deployment('registry.local/planner-app:v1');
    sandbox.faults.set({ forbid: true, verbs: ['patch'], resources: ['deployments'] });
    const r = await step('actions/rollout', { deployments: name, image: 'registry.local/x:v2' });
    expect(r.exitCode).toBe(1);
    const [error] = errors(r);
    expect(error?.title).toBe('Kubernetes permission missing');
    expect(error?.message).toContain('may not patch deployments in namespace "default"');
    expect(error?.message).toContain('examples/k8s/rbac.yaml');
  });

  it('credentials in the kubeconfig server URL are masked and never shown', async () => {
    const name = await deployment('registry.local/planner-app:v1');
    const text = await readFile(sandbox.kubeconfigPath, 'utf8');
    const password = 'server-url-pass-31337';
    const withCredentials = text.replace(/server: "(https?:\/\/)/, `server: "$1deployer:${password}@`);
    expect(withCredentials).toContain(password);
    const r = await runStep({
      action: 'actions/rollout',
      inputs: {
        deployments: name,
        image: 'registry.local/planner-app:v2',
        kubeconfig: withCredentials,
        timeout: '60s',
      },
      env: { KUBECONFIG: '' },
      secrets: { password },
    });
    expect(r.exitCode).toBe(0);
    expect(r.masks).toContain(password);
    expect(r.log).toMatch(/Connected to .*deployer:\*\*\*@/);
  });
});
