import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDuration } from '@planner-deploy/core';
import { imageTagProblem, repositoryProblem } from '@planner-deploy/aws';
import { AWS_REGION, CLUSTER_NAME, isDnsLabel, isDnsSubdomain } from '@planner-deploy/kube';
import { parse as parseYaml } from 'yaml';
import { UsageError, type Command } from './args.js';

export const CONFIG_FILE = 'planner-deploy.config.yaml';
export const DEFAULTS = {
  region: 'us-east-1',
  repository: 'planner-app',
  cluster: 'planner-production-cluster',
  deployment: 'planner-app',
  timeout: '10m',
  migrationCommand: ['alembic', 'upgrade', 'head'],
} as const;

/** One environment of the config file (every key optional). */
export interface EnvironmentConfig {
  namespace?: string;
  deployment?: string;
  cluster?: string;
  region?: string;
  repository?: string;
  kubeconfig?: string;
  dbInstance?: string;
  migrationCommand?: string[];
  timeout?: string;
  url?: string;
}

export interface ConfigFile {
  path: string;
  defaults: EnvironmentConfig;
  environments: Record<string, EnvironmentConfig>;
}

export type Source = 'flag' | 'env' | 'config' | 'default';

/** Everything a command needs, resolved flag > environment variable > config file > default. */
export interface Settings {
  env: string;
  namespace: string;
  deployment: string;
  cluster: string;
  region: string;
  repository: string;
  /** A kubeconfig file: connect with it instead of EKS. */
  kubeconfig?: string | undefined;
  dbInstance?: string | undefined;
  migrationCommand: string[];
  timeoutMs: number;
  url?: string | undefined;
  configPath?: string | undefined;
  /** Where each setting came from (shown with --verbose, and in --json). */
  sources: Record<string, Source>;
}

const ENV_KEYS: (keyof EnvironmentConfig)[] = [
  'namespace',
  'deployment',
  'cluster',
  'region',
  'repository',
  'kubeconfig',
  'dbInstance',
  'migrationCommand',
  'timeout',
  'url',
];

function bad(message: string, command?: Command): never {
  throw new UsageError(message, command);
}

