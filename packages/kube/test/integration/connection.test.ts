import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer as createNetServer, connect as netConnect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { asUserError, ConfigurationError, MemoryLogger } from '@planner-deploy/core';
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

  it("surfaces 401 as the user's to fix, with the server message, never as an internal error", async () => {
    const config = parse(sandbox.kubeconfigYaml) as { users: { user: { token: string } }[] };
    config.users[0]!.user.token = 'wrong';
    const conn = await connect({ kubeconfig: stringify(config), logger: new MemoryLogger() });
    try {
      const error = await conn.request('GET', '/api/v1/namespaces').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KubeApiError);
      expect((error as KubeApiError).statusCode).toBe(401);
      // What runAction and the CLI print: the user's to fix, never an internal error.
      const shown = asUserError(error);
      expect(shown).toBeInstanceOf(ConfigurationError);
      expect(shown?.title).toBe('Kubernetes credentials refused');
      expect(shown?.message).toMatch(
        /refused the credentials of user "[^"]+" in .*\(401 Unauthorized: .*token or client certificate/,
      );
    } finally {
      conn.close();
    }
  });

  it('refuses exec plugins other than the EKS ones with a clear message naming the alternatives', async () => {
    const config = parse(sandbox.kubeconfigYaml) as {
      users: { name: string; user: Record<string, unknown> }[];
    };
    config.users[0]!.user = {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: 'gke-gcloud-auth-plugin',
      },
    };
    const error = await connect({ kubeconfig: stringify(config), logger: new MemoryLogger() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /exec plugin "gke-gcloud-auth-plugin", which cannot run here.*aws eks get-token.*cluster-name and region/,
    );
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

  describe('servers as kubectl takes them', () => {
    type Config = {
      clusters: { name: string; cluster: Record<string, unknown> }[];
    };
    const withCluster = (change: (cluster: Record<string, unknown>) => void): string => {
      const config = parse(sandbox.kubeconfigYaml) as Config;
      change(config.clusters[0]!.cluster);
      return stringify(config);
    };

    it('http:// (no TLS at all): raw requests and the typed clients both work', async () => {
      const plain = await startSandbox({ controllers: false, https: false });
      try {
        expect(plain.url).toMatch(/^http:\/\//);
        const conn = await connect({ kubeconfig: plain.kubeconfigYaml, logger: new MemoryLogger() });
        try {
          expect(await version(conn)).toMatch(/^v1\.32\./);
          const core = conn.kubeConfig.makeApiClient(CoreV1Api);
          const namespaces = await core.listNamespace();
          expect(namespaces.items.map((n) => n.metadata?.name)).toContain('default');
        } finally {
          conn.close();
        }
      } finally {
        await plain.stop();
      }
    });

    it('insecure-skip-tls-verify: connects to a server whose CA it is not given', async () => {
      const noCa = withCluster((c) => delete c['certificate-authority-data']);
      const refused = await connect({ kubeconfig: noCa, logger: new MemoryLogger() });
      try {
        await expect(version(refused)).rejects.toThrow(/certificate/);
      } finally {
        refused.close();
      }
      const conn = await connect({
        kubeconfig: withCluster((c) => {
          delete c['certificate-authority-data'];
          c['insecure-skip-tls-verify'] = true;
        }),
        logger: new MemoryLogger(),
      });
      try {
        expect(await version(conn)).toMatch(/^v1\.32\./);
      } finally {
        conn.close();
      }
    });

    it('tls-server-name: checks the certificate for that name instead of the host in the URL', async () => {
      // A TCP relay on another loopback address: the certificate names localhost and 127.0.0.1, not 127.0.0.2.
      const target = new URL(sandbox.url);
      const relay = createNetServer((socket) => {
        const upstream = netConnect(Number(target.port), target.hostname);
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.2', resolve));
      const server = `https://127.0.0.2:${(relay.address() as AddressInfo).port}`;
      try {
        const plain = await connect({
          kubeconfig: withCluster((c) => (c.server = server)),
          logger: new MemoryLogger(),
        });
        try {
          await expect(version(plain)).rejects.toThrow(/altnames|127\.0\.0\.2/i);
        } finally {
          plain.close();
        }
        const named = await connect({
          kubeconfig: withCluster((c) => {
            c.server = server;
            c['tls-server-name'] = 'localhost';
          }),
          logger: new MemoryLogger(),
        });
        try {
          expect(await version(named)).toMatch(/^v1\.32\./);
        } finally {
          named.close();
        }
      } finally {
        await new Promise((resolve) => relay.close(resolve));
      }
    });
  });
});
