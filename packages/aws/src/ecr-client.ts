import type * as EcrSdk from '@aws-sdk/client-ecr';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { Logger } from '@planner-deploy/core';
import type { CredentialsProvider } from './credentials.js';
import type { TagMutability } from './ecr-names.js';
import { logSdkRetries } from './sdk-retry-log.js';

export type EcrModule = typeof EcrSdk;

let sdk: Promise<EcrModule> | undefined;

/** The ECR client module, imported on first use so that a bad input is rejected before paying for it. */
export function loadEcrSdk(): Promise<EcrModule> {
  sdk ??= import('@aws-sdk/client-ecr');
  return sdk;
}

/** What the ECR helpers need: the SDK, a client, the registry's account, how to log and when to stop. */
export interface EcrContext {
  sdk: EcrModule;
  client: ECRClient;
  /** The registry (account id) requests name; undefined = the caller's own registry. */
  registryId: string | undefined;
  logger: Logger;
  signal?: AbortSignal | undefined;
}

export interface EcrContextOptions {
  region: string;
  registryId?: string | undefined;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Explicit endpoint; otherwise the SDK honours AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL by itself. */
  endpoint?: string | undefined;
  credentials?: CredentialsProvider | undefined;
  /** SDK attempts per request (default 5: its standard retry mode backs off with jitter on 5xx/throttling). */
  maxAttempts?: number | undefined;
  /** A module to use instead of importing one (tests). */
  sdk?: EcrModule | undefined;
}

