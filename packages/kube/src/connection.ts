import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type https from 'node:https';
import {
  ConfigurationError,
  errorMessage,
  redactUrl,
  urlCredentials,
  type Logger,
} from '@planner-deploy/core';
import type { Cluster, KubeConfig, User } from '@kubernetes/client-node';
import type { AwsCredentials, EksClusterInfo, EksToken } from '@planner-deploy/aws/eks';
import { eksExecAuthOf, type EksExecAuth } from './exec-credential.js';
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
  /**
   * The EKS cluster behind the connection, when it is known: reached by cluster name, or through a kubeconfig
   * whose user runs `aws eks get-token` / `aws-iam-authenticator token` (as `aws eks update-kubeconfig` writes it),
   * with the credentials its token is signed with. What the EKS API is asked about (its Fargate profiles).
   */
  readonly eksCluster?: EksClusterRef;
}

export interface EksClusterRef {
  clusterName: string;
  region: string;
  /** The credentials of the kubeconfig's exec entry (its profile, its role); absent: the default chain. */
  credentials?: () => Promise<AwsCredentials>;
}

const EKS_AUTH_PROVIDER = 'planner-deploy-eks';

/**
 * Connects to a cluster, in this order: the `kubeconfig` input (base64 or YAML); else `clusterName` + `region`
 * through EKS (DescribeCluster for the endpoint and CA, and a presigned-STS bearer token refreshed before it
 * expires); else `KUBECONFIG` / `~/.kube/config`. Explicit inputs win over whatever file the runner has. A user
 * whose `exec` runs `aws eks get-token` or `aws-iam-authenticator token` gets the same token built in-process
 * (no aws CLI on the runner); any other exec plugin or auth-provider is refused with what to use instead.
 * Servers are taken as kubectl takes them: `http://` (kubectl proxy), `insecure-skip-tls-verify`,
 * `tls-server-name`. Every credential is passed to `mask` before this returns.
 */
