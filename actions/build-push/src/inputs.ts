import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import {
  ConfigurationError,
  getBoolean,
  getEnum,
  getLines,
  getList,
  getOptionalString,
  getRequiredString,
  invalidInput,
  maskSecret,
  parseMap,
} from '@planner-deploy/action-kit';
// Names, tags and build specs only: the ECR SDK is imported after validation, by run.ts.
import {
  imageLabels,
  imageTagProblem,
  imageTags,
  isCommitSha,
  isRegistryProblem,
  parseRegistry,
  repositoryProblem,
  sourceCommit,
  splitRepository,
  type BuildSecret,
  type CacheMode,
  type RegistryRef,
  type SourceInfo,
} from '@planner-deploy/aws/ecr';

/** The inputs of action.yml, validated before any request or command. */
export interface Inputs {
  /** The ECR repository name (without the registry). */
  repository: string;
  registry: RegistryRef;
  'create-repository': boolean;
  /** The build context: an absolute directory, or a Git/HTTP URL as given. */
  context: string;
  /** The Dockerfile, absolute; undefined = docker's default (<context>/Dockerfile). */
  file: string | undefined;
  target: string | undefined;
  'build-args': Record<string, string>;
  /** Build secrets; their values are masked as soon as they are read. */
  secrets: BuildSecret[];
  platforms: string[];
  /** The extra tags as given. */
  tags: string[];
  environment: string | undefined;
  push: boolean;
  'skip-if-exists': boolean;
  cache: CacheMode;
  /** The default OCI labels with the user's on top. */
  labels: Record<string, string>;
  /** vX.Y.Z, or undefined. */
  'buildx-version': string | undefined;
  /** The AWS region of the registry; undefined only when push is false. */
  region: string | undefined;
  /** Every tag of the image, the commit SHA first. */
  imageTags: string[];
  source: SourceInfo;
  /** GITHUB_WORKSPACE, where relative paths start and docker runs. */
  workspace: string;
}

const BUILD_ARG = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const STAGE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ENVIRONMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const BUILDX_VERSION = /^v?(\d+\.\d+\.\d+(?:-rc\.?\d+)?)$/;
const OS = ['linux', 'windows', 'darwin', 'freebsd'];
const ARCH = ['amd64', 'arm64', 'arm', '386', 'ppc64le', 's390x', 'riscv64', 'mips64le', 'loong64'];
const REMOTE_CONTEXT = /^(?:https?:\/\/|git@|git:\/\/|github\.com\/)/;

export function readInputs(env: Record<string, string | undefined> = process.env): Inputs {
  // Secrets first: masked before anything else can print them.
  const secrets = readSecrets();
  const workspace = resolve(env.GITHUB_WORKSPACE?.trim() || process.cwd());
  const { repository, registry } = readRepository();
  const source = readSource(env);
  const environment = readEnvironment();
  const extraTags = readTags();
  const context = readContext(workspace);
  const file = readFile(workspace, context);
  const target = readTarget();
  const buildArgs = readBuildArgs();
  const platforms = readPlatforms();
  const push = getBoolean('push', true);
  const region = readRegion(env, registry, push);
  const buildxVersion = readBuildxVersion();
  const labels = readLabels(source);
  const allTags = imageTags({ source, environment, extra: extraTags });
  return {
    repository,
    registry,
    'create-repository': getBoolean('create-repository', false),
    context,
    file,
    target,
    'build-args': buildArgs,
    secrets,
    platforms,
    tags: extraTags,
    environment,
    push,
    'skip-if-exists': getBoolean('skip-if-exists', true),
    cache: getEnum('cache', ['gha', 'registry', 'none'] as const, 'gha'),
    labels,
    'buildx-version': buildxVersion,
    region,
    imageTags: allTags,
    source,
    workspace,
  };
}

function readSecrets(): BuildSecret[] {
  const secrets: BuildSecret[] = [];
  for (const line of getLines('secrets')) {
    const at = line.indexOf('=');
    const id = at < 0 ? '' : line.slice(0, at).trim();
    const value = at < 0 ? '' : line.slice(at + 1).trim();
    if (value !== '') maskSecret(value);
    if (!SECRET_ID.test(id)) {
      // Never quote the line: it may hold the secret itself.
      throw new ConfigurationError(
        `Input "secrets" has an invalid line${id !== '' ? ` for id "${id}"` : ''}: expected one "id=value" per line, the id made of letters, digits, _ . and - (at most 64).`,
        { title: 'Invalid input: secrets' },
      );
    }
    if (value === '') {
      throw new ConfigurationError(`Input "secrets" gives no value for the secret "${id}".`, {
        title: 'Invalid input: secrets',
      });
    }
    if (secrets.some((s) => s.id === id)) {
      throw new ConfigurationError(`Input "secrets" gives the secret "${id}" more than once.`, {
        title: 'Invalid input: secrets',
      });
    }
    secrets.push({ id, value });
  }
  return secrets;
}

