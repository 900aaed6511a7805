import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigurationError, MemoryLogger } from '@planner-deploy/core';
import { startSandbox, type Sandbox } from '@planner-deploy/sandbox';
// The AWS side of the sandbox is not re-exported by the package yet.
import { startAwsSandbox, type AwsSandbox } from '../../../sandbox/src/aws/index.js';
import { connect } from '../../src/connection.js';
import type { KubeList } from '../../src/types.js';

let aws: AwsSandbox;
let kube: Sandbox;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  aws = await startAwsSandbox({ region: 'eu-west-1' });
  kube = await startSandbox({ controllers: false, authenticate: aws.authenticator() });
  aws.setKube({
    endpoint: kube.url,
    caData: Buffer.from(kube.caPem).toString('base64'),
    clusterName: 'planner-prod',
  });
  // The SDK clients read their endpoints and credentials from the process environment.
  for (const [name, value] of Object.entries(aws.env())) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await kube?.stop();
  await aws?.stop();
});

describe('connect through EKS (DescribeCluster + presigned STS token) against the sandbox', () => {
  it('finds the endpoint and CA, authenticates with the token, masks it and refreshes it before it expires', async () => {
    const masked: string[] = [];
    // Our clock starts 13 minutes ago; 14 minutes later (a few seconds from the real now) the token is
    // past its 14-minute limit and must be replaced before the next request.
    const start = Date.now() - 13 * 60_000;
    let clock = start;
    const conn = await connect({
      clusterName: 'planner-prod',
      region: 'eu-west-1',
      logger: new MemoryLogger(),
      mask: (v) => masked.push(v),
      env: { ...aws.env(), KUBECONFIG: '/nonexistent' },
      eks: { now: () => new Date(clock) },
    });
    try {
      expect(conn.source).toBe('eks');
      expect(conn.server).toBe(kube.url);
      const first = await conn.request<KubeList<unknown>>('GET', '/api/v1/namespaces');
      expect(first.items.length).toBeGreaterThan(0);
      expect(masked.filter((m) => m.startsWith('k8s-aws-v1.'))).toHaveLength(1);

      clock = start + 14 * 60_000 + 1000;
      await conn.request('GET', '/api/v1/namespaces');
      const tokens = masked.filter((m) => m.startsWith('k8s-aws-v1.'));
      expect(tokens).toHaveLength(2);
      expect(tokens[0]).not.toBe(tokens[1]);

      const { CoreV1Api } = await import('@kubernetes/client-node');
      const core = conn.kubeConfig.makeApiClient(CoreV1Api);
      const namespaces = await core.listNamespace();
      expect(namespaces.items.length).toBeGreaterThan(0);
    } finally {
      conn.close();
    }
  });

  it('names the cluster and region when the cluster does not exist', async () => {
    const error = await connect({
      clusterName: 'nope',
      region: 'eu-west-1',
      logger: new MemoryLogger(),
      env: aws.env(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/EKS cluster "nope" in region eu-west-1 was not found/);
  });

  it('asks for a region with a cluster name', async () => {
    await expect(
      connect({ clusterName: 'planner-prod', logger: new MemoryLogger(), env: {} }),
    ).rejects.toThrow(/"region" is required/);
  });
});
