// The rollout dist with the kubeconfigs users have: the one `aws eks update-kubeconfig` writes, given as the
// KUBE_CONFIG_DATA secret (base64) on a runner without the aws CLI, against an API server that checks the
// token's SigV4 through the sandbox's STS; and a plain-HTTP server as `kubectl proxy` serves it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { runStep } from '@planner-deploy/runner-harness';
import {
  createDeployment,
  startSandbox,
  waitForDeploymentReady,
  type Sandbox,
} from '@planner-deploy/sandbox';
import { stringify } from 'yaml';
import {
  startAwsSandbox,
  updateKubeconfigYaml,
  type AwsSandbox,
} from '../../../../packages/sandbox/src/aws/index.js';

const CLUSTER = 'planner-production-cluster';

/** Where a shell would find `command` on this PATH, if anywhere. */
function onPath(command: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

function imageOf(kube: Sandbox, name: string): string | undefined {
  return kube.store.get('deployments', 'default', name)?.spec.template.spec.containers[0].image as
    string | undefined;
}

describe('KUBE_CONFIG_DATA from aws eks update-kubeconfig (exec: aws eks get-token), no aws CLI on PATH', () => {
  let aws: AwsSandbox;
  let kube: Sandbox;
  let home: string;
  let path: string;
  /** Who the API server authenticated, request by request (the IAM ARN an EKS access entry would map). */
  const seenAs: string[] = [];

  beforeAll(async () => {
    aws = await startAwsSandbox({});
    const check = aws.authenticator();
    kube = await startSandbox({
      timeScale: 0.05,
      authenticate: async (token) => {
        const result = await check(token);
        if (result) seenAs.push(result.user);
        return result;
      },
    });
    aws.setKube({
      endpoint: kube.url,
      caData: Buffer.from(kube.caPem).toString('base64'),
      clusterName: CLUSTER,
    });
    home = await mkdtemp(join(tmpdir(), 'home-')); // no ~/.kube/config or ~/.aws to fall back on
    // The runner's PATH without any aws: only the folder of the node that runs the action.
    path = dirname(process.execPath);
    createDeployment(kube, { name: 'planner-app', image: 'registry.local/planner-app:v1' });
    await waitForDeploymentReady(kube, 'planner-app');
  });
  afterAll(async () => {
    await kube.stop();
    await aws.stop();
    await rm(home, { recursive: true, force: true });
  });

  function kubeconfigData(extra: { roleArn?: string } = {}): string {
    const yaml = updateKubeconfigYaml({
      clusterName: CLUSTER,
      region: aws.region,
      accountId: aws.accountId,
      endpoint: kube.url,
      caData: Buffer.from(kube.caPem).toString('base64'),
      ...extra,
    });
    return Buffer.from(yaml).toString('base64');
  }

  it('rolls out with the token built in-process from the runner credentials, and masks it', async () => {
    expect(onPath('aws', path)).toBeUndefined();
    seenAs.length = 0;
    const r = await runStep({
      action: 'actions/rollout',
      inputs: {
        kubeconfig: kubeconfigData(),
        deployments: 'planner-app',
        image: 'registry.local/planner-app:v2',
      },
      env: { ...aws.env(), HOME: home, PATH: path },
    });
    expect(r.exitCode).toBe(0);
    expect(imageOf(kube, 'planner-app')).toBe('registry.local/planner-app:v2');
    expect(seenAs.length).toBeGreaterThan(0);
    expect(new Set(seenAs)).toEqual(new Set([`arn:aws:iam::${aws.accountId}:user/planner-deployer`]));
    expect(r.masks.some((m) => m.startsWith('k8s-aws-v1.'))).toBe(true);
    expect(r.log).not.toMatch(/k8s-aws-v1\.[A-Za-z0-9_-]{20}/);
  });

  it('with --role-arn, assumes the role through STS and deploys as the role session', async () => {
    seenAs.length = 0;
    const role = `arn:aws:iam::${aws.accountId}:role/planner-deploy`;
    const r = await runStep({
      action: 'actions/rollout',
      inputs: {
        kubeconfig: kubeconfigData({ roleArn: role }),
        deployments: 'planner-app',
        image: 'registry.local/planner-app:v3',
      },
      env: { ...aws.env(), HOME: home, PATH: path },
    });
    expect(r.exitCode).toBe(0);
    expect(imageOf(kube, 'planner-app')).toBe('registry.local/planner-app:v3');
    expect(new Set(seenAs)).toEqual(
      new Set([`arn:aws:sts::${aws.accountId}:assumed-role/planner-deploy/EKSGetTokenAuth`]),
    );
  });

  it('with credentials the STS does not know, fails clearly (401 from the API) and changes nothing', async () => {
    const r = await runStep({
      action: 'actions/rollout',
      inputs: {
        kubeconfig: kubeconfigData(),
        deployments: 'planner-app',
        image: 'registry.local/planner-app:v9',
      },
      env: {
        ...aws.env(),
        AWS_SECRET_ACCESS_KEY: 'not-the-sandbox-secret-key-000000000000',
        HOME: home,
        PATH: path,
      },
    });
    expect(r.exitCode).toBe(1);
    const error = r.annotations.find((a) => a.level === 'error');
    expect(`${error?.title} ${error?.message}`).toMatch(/401|Unauthorized|credentials/i);
    expect(`${error?.title} ${error?.message}`).not.toMatch(/Internal error/);
    expect(imageOf(kube, 'planner-app')).toBe('registry.local/planner-app:v3');
  });
});

describe('a plain-HTTP server, as kubectl proxy serves it', () => {
  let kube: Sandbox;
  let proxy: http.Server;
  let proxyUrl: string;
  let proxied = 0;

  beforeAll(async () => {
    kube = await startSandbox({ timeScale: 0.05 });
    const upstream = new URL(kube.url);
    const agent = new https.Agent({ ca: kube.caPem, keepAlive: true });
    // Like `kubectl proxy`: plain HTTP on loopback, every request passed on to the API server with the
    // credentials added, responses (watches and logs included) streamed back as they come.
    proxy = http.createServer((req, res) => {
      proxied++;
      const out = https.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          agent,
          headers: { ...req.headers, host: upstream.host, authorization: `Bearer ${kube.token}` },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      res.on('close', () => out.destroy());
      req.pipe(out);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    createDeployment(kube, { name: 'planner-app', image: 'registry.local/planner-app:v1' });
    await waitForDeploymentReady(kube, 'planner-app');
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await kube.stop();
  });

  it('rolls out through an http:// server with no credentials in the kubeconfig', async () => {
    const kubeconfig = stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'proxy', cluster: { server: proxyUrl } }],
      users: [{ name: 'nobody', user: {} }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'nobody' } }],
      'current-context': 'proxy',
    });
    const before = proxied;
    const r = await runStep({
      action: 'actions/rollout',
      inputs: { kubeconfig, deployments: 'planner-app', image: 'registry.local/planner-app:v2' },
      env: { HOME: tmpdir() },
    });
    expect(r.log).not.toMatch(/HTTP protocol is not allowed/);
    expect(r.exitCode).toBe(0);
    expect(r.outputs.revision).toBe('2');
    expect(imageOf(kube, 'planner-app')).toBe('registry.local/planner-app:v2');
    expect(proxied).toBeGreaterThan(before);
  });
});
