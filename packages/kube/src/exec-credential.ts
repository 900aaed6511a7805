import { ConfigurationError } from '@planner-deploy/core';
import { AWS_REGION } from './connection-inputs.js';

/**
 * What a kubeconfig's `exec` entry of `aws eks get-token` or `aws-iam-authenticator token` asks for, so the
 * token can be built in-process (no aws CLI on the runner, and actions never shell out).
 */
export interface EksExecAuth {
  /** Which plugin the kubeconfig names, for the log: `aws eks get-token` or `aws-iam-authenticator token`. */
  plugin: string;
  /** The signed `x-k8s-aws-id`: the cluster name (`--cluster-name`, `-i`) or an Outposts cluster's id (`--cluster-id`). */
  clusterId: string;
  /** `--region`, else AWS_REGION / AWS_DEFAULT_REGION of the exec env, then of the process. */
  region: string;
  /** A role to assume with STS AssumeRole before signing (`--role-arn`, `--role`, `-r`). */
  roleArn?: string;
  /** RoleSessionName when a role is assumed. */
  sessionName: string;
  externalId?: string;
  /** The profile the credential chain reads (`--profile`, or AWS_PROFILE in the exec env). */
  profile?: string;
}

/** A kubeconfig user as client-node parses it, as far as exec detection needs it. */
export interface ExecUser {
  name: string;
  exec?: unknown;
  authProvider?: unknown;
}

/** The session name `aws eks get-token --role-arn` uses when none is given. */
export const AWS_CLI_SESSION_NAME = 'EKSGetTokenAuth';
/** Ours for aws-iam-authenticator (its own default is a timestamped name). */
export const AUTHENTICATOR_SESSION_NAME = 'planner-deploy';

const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const CLUSTER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** Exec env entries we honour; any other would change what the plugin does in a way we cannot reproduce. */
const KNOWN_ENV = new Set([
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_STS_REGIONAL_ENDPOINTS',
  'KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID',
  'DEFAULT_ROLE',
]);

const INSTEAD =
  'Use the kubeconfig that `aws eks update-kubeconfig` writes (`aws eks get-token`), or set cluster-name and region instead of a kubeconfig (the token is then built from the AWS credentials), or use a kubeconfig with a token or a client certificate.';

/** Quotes text from the kubeconfig for a message: JSON-quoted, capped (it is the user's, but may be long). */
function shown(value: string): string {
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);
}

/**
 * Reads the current user's `exec` (or `auth-provider`) entry. Returns undefined when the user has neither,
 * the EKS settings for `aws eks get-token` and `aws-iam-authenticator token`, and throws a ConfigurationError
 * naming the command and what to use instead for anything else.
 */
export function eksExecAuthOf(
  user: ExecUser,
  processEnv: Record<string, string | undefined> = process.env,
): EksExecAuth | undefined {
  const provider = user.authProvider as { name?: unknown } | null | undefined;
  if (provider) {
    const name = typeof provider.name === 'string' ? provider.name : '(unnamed)';
    throw new ConfigurationError(
      `The kubeconfig user ${shown(user.name)} authenticates with the auth-provider ${shown(name)}, which planner-deploy does not support (kubectl dropped the gcp and azure providers; their tokens come from tools that are not on the runner). ${INSTEAD}`,
      { title: 'Unsupported kubeconfig' },
    );
  }
  if (user.exec === null || user.exec === undefined) return undefined;
  if (typeof user.exec !== 'object') {
    throw new ConfigurationError(
      `The kubeconfig user ${shown(user.name)} has an exec entry that is not a mapping. ${INSTEAD}`,
      { title: 'Invalid kubeconfig' },
    );
  }
  const exec = user.exec as { command?: unknown; args?: unknown; env?: unknown };
  const command = typeof exec.command === 'string' ? exec.command : '';
  const args = Array.isArray(exec.args) ? exec.args.map((a) => String(a)) : [];
  const env = execEnv(user.name, exec.env);
  const program = basename(command);
  if (program === 'aws' && args.includes('eks') && args.includes('get-token')) {
    return awsEksGetToken(user.name, args, env, processEnv);
  }
  if (program === 'aws-iam-authenticator' && args[0] === 'token') {
    return iamAuthenticatorToken(user.name, args.slice(1), env, processEnv);
  }
  const what = program === 'aws' ? `aws ${args.slice(0, 3).join(' ')}` : command || '(no command)';
  throw new ConfigurationError(
    `The kubeconfig user ${shown(user.name)} authenticates with the exec plugin ${shown(what)}, which cannot run here: actions never shell out, and the runner has no such tool. planner-deploy builds the token itself only for \`aws eks get-token\` and \`aws-iam-authenticator token\`. ${INSTEAD}`,
    { title: 'Unsupported kubeconfig' },
  );
}

function basename(command: string): string {
  const last = command.split(/[\\/]/).pop() ?? '';
  return last.replace(/\.(exe|cmd)$/i, '');
}

