import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type https from 'node:https';
import { ConfigurationError, errorMessage, type Logger } from '@planner-deploy/core';
import type { KubeConfig, User } from '@kubernetes/client-node';
import type { AwsCredentials, EksClusterInfo, EksToken } from '@planner-deploy/aws/eks';
import { decodeKubeconfigInput, secretsOfUser } from './kubeconfig-text.js';
import { createTransport, type Transport } from './transport.js';

export interface ConnectOptions {
  /** The `kubeconfig` input: YAML or its base64. Wins over everything else. */
  kubeconfig?: string | undefined;
  /** EKS cluster name: used (with `region`) when no kubeconfig input is given and no file is found. */
  clusterName?: string | undefined;
  region?: string | undefined;
  /** Kubeconfig context to use instead of current-context. */
  context?: string | undefined;
  /** Called with every credential before anything can log it (the action passes maskSecret). */
  mask?: ((value: string) => void) | undefined;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Environment (KUBECONFIG, HOME, AWS_*). Default: process.env. */
  env?: Record<string, string | undefined>;
  /** EKS seams (tests): resolve the cluster and the credentials without the SDK. */
  eks?: {
    describeCluster?: (clusterName: string, region: string, signal?: AbortSignal) => Promise<EksClusterInfo>;
    credentials?: () => Promise<AwsCredentials>;
    now?: () => Date;
  };
}

/** Where the connection's settings came from. */
export type ConnectionSource = 'kubeconfig-input' | 'kubeconfig-file' | 'eks';

/**
 * A connection to one cluster: raw requests and watches over its transport. The KubeConfig is exposed for a
 * caller that wants client-node's typed clients (`kubeConfig.makeApiClient(CoreV1Api)`); production code
 * does not, because importing the generated API classes puts the whole generated client in the bundle.
 */
export interface KubeConnection extends Transport {
  readonly kubeConfig: KubeConfig;
  readonly source: ConnectionSource;
  /** The context's namespace, else `default`. */
  readonly defaultNamespace: string;
  /** Human description for the log: `EKS cluster prod (eu-west-1)` or `context kind-dev`. */
  readonly description: string;
}

const EKS_AUTH_PROVIDER = 'planner-deploy-eks';

/**
 * Connects to a cluster, in this order: the `kubeconfig` input (base64 or YAML); else `clusterName` + `region`
 * through EKS (DescribeCluster for the endpoint and CA, and a presigned-STS bearer token refreshed before it
 * expires); else `KUBECONFIG` / `~/.kube/config`. Explicit inputs win over whatever file the runner has. `exec:` users are refused: the runner has no aws
 * CLI or kubectl. Every credential is passed to `mask` before this returns.
 */
export async function connect(options: ConnectOptions): Promise<KubeConnection> {
  const env = options.env ?? process.env;
  const mask = options.mask ?? (() => undefined);
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();

  let source: ConnectionSource;
  let description: string;
  if (options.kubeconfig !== undefined && options.kubeconfig.trim() !== '') {
    const trimmed = options.kubeconfig.trim();
    if (!trimmed.includes(':')) mask(trimmed);
    const yamlText = decodeKubeconfigInput(trimmed);
    loadKubeconfig(kc, yamlText, 'the kubeconfig input');
    source = 'kubeconfig-input';
    description = 'the kubeconfig input';
  } else if (!options.clusterName && kubeconfigFiles(env).length > 0) {
    const files = kubeconfigFiles(env);
    const [first, ...rest] = files as [string, ...string[]];
    loadKubeconfig(kc, readKubeconfigFile(first), first);
    for (const file of rest) {
      const more = new KubeConfig();
      loadKubeconfig(more, readKubeconfigFile(file), file);
      kc.mergeConfig(more, true);
    }
    source = 'kubeconfig-file';
    description = files.join(delimiter);
  } else if (options.clusterName) {
    if (!options.region) {
      throw new ConfigurationError(
        'Input "region" is required with "cluster-name" (the EKS cluster\'s region).',
        {
          title: 'Missing input: region',
        },
      );
    }
    await configureEks(kc, options.clusterName, options.region, options, mask);
    source = 'eks';
    description = `EKS cluster ${options.clusterName} (${options.region})`;
  } else {
    throw new ConfigurationError(
      'No cluster to connect to: set "cluster-name" and "region" (EKS), or "kubeconfig", or provide KUBECONFIG / ~/.kube/config.',
      { title: 'No cluster' },
    );
  }

  for (const user of kc.getUsers()) {
    for (const secret of secretsOfUser(user)) mask(secret);
  }

  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new ConfigurationError(
        `Input "context" names "${options.context}", which the kubeconfig does not have; it has ${known.length ? known.map((n) => `"${n}"`).join(', ') : 'none'}.`,
        { title: 'Invalid input: context' },
      );
    }
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster) {
    throw new ConfigurationError(
      `The kubeconfig (${description}) has no current context or its cluster is missing; set current-context or the context input.`,
      { title: 'Invalid kubeconfig' },
    );
  }
  if (user) refuseExec(user, options);
  if (source !== 'eks') description = `${description}, context ${kc.getCurrentContext()} (${cluster.server})`;
  const contextObject = kc.getContextObject(kc.getCurrentContext());

  const transport = createTransport({
    server: cluster.server,
    authorize: (opts: https.RequestOptions) => kc.applyToHTTPSOptions(opts),
    keepAuthorizerAgent: Boolean(cluster.proxyUrl),
  });
  options.logger.debug(`Connecting to ${description}.`);
  return {
    ...transport,
    kubeConfig: kc,
    source,
    description,
    defaultNamespace: contextObject?.namespace || 'default',
  };
}