export async function connect(options: ConnectOptions): Promise<KubeConnection> {
  const env = options.env ?? process.env;
  const mask = options.mask ?? (() => undefined);
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();

  let source: ConnectionSource;
  let description: string;
  let eksCluster: EksClusterRef | undefined;
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
    eksCluster = { clusterName: options.clusterName, region: options.region };
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
  // A server URL may carry credentials (`https://user:password@host`, `https://TOKEN@host`): masked here,
  // and the server is only ever described with them replaced by ***.
  for (const cluster of kc.getClusters()) {
    for (const secret of urlCredentials(cluster.server)) mask(secret);
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
  // The cluster-name path's own user is our provider's entry; any other user's exec or auth-provider is read.
  const execAuth = user && source !== 'eks' ? eksExecAuthOf(user, env) : undefined;
  if (execAuth && user) {
    eksCluster = await configureExecEks(kc, user.name, execAuth, options, mask);
    description = `${description} (${execAuth.plugin} for ${execAuth.clusterId}, built in-process)`;
  }
  if (cluster.server.startsWith('http:')) allowPlainHttp(kc, cluster);
  const kubeconfigDescription = description;
  if (source !== 'eks')
    description = `${description}, context ${kc.getCurrentContext()} (${redactUrl(cluster.server)})`;
  const contextObject = kc.getContextObject(kc.getCurrentContext());

  const transport = createTransport({
    where:
      source === 'eks' || execAuth
        ? {
            cluster: description,
            ...(source === 'eks' ? {} : { context: kc.getCurrentContext() }),
            credential: execAuth
              ? `the EKS token for cluster "${execAuth.clusterId}" (the kubeconfig's ${execAuth.plugin}, signed in-process with the job's AWS credentials)`
              : 'the EKS token signed with the AWS credentials of the job',
            credentialAdvice: `Check that the AWS credentials (e.g. aws-actions/configure-aws-credentials) are valid and for the account of cluster ${execAuth ? execAuth.clusterId : (options.clusterName ?? '')}, that the name is the cluster's, and that this IAM identity has an access entry in the cluster (or an aws-auth mapping).`,
          }
        : {
            cluster: description,
            context: kc.getCurrentContext(),
            credential: user
              ? `the credentials of user "${user.name}" in ${kubeconfigDescription}`
              : 'no credentials (the context has no user)',
            credentialAdvice: `Check that this user's token or client certificate is current (not expired or revoked) and was issued for this cluster; an old KUBE_CONFIG_DATA secret or a kubeconfig of another cluster is the usual cause.`,
          },
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
    ...(eksCluster ? { eksCluster } : {}),
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
  const credentials = options.eks?.credentials ?? (await aws.defaultCredentials());
  await addEksTokenAuthenticator(kc, { clusterId: clusterName, region, credentials }, options, mask);
  kc.loadFromOptions({
    clusters: [{ name: clusterName, server: info.endpoint, caData: info.caData, skipTLSVerify: false }],
    users: [{ name: `eks-${clusterName}`, authProvider: { name: EKS_AUTH_PROVIDER, config: {} } }],
    contexts: [{ name: clusterName, cluster: clusterName, user: `eks-${clusterName}` }],
    currentContext: clusterName,
  });
}

/**
 * The kubeconfig's `aws eks get-token` / `aws-iam-authenticator token` user, done in-process: the same token
 * those commands print (credentials from the default chain, or the exec env's profile; a role assumed through
 * STS when they name one), refreshed as for cluster-name. The server and CA stay the kubeconfig's.
 */
async function configureExecEks(
  kc: KubeConfig,
  userName: string,
  auth: EksExecAuth,
  options: ConnectOptions,
  mask: (value: string) => void,
): Promise<EksClusterRef> {
  const aws = await import('@planner-deploy/aws/eks');
  let credentials: () => Promise<AwsCredentials> =
    options.eks?.credentials ??
    (await aws.defaultCredentials({
      profile: auth.profile,
      debug: (message) => options.logger.debug(message),
    }));
  if (auth.profile !== undefined) credentials = explainProfileErrors(credentials, auth.profile, userName);
  if (auth.roleArn !== undefined) {
    credentials = aws.assumeRoleCredentials({
      roleArn: auth.roleArn,
      sessionName: auth.sessionName,
      externalId: auth.externalId,
      region: auth.region,
      source: credentials,
      mask,
      ...(options.eks?.now ? { now: options.eks.now } : {}),
    });
  }
  options.logger.debug(
    `Kubeconfig user ${userName}: ${auth.plugin} for ${auth.clusterId} in ${auth.region}${auth.roleArn ? ` as ${auth.roleArn}` : ''}${auth.profile ? ` (profile ${auth.profile})` : ''}, token built in-process.`,
  );
  await addEksTokenAuthenticator(
    kc,
    { clusterId: auth.clusterId, region: auth.region, credentials },
    options,
    mask,
  );
  // client-node would run the exec command itself (its ExecAuth comes before custom authenticators): the
  // user is replaced by our provider's entry, everything else of the kubeconfig kept.
  kc.loadFromOptions({
    clusters: kc.getClusters(),
    users: kc
      .getUsers()
      .map((u) =>
        u.name === userName ? { name: u.name, authProvider: { name: EKS_AUTH_PROVIDER, config: {} } } : u,
      ),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  return { clusterName: auth.clusterId, region: auth.region, credentials };
}

function explainProfileErrors(
  credentials: () => Promise<AwsCredentials>,
  profile: string,
  userName: string,
): () => Promise<AwsCredentials> {
  return async () => {
    try {
      return await credentials();
    } catch (error) {
      throw new ConfigurationError(
        `The kubeconfig user "${userName}" signs its EKS token with the AWS profile "${profile}" (AWS_PROFILE in its exec env, as aws eks update-kubeconfig --profile writes it), and no credentials come from that profile here: ${errorMessage(error)}. On a runner, remove the env entry from the kubeconfig so the runner's credentials (e.g. from aws-actions/configure-aws-credentials) are used, or provide that profile in ~/.aws/config.`,
        { title: 'AWS profile not found', cause: error },
      );
    }
  };
}

/**
 * Registers the EKS token authenticator: a presigned-STS token for `clusterId`, built now (so bad credentials
 * fail the connection, not the first request) and rebuilt before it expires; every token is masked.
 */
async function addEksTokenAuthenticator(
  kc: KubeConfig,
  target: { clusterId: string; region: string; credentials: () => Promise<AwsCredentials> },
  options: ConnectOptions,
  mask: (value: string) => void,
): Promise<void> {
  const aws = await import('@planner-deploy/aws/eks');
  const now = options.eks?.now ?? (() => new Date());
  const env = options.env ?? process.env;
  const { clusterId, region, credentials } = target;

  let current: EksToken | undefined;
  let pending: Promise<EksToken> | undefined;
  const fresh = async (): Promise<EksToken> => {
    if (current && now().getTime() < current.expiresAt.getTime()) return current;
    pending ??= (async () => {
      try {
        const creds = await credentials();
        const token = await aws.createEksToken({
          clusterName: clusterId,
          region,
          credentials: creds,
          now: now(),
          env,
        });
        mask(token.token);
        if (current) options.logger.debug(`Refreshed the EKS token for ${clusterId}.`);
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
}

/**
 * An `http://` server, as `kubectl proxy` serves it: kubectl takes it as is. client-node refuses it unless
 * insecure-skip-tls-verify is set (there is no TLS to verify), so the cluster entry gets that flag; our
 * transport then speaks plain HTTP to it.
 */
function allowPlainHttp(kc: KubeConfig, cluster: Cluster): void {
  kc.loadFromOptions({
    clusters: kc.getClusters().map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c)),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
}