function execEnv(userName: string, raw: unknown): Map<string, string> {
  const env = new Map<string, string>();
  if (raw === null || raw === undefined) return env;
  if (!Array.isArray(raw)) {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} has an env that is not a list of {name, value}.`,
      { title: 'Invalid kubeconfig' },
    );
  }
  for (const entry of raw as unknown[]) {
    const e = (entry ?? {}) as { name?: unknown; value?: unknown };
    if (typeof e.name !== 'string') {
      throw new ConfigurationError(
        `The exec entry of kubeconfig user ${shown(userName)} has an env entry without a name.`,
        { title: 'Invalid kubeconfig' },
      );
    }
    if (!KNOWN_ENV.has(e.name)) {
      throw new ConfigurationError(
        `The exec entry of kubeconfig user ${shown(userName)} sets ${shown(e.name)} in its env, which planner-deploy does not honour (it builds the token in-process and honours ${[...KNOWN_ENV].join(', ')}). Remove that entry, or set cluster-name and region instead of a kubeconfig.`,
        { title: 'Unsupported kubeconfig' },
      );
    }
    env.set(
      e.name,
      typeof e.value === 'string' || typeof e.value === 'number' || typeof e.value === 'boolean'
        ? String(e.value)
        : '',
    );
  }
  return env;
}

interface OptionSpec {
  /** Flag spellings (`--role-arn`, `--role`, `-r`) → the setting they give. */
  names: Record<string, string>;
  /** Flags without a value, accepted and ignored (they change only how the plugin prints). */
  switches: Set<string>;
}

/**
 * Reads `--flag value` and `--flag=value` pairs. Positionals are returned apart. An unknown flag is an error:
 * we could not do what it asks of the plugin.
 */
function readFlags(
  userName: string,
  plugin: string,
  args: string[],
  spec: OptionSpec,
): { values: Map<string, string>; positionals: string[] } {
  const values = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (spec.switches.has(flag)) continue;
    const setting = spec.names[flag];
    if (setting === undefined) {
      const known = [...Object.keys(spec.names), ...spec.switches].join(', ');
      throw new ConfigurationError(
        `The exec entry of kubeconfig user ${shown(userName)} passes ${shown(flag)} to ${plugin}, which planner-deploy does not understand (it builds the token in-process and knows ${known}). Remove it, or set cluster-name and region instead of a kubeconfig.`,
        { title: 'Unsupported kubeconfig' },
      );
    }
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = args[i + 1];
      if (value === undefined || value.startsWith('-')) value = undefined;
      else i++;
    }
    if (value === undefined || value === '') {
      throw new ConfigurationError(
        `The exec entry of kubeconfig user ${shown(userName)} passes ${flag} to ${plugin} without a value.`,
        { title: 'Invalid kubeconfig' },
      );
    }
    if (values.has(setting)) {
      throw new ConfigurationError(
        `The exec entry of kubeconfig user ${shown(userName)} gives ${flag} (or another spelling of it) twice.`,
        { title: 'Invalid kubeconfig' },
      );
    }
    values.set(setting, value);
  }
  return { values, positionals };
}

function awsEksGetToken(
  userName: string,
  args: string[],
  env: Map<string, string>,
  processEnv: Record<string, string | undefined>,
): EksExecAuth {
  const plugin = '`aws eks get-token`';
  const { values, positionals } = readFlags(userName, plugin, args, {
    names: {
      '--region': 'region',
      '--profile': 'profile',
      '--output': 'output',
      '--cluster-name': 'cluster-name',
      '--cluster-id': 'cluster-id',
      // update-kubeconfig writes `--role`, which the aws CLI takes as an abbreviation of --role-arn.
      '--role-arn': 'role-arn',
      '--role': 'role-arn',
      '--session-name': 'session-name',
    },
    switches: new Set(['--no-cli-pager', '--debug', '--no-cli-auto-prompt']),
  });
  if (positionals.join(' ') !== 'eks get-token') {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} runs aws with ${shown(positionals.join(' '))}, not \`eks get-token\`. ${INSTEAD}`,
      { title: 'Unsupported kubeconfig' },
    );
  }
  const output = values.get('output');
  if (output !== undefined && output !== 'json') {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} passes --output ${shown(output)} to aws eks get-token; kubectl needs json (what aws eks update-kubeconfig writes).`,
      { title: 'Invalid kubeconfig' },
    );
  }
  const name = values.get('cluster-name');
  const id = values.get('cluster-id');
  if (name !== undefined && id !== undefined) {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} passes both --cluster-name and --cluster-id to aws eks get-token; the aws CLI takes one of them.`,
      { title: 'Invalid kubeconfig' },
    );
  }
  const clusterId = checkedClusterId(userName, name ?? id, '--cluster-name or --cluster-id', plugin);
  const region = regionOf(userName, values.get('region'), env, processEnv, plugin);
  const profile = values.get('profile') ?? env.get('AWS_PROFILE') ?? env.get('AWS_DEFAULT_PROFILE');
  return withRole(userName, {
    plugin: 'aws eks get-token',
    clusterId,
    region,
    roleArn: values.get('role-arn'),
    sessionName: values.get('session-name') ?? AWS_CLI_SESSION_NAME,
    profile,
  });
}

