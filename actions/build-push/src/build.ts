import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionFailure, type Logger } from '@planner-deploy/action-kit';
import {
  buildxArgs,
  chooseCache,
  isTagImmutable,
  lastErrorLine,
  legacyBuildArgs,
  legacyBuilderProblem,
  metadataDigest,
  pushedDigest,
  retryDocker,
  secretEnv,
  type BuildSpec,
  type Builder,
  type CacheMode,
  type DockerCli,
  type RepositoryInfo,
} from '@planner-deploy/aws/ecr';
import { ensureBuildx } from './buildx.js';
import type { Inputs } from './inputs.js';
import type { BuildResult } from './run.js';

// Building the image: which builder and cache this runner allows, the build (and, for the commit's tag, the
// push with retries), and the build-only check of push: false.

/** The legacy builder, even where DOCKER_BUILDKIT=1 is set (docker 23+ would then demand buildx). */
const LEGACY_ENV = { DOCKER_BUILDKIT: '0' };

/** How far the step got, so a cancel can say what it left behind. */
export interface Progress {
  phase: 'planning' | 'building' | 'pushing' | 'tagging';
  ref: string | undefined;
  digest: string | undefined;
  added: string[];
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

export function cancelledMessage(progress: Progress): string {
  switch (progress.phase) {
    case 'planning':
      return 'Cancelled before anything was built or pushed; no tag was changed.';
    case 'building':
      return 'Cancelled during the build: nothing was pushed and no tag was changed.';
    case 'pushing':
      return `Cancelled during the push of ${progress.ref ?? 'the image'}: that tag may be incomplete or missing, no other tag was changed. Re-run the job: an incomplete push is pushed again, a complete one is reused.`;
    case 'tagging':
      return `Cancelled while tagging ${progress.digest ?? 'the image'}, which is in ECR${progress.added.length > 0 ? `; tags added so far: ${progress.added.join(', ')}` : ''}. Re-run the job to add the remaining tags (nothing is rebuilt).`;
  }
}
export async function chooseBuilder(inputs: Inputs, docker: DockerCli, logger: Logger): Promise<Builder> {
  const server = await docker.serverVersion();
  if (server.version === undefined) {
    throw new ActionFailure(
      'Docker is not available',
      `No Docker daemon answered (${server.problem ?? 'docker version failed'}). The runner needs Docker: GitHub-hosted Linux runners have it; on a self-hosted runner install it or set DOCKER_HOST.`,
    );
  }
  let buildx = await docker.buildxVersion();
  if (buildx === undefined && inputs['buildx-version'] !== undefined) {
    await ensureBuildx(inputs['buildx-version'], docker, logger);
    buildx = await docker.buildxVersion();
    if (buildx === undefined) {
      throw new ActionFailure(
        'buildx not usable',
        `buildx ${inputs['buildx-version']} was installed, but "docker buildx version" still fails.`,
      );
    }
  }
  if (buildx !== undefined) {
    logger.info(`Building with ${buildx} (Docker ${server.version}).`);
    return 'buildx';
  }
  const problem = legacyBuilderProblem(inputs);
  if (problem !== undefined) {
    throw new ActionFailure(
      'docker buildx needed',
      `This runner's docker has no buildx plugin, and ${problem}. Set buildx-version (e.g. v0.19.3) to install it, or run docker/setup-buildx-action first.`,
    );
  }
  logger.info(
    `Building with the legacy builder (docker build, Docker ${server.version}): this docker has no buildx plugin.`,
  );
  return 'legacy';
}

/** The cache the build can really use here; says in the log why the asked-for one is not. */
export async function effectiveCache(
  inputs: Inputs,
  builder: Builder,
  docker: DockerCli,
  logger: Logger,
): Promise<CacheMode> {
  const driver = builder === 'buildx' && inputs.cache !== 'none' ? await docker.buildxDriver() : undefined;
  const choice = chooseCache(inputs.cache, builder, driver, process.env);
  if (choice.note !== undefined) logger.info(`Cache: ${choice.note}.`);
  return choice.cache;
}

/** A registry cache moves its tag on every build: an immutable repository refuses that. */
export function checkRegistryCache(inputs: Inputs, cache: CacheMode, repository: RepositoryInfo): void {
  if (cache !== 'registry') return;
  if (isTagImmutable(repository.mutability, 'buildcache')) {
    throw new ActionFailure(
      'Registry cache needs a mutable tag',
      `cache: registry writes the tag "buildcache" on every build, and the ECR repository ${inputs.repository} does not let tags move. Add an immutability exclusion filter for "buildcache", or use cache: gha.`,
    );
  }
}

function buildSpec(
  inputs: Inputs,
  refs: string[],
  name: string | undefined,
  push: boolean,
  workDir: string,
  cache: CacheMode,
): BuildSpec {
  return {
    context: inputs.context,
    file: inputs.file,
    target: inputs.target,
    buildArgs: inputs['build-args'],
    labels: inputs.labels,
    platforms: inputs.platforms,
    tags: refs,
    secrets: inputs.secrets,
    cache,
    cacheRef: name !== undefined ? `${name}:buildcache` : undefined,
    cacheScope: inputs.repository,
    push,
    metadataFile: join(workDir, 'metadata.json'),
    iidFile: join(workDir, 'iid'),
  };
}

async function workDirectory(): Promise<string> {
  const dir = join(process.env.RUNNER_TEMP || tmpdir(), `build-push-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Builds the image as `<name>:<sha>` and pushes that tag; returns the digest the push reported. */
export async function buildAndPushSha(
  inputs: Inputs,
  docker: DockerCli,
  builder: Builder,
  cache: CacheMode,
  name: string,
  logger: Logger,
  progress: Progress,
): Promise<string | undefined> {
  const ref = `${name}:${inputs.source.sha}`;
  const workDir = await workDirectory();
  try {
    const spec = buildSpec(inputs, [ref], name, true, workDir, cache);
    progress.phase = builder === 'buildx' ? 'pushing' : 'building';
    if (builder === 'buildx') {
      // buildx builds and pushes in one command; a transient push error reruns it, mostly from cache.
      const { result } = await logger.group(`Build and push ${ref}`, () =>
        retryDocker(
          'docker buildx build --push',
          () => docker.run(buildxArgs(spec), { live: true, env: secretEnv(inputs.secrets) }),
          logger,
          { signal: docker.signal },
        ),
      );
      if (result.code !== 0) throw buildFailure(result, 'docker buildx build');
      return (
        metadataDigest(await readFile(spec.metadataFile as string, 'utf8').catch(() => '')) ??
        pushedDigest(result.stdout + result.stderr)
      );
    }
    const built = await logger.group(`Build ${ref}`, () =>
      docker.run(legacyBuildArgs(spec), { live: true, env: LEGACY_ENV }),
    );
    if (built.code !== 0) throw buildFailure(built, 'docker build');
    progress.phase = 'pushing';
    const { result, attempts } = await logger.group(`Push ${ref}`, () =>
      retryDocker('docker push', () => docker.run(['push', ref], { live: true }), logger, {
        signal: docker.signal,
      }),
    );
    if (result.code !== 0) {
      throw new ActionFailure(
        'Push failed',
        `docker push ${ref} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${lastErrorLine(result)}. The image was built but not pushed; no tag was changed.`,
      );
    }
    return pushedDigest(result.stdout);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function buildFailure(result: { code: number; stdout: string; stderr: string }, what: string): ActionFailure {
  return new ActionFailure(
    'Image build failed',
    `${what} failed (exit code ${result.code}): ${lastErrorLine(result)}. Nothing was pushed; see the build log above.`,
  );
}

/** push: false — build only, as a CI check; no AWS request, no login. */
export async function buildOnly(
  inputs: Inputs,
  docker: DockerCli,
  logger: Logger,
  started: number,
): Promise<BuildResult> {
  const host = inputs.registry.kind === 'host' ? inputs.registry.host : undefined;
  const name = host !== undefined ? `${host}/${inputs.repository}` : inputs.repository;
  const builder = await chooseBuilder(inputs, docker, logger);
  // Without a login the registry cache cannot be read; the GitHub cache can.
  const cache = inputs.cache === 'registry' ? 'none' : await effectiveCache(inputs, builder, docker, logger);
  const workDir = await workDirectory();
  try {
    const spec = buildSpec(
      inputs,
      inputs.imageTags.map((tag) => `${name}:${tag}`),
      undefined,
      false,
      workDir,
      cache,
    );
    const args = builder === 'buildx' ? buildxArgs(spec) : legacyBuildArgs(spec);
    const result = await logger.group(`Build ${name}:${inputs.source.sha} (push: false)`, () =>
      docker.run(args, { live: true, env: builder === 'buildx' ? secretEnv(inputs.secrets) : LEGACY_ENV }),
    );
    if (result.code !== 0)
      throw buildFailure(result, builder === 'buildx' ? 'docker buildx build' : 'docker build');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  return {
    name,
    registry: host ?? '',
    tags: inputs.imageTags,
    digest: undefined,
    sizeInBytes: undefined,
    built: true,
    pushed: false,
    builder,
    addedTags: [],
    repositoryCreated: false,
    durationMs: Date.now() - started,
  };
}
