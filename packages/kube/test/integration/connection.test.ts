import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, MemoryLogger } from '@planner-deploy/core';
import { startSandbox, type Sandbox } from '@planner-deploy/sandbox';
import { parse, stringify } from 'yaml';
import { KubeApiError } from '../../src/api-error.js';
import { connect } from '../../src/connection.js';
import type { KubeList } from '../../src/types.js';

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ controllers: false, namespace: 'team-a' });
  dir = await mkdtemp(join(tmpdir(), 'kube-conn-'));
});
afterAll(async () => {
  await sandbox?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function version(conn: Awaited<ReturnType<typeof connect>>): Promise<string> {
  const v = await conn.request<{ gitVersion: string }>('GET', '/version');
  return v.gitVersion;
}

describe('connect (against the sandbox over HTTPS)', () => {
  it.each([
    ['plain YAML', () => sandbox.kubeconfigYaml],
    ['base64', () => Buffer.from(sandbox.kubeconfigYaml).toString('base64')],
    [
      'base64 wrapped at 76 columns',
      () =>
        Buffer.from(sandbox.kubeconfigYaml)
          .toString('base64')
          .replace(/(.{76})/g, '$1\n'),
    ],
  ])('takes the kubeconfig input as %s, and masks the token', async (_name, input) => {
    const masked: string[] = [];
    const conn = await connect({
      kubeconfig: input(),
      logger: new MemoryLogger(),
      mask: (v) => masked.push(v),
    });
    try {
      expect(conn.source).toBe('kubeconfig-input');
      expect(conn.defaultNamespace).toBe('team-a');
      expect(await version(conn)).toMatch(/^v1\.32\./);
      expect(masked).toContain(sandbox.token);
    } finally {
      conn.close();
    }
  });

  it('reads KUBECONFIG when there is no input and no cluster name', async () => {
    const conn = await connect({ logger: new MemoryLogger(), env: { KUBECONFIG: sandbox.kubeconfigPath } });
    try {
      expect(conn.source).toBe('kubeconfig-file');
      const list = await conn.request<KubeList<unknown>>(
        'GET',
        '/apis/apps/v1/namespaces/default/deployments',
      );
      expect(list.items).toEqual([]);
    } finally {
      conn.close();
    }
  });

  it("gives client-node's typed APIs through its KubeConfig, on the same settings", async () => {
    const conn = await connect({ kubeconfig: sandbox.kubeconfigYaml, logger: new MemoryLogger() });
    try {
      const { CoreV1Api } = await import('@kubernetes/client-node');
      const core = conn.kubeConfig.makeApiClient(CoreV1Api);
      const namespaces = await core.listNamespace();
      expect(namespaces.items.map((n) => n.metadata?.name)).toContain('default');
    } finally {
      conn.close();
    }
  });

  it('surfaces 401 with the server message for a wrong token', async () => {
    const config = parse(sandbox.kubeconfigYaml) as { users: { user: { token: string } }[] };
    config.users[0]!.user.token = 'wrong';
    const conn = await connect({ kubeconfig: stringify(config), logger: new MemoryLogger() });
    try {
      const error = await conn.request('GET', '/api/v1/namespaces').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KubeApiError);
      expect((error as KubeApiError).statusCode).toBe(401);
    } finally {
      conn.close();
    }
  });

  it('refuses exec users with a clear message naming the EKS alternative', async () => {
    const config = parse(sandbox.kubeconfigYaml) as {
      users: { name: string; user: Record<string, unknown> }[];
    };
    config.users[0]!.user = {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: 'aws',
        args: ['eks', 'get-token', '--cluster-name', 'prod'],
      },
    };
    const error = await connect({ kubeconfig: stringify(config), logger: new MemoryLogger() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/exec plugin \(aws\).*no aws CLI.*cluster-name: prod/);
  });

  it('picks a named context and refuses an unknown one', async () => {
    const config = parse(sandbox.kubeconfigYaml) as {
      contexts: { name: string; context: Record<string, unknown> }[];
    };
    const first = config.contexts[0]!;
    config.contexts.push({ name: 'other', context: { ...first.context, namespace: 'team-b' } });
    const yaml = stringify(config);
    const conn = await connect({ kubeconfig: yaml, context: 'other', logger: new MemoryLogger() });
    expect(conn.defaultNamespace).toBe('team-b');
    conn.close();
    await expect(connect({ kubeconfig: yaml, context: 'nope', logger: new MemoryLogger() })).rejects.toThrow(
      /Input "context" names "nope", which the kubeconfig does not have; it has ".*", "other"/,
    );
  });

  it.each([
    ['garbage', 'not a kubeconfig at all!', /neither a kubeconfig/],
    ['invalid YAML', 'clusters: [oops', /not a valid kubeconfig/],
  ])('refuses %s without echoing it', async (_name, input, message) => {
    const error = await connect({ kubeconfig: input, logger: new MemoryLogger() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(input);
  });

  it('masks client keys and passwords of every user', async () => {
    const key = Buffer.from(
      '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIsecretkey\n-----END EC PRIVATE KEY-----\n',
    ).toString('base64');
    const config = parse(sandbox.kubeconfigYaml) as {
      users: { name: string; user: Record<string, unknown> }[];
    };
    config.users.push({
      name: 'cert-user',
      user: { 'client-certificate-data': 'Y2VydA==', 'client-key-data': key },
    });
    config.users.push({ name: 'basic', user: { username: 'admin', password: 'hunter2-password' } });
    const file = join(dir, 'config');
    await writeFile(file, stringify(config));
    const masked: string[] = [];
    const conn = await connect({
      logger: new MemoryLogger(),
      env: { KUBECONFIG: file },
      mask: (v) => masked.push(v),
    });
    conn.close();
    expect(masked).toEqual(expect.arrayContaining([sandbox.token, key, 'hunter2-password']));
    expect(masked.some((m) => m.includes('MHcCAQEEIsecretkey'))).toBe(true);
    expect(masked).not.toContain('Y2VydA==');
  });
});