function iamAuthenticatorToken(
  userName: string,
  args: string[],
  env: Map<string, string>,
  processEnv: Record<string, string | undefined>,
): EksExecAuth {
  const plugin = '`aws-iam-authenticator token`';
  const { values, positionals } = readFlags(userName, plugin, args, {
    names: {
      '-i': 'cluster-id',
      '--cluster-id': 'cluster-id',
      '-r': 'role',
      '--role': 'role',
      '-e': 'external-id',
      '--external-id': 'external-id',
      '-s': 'session-name',
      '--session-name': 'session-name',
      '--region': 'region',
      '-l': 'log-format',
      '--log-format': 'log-format',
      '--loglevel': 'log-level',
    },
    switches: new Set(['--token-only', '--cache']),
  });
  if (positionals.length > 0) {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} passes ${shown(positionals.join(' '))} to aws-iam-authenticator token, which takes no arguments.`,
      { title: 'Invalid kubeconfig' },
    );
  }
  const clusterId = checkedClusterId(
    userName,
    values.get('cluster-id') ?? env.get('KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID'),
    '-i (--cluster-id)',
    plugin,
  );
  // aws-iam-authenticator signs for the global STS endpoint (us-east-1) when no region is configured.
  const region =
    values.get('region') ??
    env.get('AWS_REGION') ??
    env.get('AWS_DEFAULT_REGION') ??
    processEnv.AWS_REGION ??
    processEnv.AWS_DEFAULT_REGION ??
    'us-east-1';
  checkRegion(userName, region, plugin);
  return withRole(userName, {
    plugin: 'aws-iam-authenticator token',
    clusterId,
    region,
    roleArn: values.get('role') ?? env.get('DEFAULT_ROLE'),
    sessionName: values.get('session-name') ?? AUTHENTICATOR_SESSION_NAME,
    externalId: values.get('external-id'),
    profile: env.get('AWS_PROFILE') ?? env.get('AWS_DEFAULT_PROFILE'),
  });
}

function checkedClusterId(
  userName: string,
  value: string | undefined,
  flags: string,
  plugin: string,
): string {
  if (value === undefined) {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} runs ${plugin} without ${flags}: the token must name the cluster.`,
      { title: 'Invalid kubeconfig' },
    );
  }
  if (!CLUSTER_ID.test(value)) {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} names the cluster ${shown(value)} for ${plugin}; expected an EKS cluster name or id: 1 to 100 letters, digits, hyphens and underscores.`,
      { title: 'Invalid kubeconfig' },
    );
  }
  return value;
}

function regionOf(
  userName: string,
  flag: string | undefined,
  env: Map<string, string>,
  processEnv: Record<string, string | undefined>,
  plugin: string,
): string {
  const region =
    flag ??
    env.get('AWS_REGION') ??
    env.get('AWS_DEFAULT_REGION') ??
    processEnv.AWS_REGION ??
    processEnv.AWS_DEFAULT_REGION;
  if (region === undefined || region === '') {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} runs ${plugin} without --region, and AWS_REGION is not set: add --region <the cluster's region> to its args (aws eks update-kubeconfig writes it), or set AWS_REGION.`,
      { title: 'Invalid kubeconfig' },
    );
  }
  checkRegion(userName, region, plugin);
  return region;
}

function checkRegion(userName: string, region: string, plugin: string): void {
  if (!AWS_REGION.test(region)) {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} gives ${plugin} the region ${shown(region)}; expected an AWS region such as us-east-1.`,
      { title: 'Invalid kubeconfig' },
    );
  }
}

function withRole(
  userName: string,
  auth: Omit<EksExecAuth, 'roleArn' | 'externalId' | 'profile'> & {
    roleArn: string | undefined;
    externalId?: string | undefined;
    profile: string | undefined;
  },
): EksExecAuth {
  const { roleArn, externalId, profile, ...rest } = auth;
  if (roleArn !== undefined && !ROLE_ARN.test(roleArn)) {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} asks ${auth.plugin} to assume ${shown(roleArn)}, which is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>).`,
      { title: 'Invalid kubeconfig' },
    );
  }
  if (roleArn !== undefined && !SESSION_NAME.test(auth.sessionName)) {
    throw new ConfigurationError(
      `The exec entry of kubeconfig user ${shown(userName)} gives the role session name ${shown(auth.sessionName)}; expected 2 to 64 letters, digits and +=,.@_-.`,
      { title: 'Invalid kubeconfig' },
    );
  }
  return {
    ...rest,
    ...(roleArn !== undefined ? { roleArn } : {}),
    ...(externalId !== undefined ? { externalId } : {}),
    ...(profile !== undefined && profile !== '' ? { profile } : {}),
  };
}
