// rollout run from source by GitHub's @github/local-action (`pnpm exec local-action run …` with a dotenv
// file) against the sandbox's Kubernetes API: the image is set, the rollout waited for, the outputs shown.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runLocalAction } from '@planner-deploy/runner-harness';
import {
  createDeployment,
  startSandbox,
  waitForDeploymentReady,
  type Sandbox,
} from '@planner-deploy/sandbox';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.05 });
});
afterAll(async () => {
  await sandbox.stop();
});

const image = (name: string) =>
  sandbox.store.get('deployments', 'default', name)?.spec.template.spec.containers[0].image;

describe('rollout under @github/local-action', () => {
  it('rolls out the new image on the sandbox and shows the revisions as outputs', async () => {
    createDeployment(sandbox, { name: 'web-local', image: 'registry.local/planner-app:v1', replicas: 2 });
    await waitForDeploymentReady(sandbox, 'web-local');
    const r = await runLocalAction({
      action: 'actions/rollout',
      env: {
        KUBECONFIG: sandbox.kubeconfigPath,
        INPUT_DEPLOYMENTS: 'web-local',
        INPUT_IMAGE: 'registry.local/planner-app:v2',
        'INPUT_READY-GRACE': '3s',
        INPUT_TIMEOUT: '60s',
      },
    });
    expect(r.exitCode).toBe(0);
    expect(image('web-local')).toBe('registry.local/planner-app:v2');
    expect(r.outputs['previous-revision']).toBe('1');
    expect(r.outputs.revision).toBe('2');
    expect(r.outputsTable).toMatch(/'revision'\s+│\s+'2'/);
  }, 180_000);

  it('fails with exit code 1 naming the input when the image is not a reference', async () => {
    const r = await runLocalAction({
      action: 'actions/rollout',
      env: {
        KUBECONFIG: sandbox.kubeconfigPath,
        INPUT_DEPLOYMENTS: 'web-local',
        INPUT_IMAGE: 'Not An Image',
      },
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/::error title=Invalid input: image::.*"Not An Image"/);
    expect(image('web-local')).toBe('registry.local/planner-app:v2');
  }, 180_000);
});