function readRepository(): { repository: string; registry: RegistryRef } {
  const given = getRequiredString('repository');
  const split = splitRepository(given);
  const problem = repositoryProblem(split.name);
  if (problem !== undefined) {
    throw invalidInput('repository', given, `${problem} (for example planner/app).`);
  }
  const registryText = getOptionalString('registry');
  const registry = parseRegistry(registryText);
  if (isRegistryProblem(registry)) {
    throw invalidInput(
      'registry',
      registryText ?? '',
      `${registry.problem}; expected an AWS account id (123456789012) or a registry URI (123456789012.dkr.ecr.eu-west-1.amazonaws.com).`,
    );
  }
  if (split.host === undefined) return { repository: split.name, registry };
  const fromRepository = parseRegistry(split.host);
  if (isRegistryProblem(fromRepository)) {
    throw invalidInput('repository', given, `${fromRepository.problem}.`);
  }
  if (registry.kind === 'host' && registry.host !== split.host) {
    throw invalidInput(
      'repository',
      given,
      `it names the registry ${split.host}, but input "registry" is ${registry.host}; give the registry once.`,
    );
  }
  if (
    registry.kind === 'account' &&
    fromRepository.kind === 'host' &&
    fromRepository.accountId !== registry.accountId
  ) {
    throw invalidInput(
      'repository',
      given,
      `it names account ${fromRepository.accountId ?? split.host}, but input "registry" is ${registry.accountId}.`,
    );
  }
  return { repository: split.name, registry: fromRepository };
}

function readSource(env: Record<string, string | undefined>): SourceInfo {
  // A job that checks out another ref (a reusable workflow's `ref` input) builds that commit, not the
  // workflow's: `sha` names it (actions/checkout's `commit` output), else the workflow's commit.
  const given = getOptionalString('sha');
  if (given !== undefined) {
    if (!isCommitSha(given)) {
      throw invalidInput(
        'sha',
        given,
        "expected the full commit SHA the image is built from (40 or 64 lowercase hex digits), e.g. actions/checkout's `commit` output.",
      );
    }
    return { ...sourceRefs(env), sha: given };
  }
  const sha = sourceCommit(env);
  if (sha === undefined || !isCommitSha(sha)) {
    throw new ConfigurationError(
      `The commit SHA is ${sha === undefined ? 'unknown: GITHUB_SHA is not set' : `not a full commit SHA: ${JSON.stringify(sha)}`}. The image's main tag is the commit it is built from; run this action in a workflow (or set GITHUB_SHA).`,
      { title: 'No commit SHA' },
    );
  }
  return { ...sourceRefs(env), sha };
}

function sourceRefs(env: Record<string, string | undefined>): Omit<SourceInfo, 'sha'> {
  return {
    ref: env.GITHUB_REF?.trim() || undefined,
    repository: env.GITHUB_REPOSITORY?.trim() || undefined,
    serverUrl: env.GITHUB_SERVER_URL?.trim() || undefined,
  };
}

function readEnvironment(): string | undefined {
  const environment = getOptionalString('environment');
  if (environment !== undefined && !ENVIRONMENT.test(environment)) {
    throw invalidInput(
      'environment',
      environment,
      `it becomes the tag "<environment>-latest": expected letters, digits, _ . and - (not starting with . or -), at most 121 characters.`,
    );
  }
  return environment;
}

function readTags(): string[] {
  const tags = getList('tags');
  for (const tag of tags) {
    const problem = imageTagProblem(tag);
    if (problem !== undefined) throw invalidInput('tags', tag, `${problem}.`);
  }
  if (tags.length > 100) {
    throw invalidInput('tags', tags.slice(0, 3).join(','), `${tags.length} tags given; at most 100.`);
  }
  return tags;
}

