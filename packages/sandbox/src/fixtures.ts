import { deploymentHealth } from './kube/apps.js';
import type { KubeObject, ObjectMeta } from './kube/store.js';
import type { Sandbox } from './index.js';

/** What a test, the demo or the CLI's local mode needs to describe a Deployment. */
export interface DeploymentFixture {
  name: string;
  namespace?: string;
  image: string;
  replicas?: number;
  container?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  envFrom?: unknown[];
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  labels?: Record<string, string>;
  /** Labels of the pod template besides the selector's `app: <name>`. */
  podLabels?: Record<string, string>;
  annotations?: Record<string, string>;
  serviceAccountName?: string;
}

export function deploymentObject(
  f: DeploymentFixture,
): Omit<KubeObject, 'metadata'> & { metadata: Partial<ObjectMeta> } {
  const labels = { app: f.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: f.name,
      namespace: f.namespace ?? 'default',
      labels: { ...labels, ...f.labels },
      ...(f.annotations ? { annotations: f.annotations } : {}),
    },
    spec: {
      replicas: f.replicas ?? 2,
      selector: { matchLabels: labels },
      ...(f.progressDeadlineSeconds !== undefined
        ? { progressDeadlineSeconds: f.progressDeadlineSeconds }
        : {}),
      ...(f.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: f.revisionHistoryLimit } : {}),
      ...(f.paused ? { paused: true } : {}),
      template: {
        metadata: { labels: { ...f.podLabels, ...labels } },
        spec: {
          ...(f.serviceAccountName ? { serviceAccountName: f.serviceAccountName } : {}),
          containers: [
            {
              name: f.container ?? 'app',
              image: f.image,
              ...(f.env ? { env: f.env } : {}),
              ...(f.envFrom ? { envFrom: f.envFrom } : {}),
            },
          ],
        },
      },
    },
  };
}

/** Creates a Deployment straight in the store (as `kubectl create` would) and returns it. */
export function createDeployment(sandbox: Pick<Sandbox, 'store'>, fixture: DeploymentFixture): KubeObject {
  return sandbox.store.create('deployments', deploymentObject(fixture));
}

/** Resolves when `fn` returns a value other than undefined/false; rejects after `timeoutMs` (real time). */
export async function waitUntil<T>(
  what: string,
  fn: () => T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until the Deployment's rollout is complete by kubectl's rules and its pods are ready. */
export function waitForDeploymentReady(
  sandbox: Pick<Sandbox, 'store'>,
  name: string,
  namespace = 'default',
  timeoutMs = 30_000,
): Promise<KubeObject> {
  return waitUntil(
    `deployment ${namespace}/${name} to be ready`,
    () => {
      const d = sandbox.store.get('deployments', namespace, name);
      return d && deploymentHealth(d).healthy ? d : undefined;
    },
    timeoutMs,
  );
}
