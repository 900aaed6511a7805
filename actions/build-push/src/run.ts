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
  conflictMessage,
  createEcrContext,
  describeImage,
  ecrErrorCode,
  findRepository,
  getRegistryLogin,
  lastErrorLine,
  lookupTags,
  planPublish,
  putTag,
  type Builder,
  type EcrContext,
} from '@planner-deploy/aws/ecr';
import {
  buildAndPushSha,
  buildOnly,
  cancelledMessage,
  checkRegistryCache,
  chooseBuilder,
  effectiveCache,
  isAbortError,
  type Progress,
} from './build.js';
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
      const details = await imageSize(ecr, inputs.repository, plan.image.digest, logger);
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
    const details = await imageSize(ecr, inputs.repository, image.digest, logger);
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

/** The image's size for the summary; a failed lookup is a warning, not a failed step (the image is in ECR). */
async function imageSize(
  ecr: EcrContext,
  repository: string,
  digest: string,
  logger: Logger,
): Promise<{ sizeInBytes: number | undefined } | undefined> {
  try {
    return await describeImage(ecr, repository, { digest });
  } catch (error) {
    if (ecr.signal?.aborted) throw error;
    logger.warning(
      `Could not read the image size from ECR (${ecrErrorCode(error)}: ${errorMessage(error)}).`,
    );
    return undefined;
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

/** The post step: log out of the registry the main step logged in to. */
export async function logoutRegistry(state: LoginState | undefined, logger: Logger): Promise<void> {
  if (state === undefined) return;
  const docker = new DockerCli({ logger });
  const result = await docker.logout(state.host);
  if (result.code === 0) logger.info(`Logged out of ${state.host}.`);
  else logger.warning(`docker logout ${state.host} failed: ${lastErrorLine(result)}`);
}
