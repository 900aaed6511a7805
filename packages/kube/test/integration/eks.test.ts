import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { asUserError, ConfigurationError, MemoryLogger } from '@planner-deploy/core';
import { startSandbox, type Sandbox } from '@planner-deploy/sandbox';
// The AWS side of the sandbox is not re-exported by the package yet.
import { startAwsSandbox, updateKubeconfigYaml, type AwsSandbox } from '../../../sandbox/src/aws/index.js';
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

describe('the kubeconfig of aws eks update-kubeconfig (exec: aws eks get-token), token built in-process', () => {
  const ROLE = 'arn:aws:iam::123456789012:role/planner-deploy';
  const base = () => ({
    clusterName: 'planner-prod',
    region: 'eu-west-1',
    accountId: aws.accountId,
    endpoint: kube.url,
    caData: Buffer.from(kube.caPem).toString('base64'),
  });
  async function namespacesWith(kubeconfig: string, env: Record<string, string | undefined> = aws.env()) {
    const masked: string[] = [];
    const conn = await connect({ kubeconfig, logger: new MemoryLogger(), mask: (v) => masked.push(v), env });
    try {
      const list = await conn.request<KubeList<unknown>>('GET', '/api/v1/namespaces');
      return { items: list.items, masked, description: conn.description, eksCluster: conn.eksCluster };
    } finally {
      conn.close();
    }
  }

  it('signs the token with the runner credentials for the cluster name', async () => {
    const { items, masked, description, eksCluster } = await namespacesWith(updateKubeconfigYaml(base()));
    expect(items.length).toBeGreaterThan(0);
    expect(masked.some((m) => m.startsWith('k8s-aws-v1.'))).toBe(true);
    expect(description).toMatch(/aws eks get-token for planner-prod/);
    // What the EKS API is asked about (the Fargate profiles when a pod matches none).
    expect(eksCluster).toMatchObject({ clusterName: 'planner-prod', region: 'eu-west-1' });
  });

  it('assumes --role through STS AssumeRole and signs as the role session', async () => {
    const before = aws.requests.filter((r) => r.action === 'AssumeRole').length;
    const { items, masked } = await namespacesWith(updateKubeconfigYaml({ ...base(), roleArn: ROLE }));
    expect(items.length).toBeGreaterThan(0);
    const assumed = aws.requests.filter((r) => r.action === 'AssumeRole');
    expect(assumed.length).toBe(before + 1);
    expect(assumed.at(-1)?.status).toBe(200);
    const token = masked.find((m) => m.startsWith('k8s-aws-v1.'))!;
    expect(await aws.verifyEksToken(token)).toEqual({
      arn: 'arn:aws:sts::123456789012:assumed-role/planner-deploy/EKSGetTokenAuth',
    });
  });

  it('a role of another account is refused by STS, and the error names the role', async () => {
    const error = await namespacesWith(
      updateKubeconfigYaml({ ...base(), roleArn: 'arn:aws:iam::999999999999:role/elsewhere' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /Not allowed to assume the role arn:aws:iam::999999999999:role\/elsewhere.*sts:AssumeRole/,
    );
  });

  it('reads the AWS_PROFILE of the exec env from the shared credentials file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aws-profile-'));
    try {
      const file = join(dir, 'credentials');
      await writeFile(
        file,
        `[planner]\naws_access_key_id = ${aws.credentials.accessKeyId}\naws_secret_access_key = ${aws.credentials.secretAccessKey}\n`,
      );
      // The chain reads the process environment: the runner's keys are wrong, the profile's are right.
      const saved = { ...process.env };
      process.env.AWS_SHARED_CREDENTIALS_FILE = file;
      process.env.AWS_CONFIG_FILE = join(dir, 'config');
      process.env.AWS_ACCESS_KEY_ID = 'AKIAWRONGWRONGWRONG0';
      try {
        const { items } = await namespacesWith(updateKubeconfigYaml({ ...base(), profile: 'planner' }));
        expect(items.length).toBeGreaterThan(0);
        const error = await namespacesWith(updateKubeconfigYaml({ ...base(), profile: 'nobody' })).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as Error).message).toMatch(/AWS profile "nobody".*remove the env entry/);
      } finally {
        for (const key of ['AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_ACCESS_KEY_ID']) {
          if (saved[key] === undefined) delete process.env[key];
          else process.env[key] = saved[key];
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes aws-iam-authenticator token -i <cluster> -r <role> too', async () => {
    const config = parse(updateKubeconfigYaml(base())) as {
      users: { user: { exec: Record<string, unknown> } }[];
    };
    config.users[0]!.user.exec = {
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'aws-iam-authenticator',
      args: ['token', '-i', 'planner-prod', '-r', ROLE],
    };
    const { items, masked } = await namespacesWith(stringify(config));
    expect(items.length).toBeGreaterThan(0);
    const token = masked.find((m) => m.startsWith('k8s-aws-v1.'))!;
    expect((await aws.verifyEksToken(token))?.arn).toBe(
      'arn:aws:sts::123456789012:assumed-role/planner-deploy/planner-deploy',
    );
  });

  it('a token signed for another cluster name is refused by the API server (401)', async () => {
    const error = await namespacesWith(
      updateKubeconfigYaml({ ...base(), clusterName: 'someone-else' }),
    ).catch((e: unknown) => e);
    const shown = asUserError(error);
    expect(shown).toBeInstanceOf(ConfigurationError);
    expect(shown?.title).toBe('Kubernetes credentials refused');
    expect(shown?.message).toMatch(
      /refused the EKS token for cluster "someone-else".*\(401 Unauthorized.*access entry/,
    );
  });
});
