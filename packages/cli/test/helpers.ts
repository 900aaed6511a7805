/**
 * Runs planner-deploy as a child process (async spawn, never blocking the event loop that hosts the
 * in-process sandbox), the way an operator runs it: the repo's Node 24 with the TypeScript hooks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MUTATING_VERBS,
  seedPlanner,
  startCloud,
  type Cloud,
  type PlannerSeed,
} from '@planner-deploy/sandbox';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const NODE = join(ROOT, 'node_modules/.bin/node');
export const NODE_ARGS = [
  '--import',
  join(ROOT, 'scripts/ts-register.mjs'),
  '--experimental-transform-types',
  '--no-warnings',
];
export const MAIN = join(ROOT, 'packages/cli/src/main.ts');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout + stderr as they came. */
  output: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called with everything printed so far, on every chunk (e.g. to send a signal at some point). */
  onOutput?: (output: string, child: ChildProcess) => void;
}

/** The environment a child sees: this process's, the cloud's, then the overrides (undefined removes). */
export function childEnv(base: Record<string, string>, extra: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...base, ...extra };
  delete env.NODE_OPTIONS; // Jest's --experimental-vm-modules is not for the CLI
  delete env.FORCE_COLOR;
  for (const [key, value] of Object.entries(extra)) if (value === undefined) delete env[key];
  return env as NodeJS.ProcessEnv;
}

export function run(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; onOutput?: (output: string, child: ChildProcess) => void },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      output += c.toString();
      options.onOutput?.(output, child);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      output += c.toString();
      options.onOutput?.(output, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, output }));
  });
}

/** A started cloud with the Planner app, and a runner of the CLI against it. */
export interface Harness {
  cloud: Cloud;
  seed: PlannerSeed;
  cwd: string;
  cli(args: string[], options?: RunOptions): Promise<CliRun>;
  /**
   * Kubernetes requests that changed something in `namespace`, since `from` (an index into
   * cloud.kube.requests). Per namespace, because the tests of a file run concurrently, one environment each.
   */
  mutations(from: number, namespace: string): string[];
  stop(): Promise<void>;
}

export async function startHarness(options: {
  environments: string[];
  moreTags?: string[];
  timeScale?: number;
}): Promise<Harness> {
  const cloud = await startCloud({ timeScale: options.timeScale ?? 0.02, registry: 'none', github: false });
  const seed = await seedPlanner(cloud, {
    environments: options.environments,
    moreTags: options.moreTags ?? [],
  });
  const cwd = await mkdtemp(join(tmpdir(), 'planner-deploy-cli-'));
  return {
    cloud,
    seed,
    cwd,
    cli: (args, runOptions = {}) =>
      run(NODE, [...NODE_ARGS, MAIN, ...args], {
        env: childEnv(cloud.env(), runOptions.env),
        cwd: runOptions.cwd ?? cwd,
        ...(runOptions.onOutput ? { onOutput: runOptions.onOutput } : {}),
      }),
    mutations: (from, namespace) =>
      cloud.kube.requests
        .slice(from)
        .filter((r) => MUTATING_VERBS.has(r.verb) && !r.dryRun && r.namespace === namespace)
        .map(
          (r) =>
            `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''} ${r.namespace ?? ''}/${r.name ?? ''}`,
        ),
    stop: () => cloud.stop(),
  };
}

/** The image a container of the environment's Deployment runs now (from the sandbox's store). */
export function currentImage(cloud: Cloud, namespace: string): string | undefined {
  const d = cloud.kube.store.get('deployments', namespace, 'planner-app') as
    { spec: { template: { spec: { containers: { image?: string }[] } } } } | undefined;
  return d?.spec.template.spec.containers[0]?.image;
}

/** Waits until the environment's Deployment is fully rolled out (seeding creates it with pods pending). */
export async function waitReady(cloud: Cloud, namespace: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = cloud.kube.store.get('deployments', namespace, 'planner-app') as
      | {
          spec: { replicas?: number };
          status?: { availableReplicas?: number; updatedReplicas?: number; replicas?: number };
        }
      | undefined;
    const want = d?.spec.replicas ?? 1;
    if (
      d?.status?.availableReplicas === want &&
      d.status.updatedReplicas === want &&
      d.status.replicas === want
    )
      return;
    if (Date.now() > deadline) throw new Error(`${namespace}/planner-app never became ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function writeConfig(
  dir: string,
  text: string,
  name = 'planner-deploy.config.yaml',
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
