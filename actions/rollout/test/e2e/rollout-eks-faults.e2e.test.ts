// The rollout dist against the sandbox through EKS auth (DescribeCluster + a presigned-STS token the API
// server verifies), and under API faults: 5xx, 429, cut watches and a 410.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStep } from '@planner-deploy/runner-harness';
import {
  createDeployment,
  startSandbox,
  waitForDeploymentReady,
  type Sandbox,
} from '@planner-deploy/sandbox';
import { startAwsSandbox, type AwsSandbox } from '../../../../packages/sandbox/src/aws/index.js';

describe('rollout with cluster-name (EKS auth end to end)', () => {
  let aws: AwsSandbox;
  let kube: Sandbox;
  let home: string;

  beforeAll(async () => {
    aws = await startAwsSandbox({});
    kube = await startSandbox({ timeScale: 0.05, authenticate: aws.authenticator() });
    aws.setKube({
      endpoint: kube.url,
      caData: Buffer.from(kube.caPem).toString('base64'),
      clusterName: 'planner-production-cluster',
    });
    home = await mkdtemp(join(tmpdir(), 'home-')); // no ~/.kube/config to fall back on
    createDeployment(kube, { name: 'planner-app', image: 'registry.local/planner-app:v1' });
    await waitForDeploymentReady(kube, 'planner-app');
  });
  afterAll(async () => {
    await kube.stop();
    await aws.stop();
  });

  it('rolls out with a token built from the AWS credentials, and masks it', async () => {
    const r = await runStep({
      action: 'actions/rollout',
      inputs: {
        'cluster-name': 'planner-production-cluster',
        region: aws.region,
        deployments: 'planner-app',
        image: 'registry.local/planner-app:v2',
      },
      env: { ...aws.env(), HOME: home },
    });
    expect(r.exitCode).toBe(0);
    expect(r.masks.some((m) => m.startsWith('k8s-aws-v1.'))).toBe(true);
    expect(r.log).not.toMatch(/k8s-aws-v1\.[A-Za-z0-9_-]{20}/);
    expect(
      kube.store.get('deployments', 'default', 'planner-app')?.spec.template.spec.containers[0].image,
    ).toBe('registry.local/planner-app:v2');
  });

  it('with wrong AWS credentials, fails clearly and changes nothing', async () => {
    const r = await runStep({
      action: 'actions/rollout',
      inputs: {
        'cluster-name': 'planner-production-cluster',
        region: aws.region,
        deployments: 'planner-app',
        image: 'registry.local/planner-app:v3',
      },
      env: { ...aws.env(), AWS_SECRET_ACCESS_KEY: 'wrong-secret-key-0000000000000000000000', HOME: home },
    });
    expect(r.exitCode).toBe(1);
    expect(r.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /signature|credential|EKS|cluster/i,
    );
    expect(r.log).not.toContain('wrong-secret-key-0000000000000000000000');
    expect(
      kube.store.get('deployments', 'default', 'planner-app')?.spec.template.spec.containers[0].image,
    ).toBe('registry.local/planner-app:v2');
  });
});

describe('rollout under API faults (10% 5xx, 5% 429, watches cut every 2 s, a forced 410)', () => {
  let kube: Sandbox;
  beforeAll(async () => {
    kube = await startSandbox({ timeScale: 0.05 });
    kube.images.set('registry.local/planner-app:broken', { kind: 'missing' });
  });
  afterAll(async () => {
    await kube.stop();
  });

  it.each([1, 2, 3])('a good rollout still succeeds, once, with revision 2 (run %i)', async (run) => {
    const name = `faulty-${run}`;
    createDeployment(kube, { name, image: 'registry.local/planner-app:v1' });
    await waitForDeploymentReady(kube, name);
    kube.faults.set({
      errorRate: 0.1,
      throttleRate: 0.05,
      retryAfterSeconds: 1,
      watchCutSeconds: 2,
      expireNextWatches: 1,
      seed: 1000 + run,
    });
    try {
      const r = await runStep({
        action: 'actions/rollout',
        inputs: { deployments: name, image: 'registry.local/planner-app:v2', timeout: '90s' },
        env: { KUBECONFIG: kube.kubeconfigPath },
      });
      expect(r.exitCode).toBe(0);
      expect(r.outputs.revision).toBe('2');
      const sets = kube.store
        .list('replicasets', 'default')
        .filter((rs) => rs.metadata.name.startsWith(`${name}-`));
      expect(sets).toHaveLength(2);
    } finally {
      kube.faults.set({});
    }
  });

  it('a broken rollout still fails fast with the reason', async () => {
    createDeployment(kube, { name: 'faulty-broken', image: 'registry.local/planner-app:v1' });
    await waitForDeploymentReady(kube, 'faulty-broken');
    kube.faults.set({
      errorRate: 0.1,
      throttleRate: 0.05,
      retryAfterSeconds: 1,
      watchCutSeconds: 2,
      expireNextWatches: 1,
      seed: 7,
    });
    try {
      const r = await runStep({
        action: 'actions/rollout',
        inputs: { deployments: 'faulty-broken', image: 'registry.local/planner-app:broken', timeout: '90s' },
        env: { KUBECONFIG: kube.kubeconfigPath },
      });
      expect(r.exitCode).toBe(1);
      expect(
        r.annotations.some(
          (a) => a.level === 'error' && /ErrImagePull|ImagePullBackOff/.test(`${a.title} ${a.message}`),
        ),
      ).toBe(true);
    } finally {
      kube.faults.set({});
    }
  });
});
