import { MemoryLogger } from '@planner-deploy/core';
import type { Sandbox } from '@planner-deploy/sandbox';
import { connect, type KubeConnection } from '../../src/connection.js';
import { waitForRollouts } from '../../src/rollout-watcher.js';
import type { Container, Deployment } from '../../src/types.js';

/** A connection through the sandbox's kubeconfig, recording every masked value. */
export async function sandboxConnection(
  sandbox: Sandbox,
  logger = new MemoryLogger(),
): Promise<{ conn: KubeConnection; masked: string[]; logger: MemoryLogger }> {
  const masked: string[] = [];
  const conn = await connect({ kubeconfig: sandbox.kubeconfigYaml, logger, mask: (v) => masked.push(v) });
  return { conn, masked, logger };
}

let counter = 0;
/** A fresh namespace per test, so tests do not see each other's pods. */
export async function newNamespace(conn: KubeConnection, prefix = 'it'): Promise<string> {
  const name = `${prefix}-${process.pid % 10000}-${++counter}`;
  await conn.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
  return name;
}

export interface DeploymentOptions {
  replicas?: number;
  containers?: Container[];
  annotations?: Record<string, string>;
  progressDeadlineSeconds?: number;
  podSpec?: Record<string, unknown>;
}

export function deploymentManifest(
  namespace: string,
  name: string,
  image: string,
  options: DeploymentOptions = {},
): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels: { app: name },
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      replicas: options.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      ...(options.progressDeadlineSeconds !== undefined
        ? { progressDeadlineSeconds: options.progressDeadlineSeconds }
        : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: options.containers ?? [{ name: 'app', image }], ...options.podSpec },
      },
    },
  };
}

/** Creates a deployment and waits for its first rollout. */
export async function createDeployment(
  conn: KubeConnection,
  namespace: string,
  name: string,
  image: string,
  options: DeploymentOptions = {},
): Promise<Deployment> {
  await conn.request('POST', `/apis/apps/v1/namespaces/${namespace}/deployments`, {
    body: deploymentManifest(namespace, name, image, options),
  });
  const [result] = await waitForRollouts({
    conn,
    namespace,
    deployments: [name],
    deadline: Date.now() + 20_000,
    failFast: true,
    readyGraceMs: 10_000,
    logger: new MemoryLogger(),
  });
  if (result?.outcome !== 'succeeded') throw new Error(`initial rollout of ${name}: ${result?.message}`);
  return conn.request<Deployment>('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
}
