/** Shared helpers for the sandbox's Kubernetes tests: manifests, kubectl with the sandbox's kubeconfig, waiting. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runKubectl, type KubectlResult } from '../../src/kubectl.js';
import type { Sandbox } from '../../src/index.js';

export const TMP_ROOT = join(fileURLToPath(new URL('../../.kubectl', import.meta.url)));

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  spec: any;
  [k: string]: unknown;
}

export function deploymentManifest(name = 'web', image = 'nginx:1.25', replicas = 2): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
    },
  };
}

export function kubectl(
  sandbox: Sandbox,
  args: string[],
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  return runKubectl(args, { kubeconfig: sandbox.kubeconfigPath, ...opts });
}

/** Writes a manifest into a temp dir (inside the package's ignored .kubectl dir) and returns its path. */
export async function manifestFile(obj: unknown): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(TMP_ROOT, { recursive: true });
  const dir = await mkdtemp(join(TMP_ROOT, 'manifest-'));
  const path = join(dir, 'manifest.json');
  await writeFile(path, JSON.stringify(obj));
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
