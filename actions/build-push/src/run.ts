import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ActionFailure,
  CancelledError,
  errorMessage,
  maskSecret,
  saveState,
  type Logger,
} from '@planner-deploy/action-kit';
import {
  DockerCli,
  buildxArgs,
  chooseCache,
  conflictMessage,
  createEcrContext,
  describeImage,
  ecrErrorCode,
  findRepository,
  getRegistryLogin,
  isTagImmutable,
  lastErrorLine,
  legacyBuildArgs,
  legacyBuilderProblem,
  lookupTags,
  metadataDigest,
  planPublish,
  pushedDigest,
  putTag,
  retryDocker,
  secretEnv,
  type BuildSpec,
  type Builder,
  type CacheMode,
  type EcrContext,
  type RepositoryInfo,
} from '@planner-deploy/aws';
import { ensureBuildx } from './buildx.js';
import type { Inputs } from './inputs.js';

/** What the step did, for outputs and the summary. */
export interface BuildResult {
  /** host/repository */
  name: string;
  registry: string;
  tags: string[];
  /** sha256:…, as the registry reports it; undefined when nothing was pushed. */
  digest: string | undefined;
  sizeInBytes: number | undefined;
  built: boolean;
  pushed: boolean;
  builder: Builder | undefined;
  /** Tags pointed at the image by this step (the others already pointed there). */
  addedTags: string[];
  repositoryCreated: boolean;
  durationMs: number;
}

/** The post step's state: where the main step logged in. */
export interface LoginState {
  host: string;
}
export const LOGIN_STATE = 'dockerLogin';

/** The legacy builder, even where DOCKER_BUILDKIT=1 is set (docker 23+ would then demand buildx). */
const LEGACY_ENV = { DOCKER_BUILDKIT: '0' };

/** Runs the whole step: plan, then reuse or build, push and tag. */
export async function buildAndPush(
  inputs: Inputs,
  logger: Logger,
  signal: AbortSignal,
): Promise<BuildResult> {
  const started = Date.now();
  const docker = new DockerCli({ logger, signal, cwd: inputs.workspace });
  if (!inputs.push) return buildOnly(inputs, docker, logger, started);

  const ecr = await createEcrContext({
    region: inputs.region as string,
    registryId: registryIdOf(inputs),
    logger,
    signal,
  });
  const progress: Progress = { phase: 'planning', ref: undefined, digest: undefined, added: [] };
  try {
    const login = await awsStep('get an ECR authorization token', () => getRegistryLogin(ecr, maskSecret));
    const host = inputs.registry.kind === 'host' ? inputs.registry.host : login.host;
    const name = `${host}/${inputs.repository}`;
    const repository = await awsStep(`describe the ECR repository ${inputs.repository}`, () =>
      findRepository(ecr, inputs.repository, inputs['create-repository']),
    );
    if (repository === undefined) {
      throw new ActionFailure(
        'ECR repository not found',
        `The ECR repository ${inputs.repository} does not exist in ${host}. Create it (infrastructure code, or set create-repository: true to let this action create it), or fix input "repository".`,
      );
    }
    const current = await awsStep('look up the image tags', () =>
      lookupTags(ecr, inputs.repository, inputs.imageTags),
    );
    const plan = planPublish({
      tags: inputs.imageTags,
      current,
      mutability: repository.mutability,
      skipIfExists: inputs['skip-if-exists'],
    });
    if (plan.action === 'conflict') {
      throw new ActionFailure('Image tag already exists', conflictMessage(inputs.repository, plan));
    }
    const base = { name, registry: host, tags: inputs.imageTags, repositoryCreated: repository.created };
    progress.ref = `${name}:${inputs.source.sha}`;
    if (plan.action === 'reuse') {
      progress.phase = 'tagging';
      progress.digest = plan.image.digest;
      logger.info(
        `${name}:${inputs.source.sha} already exists (${plan.image.digest}): not building it again (skip-if-exists).`,
      );
      const added = await addTags(ecr, inputs.repository, plan.image, plan.add, logger, progress.added);
      const details = await describeImage(ecr, inputs.repository, { digest: plan.image.digest });
      return {
        ...base,
        digest: plan.image.digest,
        sizeInBytes: details?.sizeInBytes,
        built: false,
        pushed: false,
        builder: undefined,
        addedTags: added,
        durationMs: Date.now() - started,
      };
    }
    if (plan.moved.length > 0) logger.info(`Tags that will move to the new image: ${plan.moved.join(', ')}.`);
    const builder = await chooseBuilder(inputs, docker, logger);
    const cache = await effectiveCache(inputs, builder, docker, logger);
    checkRegistryCache(inputs, cache, repository);
    await dockerLogin(docker, host, login.username, login.password);
    const pushedDigestValue = await buildAndPushSha(inputs, docker, builder, cache, name, logger, progress);
    progress.phase = 'tagging';
    const pushed = await awsStep('read the pushed image from ECR', () =>
      lookupTags(ecr, inputs.repository, [inputs.source.sha]),
    );
    const image = pushed.get(inputs.source.sha);
    if (image === undefined) {
      throw new ActionFailure(
        'Pushed image not found',
        `docker pushed ${name}:${inputs.source.sha}, but ECR does not list it. Check the registry (${host}) is the ECR registry of the repository.`,
      );
    }
    if (pushedDigestValue !== undefined && pushedDigestValue !== image.digest) {
      logger.warning(
        `The push reported ${pushedDigestValue} but ECR holds ${image.digest} for the tag ${inputs.source.sha}; the outputs use ECR's.`,
      );
    }
    const rest = inputs.imageTags.filter((tag) => tag !== inputs.source.sha);
    progress.digest = image.digest;
    const added = await addTags(ecr, inputs.repository, image, rest, logger, progress.added);
    const details = await describeImage(ecr, inputs.repository, { digest: image.digest });
    return {
      ...base,
      digest: image.digest,
      sizeInBytes: details?.sizeInBytes,
      built: true,
      pushed: true,
      builder,
      addedTags: [inputs.source.sha, ...added],
      durationMs: Date.now() - started,
    };
  } catch (error) {
    if (error instanceof CancelledError || (signal.aborted && isAbortError(error))) {
      throw new CancelledError(cancelledMessage(progress));
    }
    throw error;
  } finally {
    ecr.client.destroy();
  }
}

