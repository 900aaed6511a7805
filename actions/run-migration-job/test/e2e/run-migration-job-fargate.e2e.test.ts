// The run-migration-job dist on the sandbox's Planner cluster, EKS on Fargate (seedPlanner): the Job's pod
// is scheduled under the same Fargate profile as the Deployment's pods (production's profile selects by
// label) while no Service selecting like the Deployment could route to it; a pod no profile selects fails
// the step at once, naming the cause.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStep, type StepResult } from '@planner-deploy/runner-harness';
import {
  createDeployment,
  PLANNER_DEPLOYMENT,
  seedPlanner,
  startCloud,
  type Cloud,
  type PlannerSeed,
} from '@planner-deploy/sandbox';

let cloud: Cloud;
let seed: PlannerSeed;
let home: string;
let run = 0;

beforeAll(async () => {
  cloud = await startCloud({ timeScale: 0.05, registry: 'none', github: false });
  seed = await seedPlanner(cloud, { replicas: 1, moreTags: ['v1.1.0'] });
  cloud.kube.images.setCommand('alembic upgrade head', {
    kind: 'exit',
    exitCode: 0,
    after: 2000,
    lines: ['INFO  [alembic.runtime.migration] Running upgrade 3f1c2a9b7d10 -> 8e4d5b6c1a22, add due dates'],
  });
  home = await mkdtemp(join(tmpdir(), 'home-'));
});
afterAll(async () => {
  await cloud?.stop();
  await rm(home, { recursive: true, force: true });
});

function migrate(inputs: Record<string, string>): Promise<StepResult> {
  const { KUBECONFIG: _unused, ...env } = cloud.env();
  return runStep({
    action: 'actions/run-migration-job',
    inputs: {
      'cluster-name': cloud.clusterName,
      region: cloud.aws.region,
      deployment: PLANNER_DEPLOYMENT,
      image: seed.image('v1.1.0'),
      command: 'alembic upgrade head',
      timeout: '2m',
      ...inputs,
    },
    env: { ...env, HOME: home, GITHUB_RUN_ID: String(7000 + ++run) },
  });
}

describe('run-migration-job on EKS on Fargate', () => {
  it('runs the migration under the Deployment’s Fargate profile in staging and production', async () => {
    for (const env of ['staging', 'production']) {
      const namespace = seed.namespace(env);
      const r = await migrate({ namespace });
      expect(r.annotations.filter((a) => a.level === 'error')).toEqual([]);
      expect(r.exitCode).toBe(0);
      expect(r.outputs).toMatchObject({ status: 'succeeded', 'exit-code': '0' });
      expect(r.log).toContain('Running upgrade 3f1c2a9b7d10 -> 8e4d5b6c1a22');
      const [pod] = cloud.kube.store.list('pods', namespace, {
        labelSelector: `job-name=${r.outputs['job-name']}`,
      });
      expect(pod?.spec.nodeName).toMatch(/^fargate-ip-/);
      expect(pod?.metadata.annotations?.['eks.amazonaws.com/fargate-profile']).toBe(`planner-${env}`);
      // The profile's label is kept; the Deployment's selector label (what its Service selects) is not.
      expect(pod?.metadata.labels?.['app.kubernetes.io/part-of']).toBe('planner');
      expect(pod?.metadata.labels?.app).toBeUndefined();
      const appPods = cloud.kube.store.list('pods', namespace, {
        labelSelector: `app=${PLANNER_DEPLOYMENT}`,
      });
      expect(appPods.map((p) => p.metadata.name)).not.toContain(pod?.metadata.name);
    }
  });

  it('fails at once, naming the cause, when no profile selects the migration pod', async () => {
    const namespace = seed.namespace('production');
    createDeployment(cloud.kube, {
      name: 'planner-worker',
      namespace,
      image: seed.image('v1.0.0'),
      replicas: 0,
    });
    const r = await migrate({ namespace, deployment: 'planner-worker' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status).toBe('failed');
    const message = r.annotations.find((a) => a.level === 'error')?.message ?? '';
    expect(message).toContain('matches no Fargate profile');
    expect(message).toContain('namespace "planner-production"');
    expect(message).toContain(
      'profile "planner-production" selects namespace planner-production only with app.kubernetes.io/part-of=planner, which the pod lacks',
    );
  });
});
