/**
 * EKS on Fargate in the sandbox, checked with the oracle (kubectl 1.32) and the real EKS client: the
 * Planner cluster's profiles through ListFargateProfiles/DescribeFargateProfile, a selected pod on its own
 * fargate node after the provisioning delay, an unselected one Pending behind the fargate taint, and the
 * aws-logging ConfigMap that turns LoggingDisabled off.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DescribeFargateProfileCommand,
  EKSClient,
  ListFargateProfilesCommand,
  paginateListFargateProfiles,
} from '@aws-sdk/client-eks';
import {
  createDeployment,
  PLANNER_DEPLOYMENT,
  seedPlanner,
  startCloud,
  startSandbox,
  type Cloud,
  type KubeObject,
} from '../src/index.js';
import { NODE_NAME } from '../src/kube/controllers/index.js';
import { fileURLToPath } from 'node:url';
import { kubectl, waitFor } from './helpers/kube.js';

let cloud: Cloud;

beforeAll(async () => {
  cloud = await startCloud({ timeScale: 0.005, registry: 'none', github: false });
  await seedPlanner(cloud, { replicas: 1 });
});
afterAll(async () => {
  await cloud?.stop();
});

function eks(): EKSClient {
  return new EKSClient({
    region: cloud.aws.region,
    endpoint: cloud.aws.endpoints.eks,
    credentials: cloud.aws.credentials,
  });
}

function podsOf(namespace: string, selector: string): KubeObject[] {
  return cloud.kube.store.list('pods', namespace, { labelSelector: selector });
}

describe('the Planner cluster on Fargate', () => {
  it('answers ListFargateProfiles and DescribeFargateProfile as EKS does', async () => {
    const client = eks();
    const names: string[] = [];
    for await (const page of paginateListFargateProfiles(
      { client, pageSize: 2 },
      { clusterName: cloud.clusterName },
    ))
      names.push(...(page.fargateProfileNames ?? []));
    expect(names).toEqual(['coredns', 'planner-production', 'planner-staging']);

    const production = await client.send(
      new DescribeFargateProfileCommand({
        clusterName: cloud.clusterName,
        fargateProfileName: 'planner-production',
      }),
    );
    expect(production.fargateProfile).toMatchObject({
      fargateProfileName: 'planner-production',
      clusterName: cloud.clusterName,
      status: 'ACTIVE',
      selectors: [{ namespace: 'planner-production', labels: { 'app.kubernetes.io/part-of': 'planner' } }],
    });
    expect(production.fargateProfile?.fargateProfileArn).toMatch(
      new RegExp(
        `^arn:aws:eks:us-east-1:123456789012:fargateprofile/${cloud.clusterName}/planner-production/`,
      ),
    );
    expect(production.fargateProfile?.createdAt).toBeInstanceOf(Date);

    await expect(
      client.send(
        new DescribeFargateProfileCommand({ clusterName: cloud.clusterName, fargateProfileName: 'nope' }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    client.destroy();
  });

  it('says AccessDenied when the identity may not list the profiles', async () => {
    const other = await startCloud({ timeScale: 0.01, registry: 'none', github: false });
    try {
      other.aws.deny('eks:ListFargateProfiles');
      const client = new EKSClient({
        region: other.aws.region,
        endpoint: other.aws.endpoints.eks,
        credentials: other.aws.credentials,
      });
      await expect(
        client.send(new ListFargateProfilesCommand({ clusterName: other.clusterName })),
      ).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining('is not authorized to perform: eks:ListFargateProfiles'),
      });
      client.destroy();
    } finally {
      await other.stop();
    }
  });

  it('runs a selected pod on its own fargate node, as kubectl shows it', async () => {
    const ns = 'planner-production';
    const pod = await waitFor(
      'the production pod to run',
      () => podsOf(ns, `app=${PLANNER_DEPLOYMENT}`).find((p) => p.status?.phase === 'Running'),
      30_000,
    );
    const node = pod.spec.nodeName as string;
    expect(node).toMatch(/^fargate-ip-10-0-\d+-\d+\.us-east-1\.compute\.internal$/);
    expect(pod.spec.schedulerName).toBe('fargate-scheduler');
    expect(pod.metadata.annotations).toMatchObject({
      'eks.amazonaws.com/fargate-profile': 'planner-production',
      CapacityProvisioned: '0.25vCPU 0.5GB',
    });

    const wide = await kubectl(cloud.kube, ['get', 'pods', '-n', ns, '-o', 'wide']);
    expect(wide.stderr).toBe('');
    const row = wide.stdout.split('\n').find((l) => l.startsWith(pod.metadata.name))!;
    const ip = node
      .replace(/^fargate-ip-/, '')
      .replace(/\..*$/, '')
      .replace(/-/g, '.');
    expect(row.split(/\s+/)).toEqual(expect.arrayContaining(['1/1', 'Running', ip, node]));

    const nodes = await kubectl(cloud.kube, ['get', 'nodes', '-o', 'wide']);
    expect(nodes.stderr).toBe('');
    const nodeRow = nodes.stdout.split('\n').find((l) => l.startsWith(node))!;
    expect(nodeRow.split(/\s+/).slice(0, 2)).toEqual([node, 'Ready']);
    expect(nodeRow).toContain('v1.32.3-eks-473151a');
    expect(nodeRow).toContain(ip);
    expect(nodeRow).toContain('Amazon Linux 2');
    expect(nodes.stdout).not.toContain(NODE_NAME);

    const labelled = await kubectl(cloud.kube, [
      'get',
      'nodes',
      '-l',
      'eks.amazonaws.com/compute-type=fargate',
      '-o',
      'jsonpath={.items[*].spec.taints}',
    ]);
    expect(labelled.stdout).toContain('"key":"eks.amazonaws.com/compute-type"');
    expect(labelled.stdout).toContain('"effect":"NoSchedule"');

    const describe = await kubectl(cloud.kube, ['describe', 'pod', '-n', ns, pod.metadata.name]);
    expect(describe.stderr).toBe('');
    expect(describe.stdout).toMatch(
      new RegExp(`Node:\\s+${node.replace(/\./g, '\\.')}/${ip.replace(/\./g, '\\.')}`),
    );
    expect(describe.stdout).toMatch(/CapacityProvisioned: 0\.25vCPU 0\.5GB/);
    expect(describe.stdout).toMatch(
      /Warning\s+LoggingDisabled\s+.*fargate-scheduler\s+Disabled logging because aws-logging configmap was not found\. configmap "aws-logging" not found/,
    );
    expect(describe.stdout).toMatch(
      new RegExp(
        `Normal\\s+Scheduled\\s+.*fargate-scheduler\\s+Successfully assigned ${ns}/${pod.metadata.name} to ${node.replace(/\./g, '\\.')}`,
      ),
    );
    // The provisioning delay: the pod was scheduled tens of simulated seconds after it was created.
    const events = cloud.kube.store
      .list('events', ns)
      .filter((e) => (e.involvedObject as { uid?: string }).uid === pod.metadata.uid);
    const at = (reason: string) =>
      Date.parse(events.find((e) => e.reason === reason)!.firstTimestamp as string);
    expect(at('Scheduled') - Date.parse(pod.metadata.creationTimestamp)).toBeGreaterThanOrEqual(20_000);
  });

  it('leaves a pod no profile selects Pending with the fargate taint in FailedScheduling', async () => {
    const ns = 'planner-production';
    // Production's profile selects app.kubernetes.io/part-of=planner; this Deployment's pods lack it.
    createDeployment(cloud.kube, { name: 'worker', namespace: ns, image: 'worker:1', replicas: 1 });
    const pod = await waitFor('the worker pod to be unschedulable', () =>
      podsOf(ns, 'app=worker').find((p) =>
        (p.status?.conditions ?? []).some((c: { reason?: string }) => c.reason === 'Unschedulable'),
      ),
    );
    expect(pod.spec.schedulerName).toBe('default-scheduler');
    expect(pod.spec.nodeName).toBeUndefined();

    const get = await kubectl(cloud.kube, ['get', 'pods', '-n', ns, '-l', 'app=worker', '-o', 'wide']);
    expect(get.stdout).toMatch(
      new RegExp(`${pod.metadata.name}\\s+0/1\\s+Pending\\s+0\\s+\\S+\\s+<none>\\s+<none>`),
    );

    const n = cloud.kube.store.list('nodes').length;
    expect(n).toBeGreaterThan(0);
    const events = await kubectl(cloud.kube, [
      'get',
      'events',
      '-n',
      ns,
      '--field-selector',
      `involvedObject.name=${pod.metadata.name}`,
    ]);
    expect(events.stderr).toBe('');
    expect(events.stdout).toContain('FailedScheduling');
    expect(events.stdout).toContain(
      `0/${n} nodes are available: ${n} node(s) had untolerated taint {eks.amazonaws.com/compute-type: fargate}. preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`,
    );
    const describe = await kubectl(cloud.kube, ['describe', 'pod', '-n', ns, pod.metadata.name]);
    expect(describe.stdout).toMatch(/Status:\s+Pending/);
    expect(describe.stdout).toMatch(/PodScheduled\s+False/);
    expect(describe.stdout).toMatch(
      /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/\d+ nodes are available/,
    );
    cloud.kube.store.delete('deployments', ns, 'worker');
  });

  it('enables logging once the aws-logging ConfigMap exists (kubectl apply of the example)', async () => {
    const example = fileURLToPath(new URL('../../../examples/k8s/aws-logging.yaml', import.meta.url));
    const apply = await kubectl(cloud.kube, ['apply', '-f', example]);
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toContain('configmap/aws-logging created');
    const cm = await kubectl(cloud.kube, ['get', 'configmaps', '-n', 'aws-observability']);
    expect(cm.stdout).toMatch(/aws-logging\s+4\s+/);

    createDeployment(cloud.kube, {
      name: 'logged',
      namespace: 'planner-staging',
      image: 'logged:1',
      replicas: 1,
    });
    const pod = await waitFor('the logged pod to run', () =>
      podsOf('planner-staging', 'app=logged').find((p) => p.status?.phase === 'Running'),
    );
    expect(pod.metadata.annotations?.Logging).toBe('LoggingEnabled');
    const reasons = cloud.kube.store
      .list('events', 'planner-staging')
      .filter((e) => (e.involvedObject as { uid?: string }).uid === pod.metadata.uid)
      .map((e) => e.reason);
    expect(reasons).toContain('Scheduled');
    expect(reasons).not.toContain('LoggingDisabled');

    // Its node goes with it.
    const node = pod.spec.nodeName as string;
    cloud.kube.store.delete('deployments', 'planner-staging', 'logged');
    await waitFor('the fargate node to go', () => !cloud.kube.store.get('nodes', undefined, node));
  });
});

describe('a sandbox without Fargate', () => {
  it('binds pods to sandbox-node and has no Node objects, as before', async () => {
    const plain = await startSandbox({ timeScale: 0.01 });
    try {
      createDeployment(plain, { name: 'web', image: 'nginx:1', replicas: 1 });
      const pod = await waitFor('the web pod to run', () =>
        plain.store.list('pods', 'default').find((p) => p.status?.phase === 'Running'),
      );
      expect(pod.spec.nodeName).toBe(NODE_NAME);
      expect(pod.spec.schedulerName).toBe('default-scheduler');
      expect(pod.metadata.annotations?.CapacityProvisioned).toBeUndefined();
      const nodes = await kubectl(plain, ['get', 'nodes']);
      expect(nodes.stderr.trim()).toBe('No resources found');
    } finally {
      await plain.stop();
    }
  });
});