export async function createEcrContext(options: EcrContextOptions): Promise<EcrContext> {
  const module = options.sdk ?? (await loadEcrSdk());
  const maxAttempts = options.maxAttempts ?? 5;
  const client = new module.ECRClient({
    region: options.region,
    maxAttempts,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  logSdkRetries(client, options.logger, 'ECR', maxAttempts);
  return {
    sdk: module,
    client,
    registryId: options.registryId,
    logger: options.logger,
    signal: options.signal,
  };
}

function sendOptions(context: EcrContext): { abortSignal?: AbortSignal } {
  return context.signal ? { abortSignal: context.signal } : {};
}

function registryParam(context: EcrContext): { registryId?: string } {
  return context.registryId !== undefined ? { registryId: context.registryId } : {};
}

/** The AWS error code of an SDK error (its name), or ''. */
export function ecrErrorCode(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** Docker credentials for a registry, from GetAuthorizationToken. */
export interface RegistryLogin {
  username: string;
  password: string;
  /** e.g. https://123456789012.dkr.ecr.eu-west-1.amazonaws.com */
  proxyEndpoint: string;
  /** The host docker logs in to and image names start with. */
  host: string;
  expiresAt: Date | undefined;
}

/**
 * Decodes an authorization token (base64 `user:password`). `mask` is called with the token and the
 * password before anything else happens to them, so no later log line can show either.
 */
export function decodeAuthorizationToken(
  token: string,
  mask: (secret: string) => void,
): { username: string; password: string } {
  mask(token);
  const text = Buffer.from(token, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new Error('ECR returned an authorization token that is not "user:password" in base64.');
  }
  const password = text.slice(colon + 1);
  mask(password);
  return { username: text.slice(0, colon), password };
}

/** `https://host[:port]/` → `host[:port]` (what docker login and image names use). */
export function hostOfEndpoint(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  }
}

/** GetAuthorizationToken for the context's registry; the token and password are masked at once. */
export async function getRegistryLogin(
  context: EcrContext,
  mask: (secret: string) => void,
): Promise<RegistryLogin> {
  const { GetAuthorizationTokenCommand } = context.sdk;
  const answer = await context.client.send(
    new GetAuthorizationTokenCommand(
      context.registryId !== undefined ? { registryIds: [context.registryId] } : {},
    ),
    sendOptions(context),
  );
  const data = answer.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) {
    throw new Error('ECR GetAuthorizationToken returned no authorization data.');
  }
  const { username, password } = decodeAuthorizationToken(data.authorizationToken, mask);
  return {
    username,
    password,
    proxyEndpoint: data.proxyEndpoint,
    host: hostOfEndpoint(data.proxyEndpoint),
    expiresAt: data.expiresAt,
  };
}

export interface RepositoryInfo {
  name: string;
  uri: string | undefined;
  mutability: TagMutability;
  /** True when this call created it. */
  created: boolean;
}

function mutabilityOf(repo: EcrSdk.Repository): TagMutability {
  return {
    mode: repo.imageTagMutability ?? 'MUTABLE',
    exclusions: (repo.imageTagMutabilityExclusionFilters ?? [])
      .map((f) => f.filter)
      .filter((f): f is string => typeof f === 'string'),
  };
}

/**
 * Describes a repository, creating it (tags mutable, scan on push) when it is missing and `create` is set;
 * undefined when it is missing and `create` is not set.
 */
export async function findRepository(
  context: EcrContext,
  name: string,
  create: boolean,
): Promise<RepositoryInfo | undefined> {
  const { DescribeRepositoriesCommand, CreateRepositoryCommand } = context.sdk;
  try {
    const answer = await context.client.send(
      new DescribeRepositoriesCommand({ ...registryParam(context), repositoryNames: [name] }),
      sendOptions(context),
    );
    const repo = answer.repositories?.[0];
    if (repo) {
      return { name, uri: repo.repositoryUri, mutability: mutabilityOf(repo), created: false };
    }
  } catch (error) {
    if (ecrErrorCode(error) !== 'RepositoryNotFoundException') throw error;
  }
  if (!create) return undefined;
  try {
    const answer = await context.client.send(
      new CreateRepositoryCommand({
        ...registryParam(context),
        repositoryName: name,
        imageScanningConfiguration: { scanOnPush: true },
      }),
      sendOptions(context),
    );
    context.logger.info(`Created the ECR repository ${name}.`);
    const repo = answer.repository ?? {};
    return { name, uri: repo.repositoryUri, mutability: mutabilityOf(repo), created: true };
  } catch (error) {
    // Another job created it between our two calls.
    if (ecrErrorCode(error) !== 'RepositoryAlreadyExistsException') throw error;
    return findRepository(context, name, false);
  }
}

/** One image of a repository as BatchGetImage returns it. */
export interface TaggedImage {
  digest: string;
  manifest: string;
  mediaType: string | undefined;
}

/** Where each tag points now: tag → image, tags that do not exist are absent. One request per 100 tags. */
export async function lookupTags(
  context: EcrContext,
  repository: string,
  tags: string[],
): Promise<Map<string, TaggedImage>> {
  const { BatchGetImageCommand } = context.sdk;
  const found = new Map<string, TaggedImage>();
  for (let start = 0; start < tags.length; start += 100) {
    const chunk = tags.slice(start, start + 100);
    const answer = await context.client.send(
      new BatchGetImageCommand({
        ...registryParam(context),
        repositoryName: repository,
        imageIds: chunk.map((imageTag) => ({ imageTag })),
        acceptedMediaTypes: [
          'application/vnd.docker.distribution.manifest.v2+json',
          'application/vnd.docker.distribution.manifest.list.v2+json',
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.oci.image.index.v1+json',
        ],
      }),
      sendOptions(context),
    );
    for (const image of answer.images ?? []) {
      const tag = image.imageId?.imageTag;
      const digest = image.imageId?.imageDigest;
      if (tag === undefined || digest === undefined || image.imageManifest === undefined) continue;
      found.set(tag, { digest, manifest: image.imageManifest, mediaType: image.imageManifestMediaType });
    }
    for (const failure of answer.failures ?? []) {
      if (failure.failureCode !== 'ImageNotFound' && failure.failureCode !== 'ImageTagDoesNotMatchDigest') {
        throw new Error(
          `ECR BatchGetImage failed for tag ${failure.imageId?.imageTag ?? '?'}: ${failure.failureCode ?? ''} ${failure.failureReason ?? ''}`.trim(),
        );
      }
    }
  }
  return found;
}

/** The outcome of adding one tag to an existing manifest. */
export type PutTagResult = 'added' | 'unchanged';

/**
 * Points `tag` at an image that is already in the repository (ECR PutImage with its manifest): no pull, no
 * push, the digest stays the same. An `ImageAlreadyExistsException` means the tag already points there.
 */
export async function putTag(
  context: EcrContext,
  repository: string,
  image: TaggedImage,
  tag: string,
): Promise<PutTagResult> {
  const { PutImageCommand } = context.sdk;
  try {
    await context.client.send(
      new PutImageCommand({
        ...registryParam(context),
        repositoryName: repository,
        imageManifest: image.manifest,
        ...(image.mediaType !== undefined ? { imageManifestMediaType: image.mediaType } : {}),
        imageDigest: image.digest,
        imageTag: tag,
      }),
      sendOptions(context),
    );
    return 'added';
  } catch (error) {
    if (ecrErrorCode(error) === 'ImageAlreadyExistsException') return 'unchanged';
    throw error;
  }
}

/** Size and push time of an image, from DescribeImages. */
export interface ImageDetails {
  digest: string;
  sizeInBytes: number | undefined;
  tags: string[];
  pushedAt: Date | undefined;
}

export async function describeImage(
  context: EcrContext,
  repository: string,
  reference: { tag: string } | { digest: string },
): Promise<ImageDetails | undefined> {
  const { DescribeImagesCommand } = context.sdk;
  try {
    const answer = await context.client.send(
      new DescribeImagesCommand({
        ...registryParam(context),
        repositoryName: repository,
        imageIds: ['tag' in reference ? { imageTag: reference.tag } : { imageDigest: reference.digest }],
      }),
      sendOptions(context),
    );
    const detail = answer.imageDetails?.[0];
    if (!detail?.imageDigest) return undefined;
    return {
      digest: detail.imageDigest,
      sizeInBytes: detail.imageSizeInBytes,
      tags: detail.imageTags ?? [],
      pushedAt: detail.imagePushedAt,
    };
  } catch (error) {
    if (ecrErrorCode(error) === 'ImageNotFoundException') return undefined;
    throw error;
  }
}
