// What the end-to-end tests of build-push run against: the built dist (through the runner harness), a real
// dockerd (DOCKER_HOST) and a real registry v2 behind the sandbox's ECR endpoint.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import { startAwsSandbox, type AwsSandbox } from '../../../../packages/sandbox/src/aws/index.js';
import {
  dockerUnavailableReason,
  startRegistry,
  type RegistryInfo,
} from '../../../../packages/sandbox/src/registry.js';

export const ACTION = 'actions/build-push';

/**
 * Why the docker tests cannot run here (undefined: they can). CI sets PLANNER_DEPLOY_REQUIRE_DOCKER=1:
 * there a missing dockerd or registry fails the tests instead of skipping them.
 */
export const dockerUnavailable = dockerUnavailableReason;

export const REQUIRE_DOCKER = process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1';

/** A real registry behind the sandbox's ECR. */
export interface Cloud {
  registry: RegistryInfo;
  sandbox: AwsSandbox;
  /** Where docker pushes (the ECR front's host, from the token's proxyEndpoint). */
  host: string;
  stop(): Promise<void>;
}

export async function startCloud(): Promise<Cloud> {
  const registry = await startRegistry();
  if (registry === undefined) throw new Error('docker-registry is not available');
  const sandbox = await startAwsSandbox({ registry });
  return {
    registry,
    sandbox,
    host: new URL(sandbox.registryUrl as string).host,
    async stop() {
      await sandbox.stop();
      await registry.stop();
    },
  };
}

/** The manifest digest the registry itself serves for `repository:reference` (undefined: no such tag). */
export async function registryDigest(
  registry: RegistryInfo,
  repository: string,
  reference: string,
): Promise<string | undefined> {
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, {
    method: 'HEAD',
    headers: {
      authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`,
      accept: [
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
      ].join(', '),
    },
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`registry answered ${res.status} for ${repository}:${reference}`);
  return res.headers.get('docker-content-digest') ?? undefined;
}

/** Tags of a repository as the registry lists them. */
export async function registryTags(registry: RegistryInfo, repository: string): Promise<string[]> {
  const res = await fetch(`${registry.url}/v2/${repository}/tags/list`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`,
    },
  });
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return (body.tags ?? []).sort();
}

/** A workspace with a tiny FROM-scratch Dockerfile (two stages) whose content is `content`. */
export async function makeWorkspace(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'build-push-ws-'));
  await mkdir(join(dir, 'app'));
  await writeFile(join(dir, 'app', 'hello.txt'), `${content}\n`);
  await writeFile(
    join(dir, 'app', 'Dockerfile'),
    [
      'FROM scratch AS development',
      'ARG GREETING=none',
      'COPY hello.txt /hello.txt',
      'LABEL stage=development',
      '',
      'FROM development AS production',
      'LABEL stage=production',
      '',
    ].join('\n'),
  );
  return dir;
}

let counter = 0;
/** A fresh commit SHA per run, so tests do not see each other's images. */
export function newSha(): string {
  counter += 1;
  const seed = `${Date.now().toString(16)}${process.pid.toString(16)}${counter.toString(16)}`;
  return seed.padEnd(40, '0').slice(0, 40);
}

export interface RunOptions {
  cloud?: Cloud | undefined;
  workspace: string;
  sha: string;
  inputs?: Record<string, string>;
  env?: Record<string, string | undefined>;
  dockerConfig?: string;
}

/** Runs the built action (main and post) with the cloud's AWS environment and a private DOCKER_CONFIG. */
export async function runAction(options: RunOptions): Promise<RunResult & { dockerConfig: string }> {
  const dockerConfig = options.dockerConfig ?? (await mkdtemp(join(tmpdir(), 'build-push-docker-config-')));
  const result = await runStep({
    action: ACTION,
    workspace: options.workspace,
    inputs: { context: 'app', ...options.inputs },
    env: {
      ...(options.cloud ? options.cloud.sandbox.env() : {}),
      DOCKER_HOST: process.env['DOCKER_HOST'],
      DOCKER_CONFIG: dockerConfig,
      GITHUB_SHA: options.sha,
      ...options.env,
    },
    // The harness fails the run if the registry password (inside every ECR token) shows in what it printed.
    ...(options.cloud ? { secrets: { 'the ECR password': options.cloud.sandbox.ecr.password } } : {}),
    limitMs: 120_000,
  });
  return { ...result, dockerConfig };
}

/** The docker config's auths after a run (login writes there, the post step's logout removes it). */
export async function dockerAuths(dockerConfig: string): Promise<Record<string, unknown>> {
  try {
    const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as {
      auths?: Record<string, unknown>;
    };
    return config.auths ?? {};
  } catch {
    return {};
  }
}

/** Everything a person can read from a run: both phases' logs and the summary. */
export function everythingPrinted(result: RunResult): string {
  return [result.log, result.post?.log ?? '', result.summary].join('\n');
}