/** Reads the config file: `--config PATH`, else ./planner-deploy.config.yaml when it exists, else none. */
export function loadConfig(explicit: string | undefined, cwd: string): ConfigFile | undefined {
  const path = explicit !== undefined ? resolve(cwd, explicit) : resolve(cwd, CONFIG_FILE);
  if (!existsSync(path)) {
    if (explicit !== undefined) bad(`--config "${explicit}": no such file.`);
    return undefined;
  }
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    bad(`${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return { path, defaults: {}, environments: {} };
  if (typeof data !== 'object' || Array.isArray(data))
    bad(`${path}: expected a mapping with "environments".`);
  const top = data as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (key !== 'defaults' && key !== 'environments') {
      bad(`${path}: unknown key "${key}"; allowed: defaults, environments.`);
    }
  }
  const defaults = readEnvironment(path, 'defaults', top.defaults);
  const environments: Record<string, EnvironmentConfig> = {};
  const envs = top.environments ?? {};
  if (typeof envs !== 'object' || envs === null || Array.isArray(envs)) {
    bad(`${path}: "environments" must be a mapping of environment name to settings.`);
  }
  for (const [name, value] of Object.entries(envs as Record<string, unknown>)) {
    if (!isEnvironmentName(name)) {
      bad(
        `${path}: environment "${name}" is not a valid name (lower-case letters, digits and "-", at most 54).`,
      );
    }
    environments[name] = readEnvironment(path, `environments.${name}`, value ?? {});
  }
  return { path, defaults, environments };
}

function readEnvironment(path: string, where: string, value: unknown): EnvironmentConfig {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) bad(`${path}: ${where} must be a mapping.`);
  const out: EnvironmentConfig = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (!ENV_KEYS.includes(key as keyof EnvironmentConfig)) {
      bad(`${path}: unknown key "${where}.${key}"; allowed: ${ENV_KEYS.join(', ')}.`);
    }
    if (key === 'migrationCommand') {
      if (typeof raw === 'string') out.migrationCommand = raw.split(/\s+/).filter((s) => s !== '');
      else if (Array.isArray(raw) && raw.every((s) => typeof s === 'string') && raw.length > 0)
        out.migrationCommand = raw;
      else bad(`${path}: ${where}.migrationCommand must be a string or a list of strings.`);
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number') bad(`${path}: ${where}.${key} must be a string.`);
    (out as Record<string, string>)[key] = String(raw);
  }
  return out;
}

/** An environment name: a DNS label short enough that planner-<env> is one too. */
export function isEnvironmentName(name: string): boolean {
  return name.length <= 54 && isDnsLabel(name);
}

export interface ResolveInput {
  command: Command;
  env: string;
  flags: Record<string, string | boolean | undefined>;
  processEnv: Record<string, string | undefined>;
  config: ConfigFile | undefined;
  cwd: string;
}

/** Applies the precedence and validates every value; a UsageError names the flag (or key), the value and what is allowed. */
export function resolveSettings(input: ResolveInput): Settings {
  const { command, env, flags, processEnv, config } = input;
  if (!isEnvironmentName(env)) {
    bad(
      `environment "${env}" is not valid: expected a DNS label (lower-case letters, digits and "-", starting and ending with a letter or digit, at most 54), e.g. staging or production.`,
      command,
    );
  }
  if (config && Object.keys(config.environments).length > 0 && !config.environments[env]) {
    bad(
      `environment "${env}" is not in ${config.path}; it has: ${Object.keys(config.environments).join(', ')}.`,
      command,
    );
  }
  const fromConfig: EnvironmentConfig = { ...config?.defaults, ...config?.environments[env] };
  const sources: Record<string, Source> = {};
  const pick = (
    key: string,
    flag: string | undefined,
    envVar: string | undefined,
    configValue: string | undefined,
    fallback: string,
  ): string => {
    const flagValue = flag !== undefined ? (flags[flag] as string | undefined) : undefined;
    const envValue = envVar !== undefined ? processEnv[envVar] : undefined;
    if (flagValue !== undefined) {
      sources[key] = 'flag';
      return flagValue;
    }
    if (envValue !== undefined && envValue !== '') {
      sources[key] = 'env';
      return envValue;
    }
    if (configValue !== undefined) {
      sources[key] = 'config';
      return configValue;
    }
    sources[key] = 'default';
    return fallback;
  };
  const where = (key: string, flag: string, configKey: string): string =>
    sources[key] === 'flag'
      ? `--${flag}`
      : sources[key] === 'env'
        ? key === 'region'
          ? 'AWS_REGION'
          : key === 'cluster'
            ? 'EKS_CLUSTER_NAME'
            : 'ECR_REPOSITORY'
        : `${configKey} in ${config?.path ?? 'the config file'}`;

  const region = pick('region', 'region', 'AWS_REGION', fromConfig.region, DEFAULTS.region);
  if (!AWS_REGION.test(region))
    bad(
      `${where('region', 'region', 'region')} "${region}" is not an AWS region (e.g. us-east-1, eu-west-2).`,
      command,
    );
  const cluster = pick('cluster', 'cluster-name', 'EKS_CLUSTER_NAME', fromConfig.cluster, DEFAULTS.cluster);
  if (!CLUSTER_NAME.test(cluster)) {
    bad(
      `${where('cluster', 'cluster-name', 'cluster')} "${cluster}" is not an EKS cluster name: 1 to 100 letters, digits, "-" and "_", starting with a letter or digit.`,
      command,
    );
  }
  const repository = pick(
    'repository',
    'repository',
    'ECR_REPOSITORY',
    fromConfig.repository,
    DEFAULTS.repository,
  );
  const repoProblem = repositoryProblem(repository);
  if (repoProblem)
    bad(`${where('repository', 'repository', 'repository')} "${repository}": ${repoProblem}`, command);
  const namespace = pick('namespace', 'namespace', undefined, fromConfig.namespace, `planner-${env}`);
  if (!isDnsLabel(namespace)) {
    bad(
      `${where('namespace', 'namespace', 'namespace')} "${namespace}" is not a namespace name: lower-case letters, digits and "-", at most 63.`,
      command,
    );
  }
  const deployment = pick('deployment', 'deployment', undefined, fromConfig.deployment, DEFAULTS.deployment);
  if (!isDnsSubdomain(deployment)) {
    bad(
      `${where('deployment', 'deployment', 'deployment')} "${deployment}" is not a Deployment name: lower-case letters, digits, "-" and ".".`,
      command,
    );
  }
  const timeoutText = pick('timeout', 'timeout', undefined, fromConfig.timeout, DEFAULTS.timeout);
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    bad(
      `${where('timeout', 'timeout', 'timeout')} "${timeoutText}" is not a duration: use e.g. 90s, 10m or 1h30m.`,
      command,
    );
  }
  let kubeconfig: string | undefined;
  const kubeconfigText = flags.kubeconfig as string | undefined;
  if (kubeconfigText !== undefined) {
    sources.kubeconfig = 'flag';
    kubeconfig = checkFile(resolve(input.cwd, kubeconfigText), `--kubeconfig "${kubeconfigText}"`, command);
  } else if (fromConfig.kubeconfig !== undefined) {
    sources.kubeconfig = 'config';
    const base = config ? resolve(config.path, '..') : input.cwd;
    const file = fromConfig.kubeconfig.startsWith('~/')
      ? join(homedir(), fromConfig.kubeconfig.slice(2))
      : resolve(base, fromConfig.kubeconfig);
    kubeconfig = checkFile(
      file,
      `kubeconfig "${fromConfig.kubeconfig}" in ${config?.path ?? 'the config file'}`,
      command,
    );
  }
  const imageTag = flags['image-tag'] as string | undefined;
  if (imageTag !== undefined) {
    const problem = imageTagProblem(imageTag);
    if (problem) bad(`--image-tag "${imageTag}": ${problem}`, command);
  }
  if (fromConfig.dbInstance !== undefined && !/^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(fromConfig.dbInstance)) {
    bad(`dbInstance "${fromConfig.dbInstance}" in ${config?.path}: not an RDS instance identifier.`, command);
  }
  return {
    env,
    namespace,
    deployment,
    cluster,
    region,
    repository,
    kubeconfig,
    dbInstance: fromConfig.dbInstance,
    migrationCommand: fromConfig.migrationCommand ?? [...DEFAULTS.migrationCommand],
    timeoutMs,
    url: fromConfig.url,
    configPath: config?.path,
    sources,
  };
}

function checkFile(path: string, what: string, command: Command): string {
  try {
    if (statSync(path).isFile()) return path;
  } catch {
    // falls through
  }
  return bad(`${what}: no such file.`, command);
}

/** A whole number within bounds, or a UsageError naming the flag. */
export function parseCount(flag: string, text: string, min: number, max: number, command: Command): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    bad(`${flag} "${text}" is not valid: expected a whole number from ${min} to ${max}.`, command);
  }
  return n;
}