function readContext(workspace: string): string {
  const given = getOptionalString('context') ?? '.';
  if (REMOTE_CONTEXT.test(given)) return given;
  const path = isAbsolute(given) ? given : resolve(workspace, given);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw invalidInput(
      'context',
      given,
      `no such directory (${path}); expected the build context, a directory relative to the workspace (check out the repository first), or a Git URL.`,
    );
  }
  return path;
}

function readFile(workspace: string, context: string): string | undefined {
  const given = getOptionalString('file');
  const remote = REMOTE_CONTEXT.test(context);
  if (given === undefined) {
    if (remote) return undefined;
    const fallback = join(context, 'Dockerfile');
    if (!existsSync(fallback)) {
      throw new ConfigurationError(
        `Input "file" is not set and the context has no Dockerfile (${fallback}); set "file" to the Dockerfile to build.`,
        { title: 'Missing input: file' },
      );
    }
    return undefined;
  }
  if (remote) return given;
  const path = isAbsolute(given) ? given : resolve(workspace, given);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw invalidInput(
      'file',
      given,
      `no such file (${path}); expected a Dockerfile, relative to the workspace.`,
    );
  }
  return path;
}

function readTarget(): string | undefined {
  const target = getOptionalString('target');
  if (target !== undefined && !STAGE.test(target)) {
    throw invalidInput('target', target, 'expected the name of a build stage (FROM … AS <name>).');
  }
  return target;
}

function readBuildArgs(): Record<string, string> {
  const args = parseMap('build-args', getLines('build-args'), '=');
  for (const key of args.keys()) {
    if (!BUILD_ARG.test(key)) {
      throw invalidInput('build-args', key, 'expected NAME=value lines, NAME made of letters, digits and _.');
    }
  }
  return Object.fromEntries(args);
}

function readPlatforms(): string[] {
  const platforms = getList('platforms');
  for (const platform of platforms) {
    const [os, arch, variant, ...rest] = platform.split('/');
    const ok =
      os !== undefined &&
      OS.includes(os) &&
      arch !== undefined &&
      ARCH.includes(arch) &&
      (variant === undefined || /^v\d+$/.test(variant)) &&
      rest.length === 0;
    if (!ok) {
      throw invalidInput(
        'platforms',
        platform,
        `expected os/arch[/variant] such as linux/amd64, linux/arm64 or linux/arm/v7 (os: ${OS.join(', ')}; arch: ${ARCH.join(', ')}).`,
      );
    }
  }
  return [...new Set(platforms)];
}

function readRegion(
  env: Record<string, string | undefined>,
  registry: RegistryRef,
  push: boolean,
): string | undefined {
  const given = getOptionalString('region');
  const fromRegistry = registry.kind === 'host' ? registry.region : undefined;
  const fromEnv = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined;
  if (given !== undefined && !REGION.test(given)) {
    throw invalidInput('region', given, 'expected an AWS region such as us-east-1 or eu-west-2.');
  }
  if (given !== undefined && fromRegistry !== undefined && given !== fromRegistry) {
    throw invalidInput(
      'region',
      given,
      `the registry is in ${fromRegistry}; leave "region" empty or make them agree.`,
    );
  }
  const region = given ?? fromRegistry ?? fromEnv;
  if (region === undefined) {
    if (!push) return undefined;
    throw new ConfigurationError(
      'Input "region" is required when AWS_REGION is not set and "registry" names no region (aws-actions/configure-aws-credentials sets AWS_REGION).',
      { title: 'Missing input: region' },
    );
  }
  if (!REGION.test(region)) {
    throw invalidInput('region', region, 'expected an AWS region such as us-east-1 (taken from AWS_REGION).');
  }
  return region;
}

function readBuildxVersion(): string | undefined {
  const given = getOptionalString('buildx-version');
  if (given === undefined) return undefined;
  const match = BUILDX_VERSION.exec(given);
  if (!match) {
    throw invalidInput('buildx-version', given, 'expected a buildx release such as v0.19.3 (or 0.19.3).');
  }
  return `v${match[1] as string}`;
}

function readLabels(source: SourceInfo): Record<string, string> {
  const user = parseMap('labels', getLines('labels'), '=');
  for (const key of user.keys()) {
    if (!LABEL_KEY.test(key)) {
      throw invalidInput(
        'labels',
        key,
        'expected key=value lines, the key like org.opencontainers.image.vendor.',
      );
    }
  }
  return imageLabels(source, Object.fromEntries(user));
}