/** How far the step got, so a cancel can say what it left behind. */
interface Progress {
  phase: 'planning' | 'building' | 'pushing' | 'tagging';
  ref: string | undefined;
  digest: string | undefined;
  added: string[];
}

function isAbortError(error: unknown): boolean {
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

function registryIdOf(inputs: Inputs): string | undefined {
  if (inputs.registry.kind === 'account') return inputs.registry.accountId;
  if (inputs.registry.kind === 'host') return inputs.registry.accountId;
  return undefined;
}

/** Runs an ECR request; an AWS error becomes a failure that says what was being done. */
async function awsStep<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ActionFailure) throw error;
    const code = ecrErrorCode(error);
    if (code === 'CancelledError' || code === 'AbortError') throw error;
    const advice = /AccessDenied|Unrecognized|InvalidSignature|ExpiredToken|MissingAuthentication/.test(code)
      ? ' Check the AWS credentials (aws-actions/configure-aws-credentials) and that the role may use ECR in this account and region.'
      : '';
    throw new ActionFailure(
      'ECR request failed',
      `Could not ${what}: ${code !== '' && code !== 'Error' ? `${code}: ` : ''}${errorMessage(error)}.${advice}`,
      { cause: error },
    );
  }
}

async function addTags(
  ecr: EcrContext,
  repository: string,
  image: { digest: string; manifest: string; mediaType: string | undefined },
  tags: string[],
  logger: Logger,
  added: string[] = [],
): Promise<string[]> {
  for (const tag of tags) {
    const outcome = await awsStep(`tag the image ${tag}`, () => putTag(ecr, repository, image, tag));
    if (outcome === 'added') added.push(tag);
    logger.info(
      `${outcome === 'added' ? 'Tagged' : 'Already tagged'} ${repository}:${tag} → ${image.digest}`,
    );
  }
  return added;
}

async function dockerLogin(
  docker: DockerCli,
  host: string,
  username: string,
  password: string,
): Promise<void> {
  // Saved before logging in, so the post step logs out even if this step dies right after.
  saveState<LoginState>(LOGIN_STATE, { host });
  const result = await docker.login(host, username, password);
  if (result.code !== 0) {
    throw new ActionFailure(
      'Docker login failed',
      `docker login to ${host} failed: ${lastErrorLine(result)}. The ECR authorization token was refused: check that the registry is the one of the AWS credentials' account (input "registry"), and that the role may call ecr:GetAuthorizationToken.`,
    );
  }
}

async function chooseBuilder(inputs: Inputs, docker: DockerCli, logger: Logger): Promise<Builder> {
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
async function effectiveCache(
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
function checkRegistryCache(inputs: Inputs, cache: CacheMode, repository: RepositoryInfo): void {
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
async function buildAndPushSha(
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
async function buildOnly(
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

/** The post step: log out of the registry the main step logged in to. */
export async function logoutRegistry(state: LoginState | undefined, logger: Logger): Promise<void> {
  if (state === undefined) return;
  const docker = new DockerCli({ logger });
  const result = await docker.logout(state.host);
  if (result.code === 0) logger.info(`Logged out of ${state.host}.`);
  else logger.warning(`docker logout ${state.host} failed: ${lastErrorLine(result)}`);
}
