// The rollout dist on the sandbox's Planner cluster, EKS on Fargate (seedPlanner): the app deploys in both
// namespaces although every pod waits for its Fargate capacity first, and a Deployment whose pods no
// profile selects is reported as a Fargate profile mismatch naming namespace, labels and the profiles.
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
  waitForDeploymentReady,
  type Cloud,
  type PlannerSeed,
} from '@planner-deploy/sandbox';
import { updateKubeconfigYaml } from '../../../../packages/sandbox/src/aws/index.js';

let cloud: Cloud;
let seed: PlannerSeed;
let home: string;

beforeAll(async () => {
  // 30 simulated seconds of Fargate provisioning take 1.5 s here: longer than the 1 s ready-grace below.
  cloud = await startCloud({ timeScale: 0.05, registry: 'none', github: false });
  seed = await seedPlanner(cloud, { replicas: 2, moreTags: ['v1.1.0', 'v1.2.0'] });
  home = await mkdtemp(join(tmpdir(), 'home-')); // no ~/.kube/config
  for (const env of ['staging', 'production'])
    await waitForDeploymentReady(cloud.kube, PLANNER_DEPLOYMENT, seed.namespace(env), 60_000);
});
afterAll(async () => {
  await cloud?.stop();
  await rm(home, { recursive: true, force: true });
});

/** The rollout step as a workflow gives it, reaching the cluster by name unless a kubeconfig is given. */
function rollout(inputs: Record<string, string>, byName = true): Promise<StepResult> {
  const { KUBECONFIG, ...env } = cloud.env();
  return runStep({
    action: 'actions/rollout',
    inputs: {
      ...(byName ? { 'cluster-name': cloud.clusterName, region: cloud.aws.region } : {}),
      deployments: PLANNER_DEPLOYMENT,
      timeout: '2m',
      ...inputs,
    },
    env: { ...env, HOME: home, ...(byName ? {} : { KUBECONFIG }) },
  });
}

const errorOf = (r: StepResult): string => r.annotations.find((a) => a.level === 'error')?.message ?? '';

describe('rollout on EKS on Fargate', () => {
  it('deploys the Planner app in staging and production, each pod on its own fargate node', async () => {
    for (const env of ['staging', 'production']) {
      const namespace = seed.namespace(env);
      // ready-grace 1s: the pods' Fargate provisioning (1.5 s here) is not unreadiness.
      const r = await rollout({ namespace, image: seed.image('v1.1.0'), 'ready-grace': '1s' });
      expect(errorOf(r)).toBe('');
      expect(r.exitCode).toBe(0);
      const pods = cloud.kube.store
        .list('pods', namespace, { labelSelector: `app=${PLANNER_DEPLOYMENT}` })
        .filter((p) => p.spec.containers[0].image === seed.image('v1.1.0') && !p.metadata.deletionTimestamp);
      expect(pods).toHaveLength(2);
      for (const pod of pods) {
        expect(pod.spec.nodeName).toMatch(/^fargate-ip-/);
        expect(pod.metadata.annotations?.['eks.amazonaws.com/fargate-profile']).toBe(`planner-${env}`);
      }
      // Every one of those pods had a LoggingDisabled warning (no aws-logging ConfigMap): never a failure.
      const warned = cloud.kube.store.list('events', namespace).filter((e) => e.reason === 'LoggingDisabled');
      expect(warned.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('reports a namespace no profile selects as a Fargate profile mismatch, with the profiles', async () => {
    const namespace = 'planner-preview';
    cloud.kube.store.create('namespaces', { metadata: { name: namespace } });
    createDeployment(cloud.kube, {
      name: PLANNER_DEPLOYMENT,
      namespace,
      image: seed.image('v1.0.0'),
      replicas: 1,
      podLabels: { 'app.kubernetes.io/part-of': 'planner' },
    });
    const r = await rollout({ namespace, image: seed.image('v1.1.0') });
    expect(r.exitCode).toBe(1);
    const message = errorOf(r);
    expect(message).toContain('matches no Fargate profile');
    expect(message).toContain('namespace "planner-preview"');
    expect(message).toContain('app.kubernetes.io/part-of=planner');
    expect(message).toContain('app=planner-app');
    expect(message).toContain('untolerated taint {eks.amazonaws.com/compute-type: fargate}');
    // The profiles, as ListFargateProfiles + DescribeFargateProfile give them.
    expect(message).toContain('"planner-staging" selects namespace planner-staging');
    expect(message).toContain(
      '"planner-production" selects namespace planner-production with labels app.kubernetes.io/part-of=planner',
    );
    expect(message).toContain('Add a selector for namespace "planner-preview"');
    expect(r.summary).toContain('FailedScheduling');
  });

  it('names the label a profile of the namespace wants when the pods lack it', async () => {
    const namespace = seed.namespace('production');
    createDeployment(cloud.kube, {
      name: 'planner-worker',
      namespace,
      image: seed.image('v1.0.0'),
      replicas: 1,
    });
    const r = await rollout({ namespace, deployments: 'planner-worker', image: seed.image('v1.1.0') });
    expect(r.exitCode).toBe(1);
    expect(errorOf(r)).toContain(
      'profile "planner-production" selects namespace planner-production only with app.kubernetes.io/part-of=planner, which the pod lacks',
    );
  });

  it('with the kubeconfig aws eks update-kubeconfig writes, lists the profiles as by cluster name', async () => {
    // KUBE_CONFIG_DATA as a user copies it: exec `aws eks get-token --cluster-name … --region …`.
    const kubeconfig = updateKubeconfigYaml({
      clusterName: cloud.clusterName,
      region: cloud.aws.region,
      accountId: cloud.aws.accountId,
      endpoint: cloud.kube.url,
      caData: Buffer.from(cloud.kube.caPem).toString('base64'),
    });
    const r = await rollout(
      {
        kubeconfig: Buffer.from(kubeconfig).toString('base64'),
        namespace: 'planner-preview',
        image: seed.image('v1.2.0'),
        restart: 'true',
      },
      false,
    );
    expect(r.exitCode).toBe(1);
    const message = errorOf(r);
    expect(message).toContain('matches no Fargate profile');
    expect(message).toContain('"planner-staging" selects namespace planner-staging');
    expect(message).toContain('Add a selector for namespace "planner-preview"');
    expect(message).not.toContain('aws eks list-fargate-profiles');
  });

  it('says so, and fails the same way, when the identity may not list the profiles', async () => {
    cloud.aws.deny('eks:ListFargateProfiles');
    const r = await rollout({ namespace: 'planner-preview', image: seed.image('v1.2.0') });
    expect(r.exitCode).toBe(1);
    const message = errorOf(r);
    expect(message).toContain('matches no Fargate profile');
    expect(message).toContain('namespace "planner-preview"');
    expect(message).toContain('may not call eks:ListFargateProfiles');
    expect(message).not.toContain('"planner-staging" selects');
  });

  it('with a kubeconfig, names namespace and labels and how to see the profiles', async () => {
    const r = await rollout(
      { namespace: 'planner-preview', image: seed.image('v1.1.0'), restart: 'true' },
      false,
    );
    expect(r.exitCode).toBe(1);
    const message = errorOf(r);
    expect(message).toContain('matches no Fargate profile');
    expect(message).toContain('namespace "planner-preview"');
    expect(message).toContain('aws eks list-fargate-profiles');
  });
});