function kubeconfigFiles(env: Record<string, string | undefined>): string[] {
  if (env.KUBECONFIG && env.KUBECONFIG.trim() !== '') {
    return env.KUBECONFIG.split(delimiter).filter((f) => f.trim() !== '');
  }
  const home = env.HOME || homedir();
  const file = join(home, '.kube', 'config');
  try {
    readFileSync(file);
    return [file];
  } catch {
    return [];
  }
}

function readKubeconfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError(`Cannot read the kubeconfig file ${file}: ${errorMessage(error)}`, {
      title: 'Invalid kubeconfig',
    });
  }
}

function loadKubeconfig(kc: KubeConfig, text: string, where: string): void {
  try {
    kc.loadFromString(text);
  } catch (error) {
    // The parser's message may quote the offending line, which can hold a credential: keep only its first line
    // minus anything after a colon.
    const first = errorMessage(error).split('\n')[0]?.split(':')[0] ?? 'parse error';
    throw new ConfigurationError(`${where} is not a valid kubeconfig (${first}).`, {
      title: 'Invalid kubeconfig',
    });
  }
}

function refuseExec(user: User, options: ConnectOptions): void {
  const exec = user.exec as { command?: string; args?: string[] } | null | undefined;
  const viaAuthProvider = (user.authProvider as { name?: string } | null | undefined)?.name === 'exec';
  if (!exec && !viaAuthProvider) return;
  const command = exec?.command ?? 'a credential plugin';
  const args = exec?.args ?? [];
  const at = args.indexOf('--cluster-name');
  const clusterHint = at >= 0 ? args[at + 1] : undefined;
  const hint = clusterHint
    ? ` For EKS, drop the kubeconfig and set cluster-name: ${clusterHint} and region instead; the action builds the EKS token itself.`
    : ' For EKS, set cluster-name and region instead; the action builds the EKS token itself.';
  throw new ConfigurationError(
    `The kubeconfig user "${user.name}" authenticates with an exec plugin (${command}), which cannot run here: the runner has no aws CLI or kubectl and actions never shell out.${hint} Otherwise use a kubeconfig with a token or a client certificate${options.context ? '' : ' (or pick another context)'}.`,
    { title: 'Unsupported kubeconfig' },
  );
}

async function configureEks(
  kc: KubeConfig,
  clusterName: string,
  region: string,
  options: ConnectOptions,
  mask: (value: string) => void,
): Promise<void> {
  // Only the EKS part of packages/aws: its subpath export keeps the RDS and ECR clients out of kube's bundles.
  const aws = await import('@planner-deploy/aws/eks');
  const describe =
    options.eks?.describeCluster ??
    ((name: string, reg: string, signal?: AbortSignal) =>
      aws.describeEksCluster({ clusterName: name, region: reg, ...(signal ? { abortSignal: signal } : {}) }));
  const info = await describe(clusterName, region, options.signal);
  let credentials = options.eks?.credentials;
  if (!credentials) credentials = await aws.defaultCredentials();
  const now = options.eks?.now ?? (() => new Date());
  const env = options.env ?? process.env;

  let current: EksToken | undefined;
  let pending: Promise<EksToken> | undefined;
  const fresh = async (): Promise<EksToken> => {
    if (current && now().getTime() < current.expiresAt.getTime()) return current;
    pending ??= (async () => {
      try {
        const creds = await credentials();
        const token = await aws.createEksToken({ clusterName, region, credentials: creds, now: now(), env });
        mask(token.token);
        if (current) options.logger.debug(`Refreshed the EKS token for ${clusterName}.`);
        current = token;
        return token;
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };
  await fresh();

  kc.addAuthenticator({
    isAuthProvider: (user: User) =>
      (user.authProvider as { name?: string } | undefined)?.name === EKS_AUTH_PROVIDER,
    applyAuthentication: async (_user: User, opts: https.RequestOptions) => {
      const token = await fresh();
      opts.headers = { ...(opts.headers as Record<string, string>), Authorization: `Bearer ${token.token}` };
    },
  });
  kc.loadFromOptions({
    clusters: [{ name: clusterName, server: info.endpoint, caData: info.caData, skipTLSVerify: false }],
    users: [{ name: `eks-${clusterName}`, authProvider: { name: EKS_AUTH_PROVIDER, config: {} } }],
    contexts: [{ name: clusterName, cluster: clusterName, user: `eks-${clusterName}` }],
    currentContext: clusterName,
  });
}
