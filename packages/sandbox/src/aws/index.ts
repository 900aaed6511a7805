import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRegistry, type RegistryInfo } from '../registry.js';
import { EcrState } from './ecr.js';
import { DEFAULT_CLUSTER_NAME, type KubeEndpoint } from './eks.js';
import { readWireRequest, sendWireResponse } from './http.js';
import { RdsState } from './rds-state.js';
import { startRegistryFront, type RegistryFront } from './registry-front.js';
import { createAwsRouter, type AwsRequestRecord } from './router.js';
import type { AwsCredentials } from './sigv4.js';
import { checkEksToken, RoleSessions, type CallerIdentity } from './sts.js';

export { RdsState } from './rds-state.js';
export { RdsError, isValidRdsIdentifier, MANUAL_SNAPSHOT_QUOTA } from './rds-model.js';
export type {
  AddClusterOptions,
  AddInstanceOptions,
  AddSnapshotOptions,
  DbCluster,
  DbInstance,
  RdsFaults,
  Snapshot,
  Tag,
} from './rds-model.js';
export { EcrState, EcrError } from './ecr.js';
export type { EcrFaults, EcrRepository, RegistryEndpoint, TagMutability } from './ecr.js';
export type { EcrImage, ImageConfigSpec, ImageRuntimeConfig } from './ecr-images.js';
export type { KubeEndpoint } from './eks.js';
export { DEFAULT_CLUSTER_NAME } from './eks.js';
export type { AwsCredentials } from './sigv4.js';
export type { AwsRequestRecord } from './router.js';
export { checkEksToken, EKS_TOKEN_PREFIX } from './sts.js';
export type { EksTokenCheck, EksTokenResult } from './sts.js';
export { updateKubeconfigYaml } from './update-kubeconfig.js';
export type { UpdateKubeconfigOptions } from './update-kubeconfig.js';

/** The sandbox's test credentials: requests signed with anything else are refused. */
export const SANDBOX_CREDENTIALS: AwsCredentials = {
  accessKeyId: 'AKIASANDBOX000000001',
  secretAccessKey: 'sandbox/secret/key/for/planner/deploy/tests0',
};

export interface AwsSandboxOptions {
  /** default us-east-1 */
  region?: string;
  /** default 123456789012 */
  accountId?: string;
  /** The only credentials accepted; default SANDBOX_CREDENTIALS. */
  credentials?: AwsCredentials;
  /** Real time = simulated time × timeScale (0.001 makes a 60 s snapshot take 60 ms). Default 1. */
  timeScale?: number;
  /** Simulated seconds a DB snapshot takes from `creating` to `available`; default 60. */
  snapshotSeconds?: number;
  /** The Kubernetes API that EKS DescribeCluster points to (can also be set later with setKube). */
  kube?: KubeEndpoint;
  /**
   * A real registry behind ECR (see startRegistry), or 'auto' to start one now (and stop it with the
   * sandbox) when docker-registry is installed. Without one ECR keeps images in memory.
   */
  registry?: RegistryInfo | 'auto';
  /**
   * Put ECR's push rules (repository must exist, immutable tags) in front of the registry, and hand
   * that front out as proxyEndpoint/repositoryUri. Default true; false hands out the registry itself.
   */
  registryFront?: boolean;
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** The identity GetCallerIdentity and verifyEksToken report; default arn:aws:iam::<account>:user/planner-deployer. */
  callerArn?: string;
  /** IAM actions the identity is denied (e.g. `eks:ListFargateProfiles`); more with `deny()`. */
  denied?: string[];
}

export interface AwsSandbox {
  /** http://127.0.0.1:<port>: every service is served here. */
  url: string;
  /** What to put in AWS_ENDPOINT_URL_<SERVICE>. */
  endpoints: { rds: string; ecr: string; eks: string; sts: string };
  region: string;
  accountId: string;
  credentials: AwsCredentials;
  /** AWS_ENDPOINT_URL_RDS/ECR/EKS/STS, AWS_REGION, AWS_DEFAULT_REGION, credentials, AWS_EC2_METADATA_DISABLED. */
  env(): Record<string, string>;
  /** env() as `export NAME='value'` lines for a POSIX shell (what `pnpm sandbox` prints). */
  envExports(): string;
  rds: RdsState;
  ecr: EcrState;
  /** Where docker logs in and pushes (ECR's proxyEndpoint) when a registry is attached. */
  registryUrl?: string;
  /** The registry behind ECR, if any. */
  registry?: RegistryInfo;
  /** With registry: 'auto', why no registry could be started (images are then kept in memory). */
  registryUnavailable?: string;
  /** Every request served, in order (for tests: throttled attempts, retries). */
  requests: AwsRequestRecord[];
  /** Denies the identity an IAM action (`eks:ListFargateProfiles`): AccessDeniedException from then on. */
  deny(action: string): void;
  /** Points EKS DescribeCluster (and the token's cluster name) at a Kubernetes API. */
  setKube(kube: KubeEndpoint): void;
  /** The caller ARN when `token` is a valid EKS bearer token for our cluster, else undefined. */
  verifyEksToken(token: string): Promise<{ arn: string } | undefined>;
  /**
   * verifyEksToken in the shape the Kubernetes API's `authenticate` option takes: the user is the
   * caller's IAM ARN (as an EKS access entry maps it), false for anything else.
   */
  authenticator(): (token: string) => Promise<false | { user: string }>;
  stop(): Promise<void>;
}

/** Starts ECR, RDS, EKS and STS on one loopback HTTP server with a random port. */
export async function startAwsSandbox(options: AwsSandboxOptions = {}): Promise<AwsSandbox> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const credentials = options.credentials ?? SANDBOX_CREDENTIALS;
  const callerArn = options.callerArn ?? `arn:aws:iam::${accountId}:user/planner-deployer`;
  const identity: CallerIdentity = { arn: callerArn, userId: 'AIDASANDBOXDEPLOYER01', account: accountId };
  const rds = new RdsState(region, accountId, options.timeScale ?? 1, options.snapshotSeconds ?? 60);
  let registry: RegistryInfo | undefined;
  let registryUnavailable: string | undefined;
  const ownRegistry = options.registry === 'auto';
  if (options.registry === 'auto') {
    registry = await startRegistry({ onUnavailable: (reason) => (registryUnavailable = reason) });
  } else {
    registry = options.registry;
  }
  let front: RegistryFront | undefined;
  if (registry && options.registryFront !== false) {
    // The front asks ECR about repositories only when requests come, after ecrState exists.
    front = await startRegistryFront(registry, () => ecrState);
  }
  const ecrState = new EcrState(region, accountId, registry, front);
  let kube = options.kube;
  const denied = new Set(options.denied ?? []);
  const requests: AwsRequestRecord[] = [];
  let host = '';
  const sessions = new RoleSessions(accountId);
  const serve = createAwsRouter({
    sessions,
    region,
    accountId,
    credentials,
    identity,
    rds,
    ecr: ecrState,
    kube: () => kube,
    denied,
  });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readWireRequest(req)
      .then(serve)
      .then(({ out, record }) => {
        requests.push(record);
        sendWireResponse(res, out);
      })
      .catch((err: unknown) => {
        requests.push({ service: 'unknown', action: req.url ?? '', status: 500, error: 'InternalFailure' });
        sendWireResponse(res, {
          status: 500,
          headers: { 'content-type': 'text/plain' },
          body: `sandbox error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        });
      });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  const url = `http://${host}`;

  const env = (): Record<string, string> => ({
    AWS_ENDPOINT_URL_RDS: url,
    AWS_ENDPOINT_URL_ECR: url,
    AWS_ENDPOINT_URL_EKS: url,
    AWS_ENDPOINT_URL_STS: url,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken !== undefined ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    AWS_EC2_METADATA_DISABLED: 'true',
  });

  const verifyEksToken = async (token: string): Promise<{ arn: string } | undefined> => {
    const result = await checkEksToken(token, {
      credentials,
      region,
      clusterName: kube?.clusterName ?? DEFAULT_CLUSTER_NAME,
      localHosts: [host, `localhost:${port}`],
      now: new Date(),
      sessions,
    });
    return result.ok ? { arn: result.arn ?? callerArn } : undefined;
  };

  return {
    url,
    endpoints: { rds: url, ecr: url, eks: url, sts: url },
    region,
    accountId,
    credentials,
    env,
    envExports() {
      return Object.entries(env())
        .map(([name, value]) => `export ${name}='${value.replace(/'/g, `'\\''`)}'`)
        .join('\n');
    },
    rds,
    ecr: ecrState,
    ...(registry ? { registry, registryUrl: ecrState.proxyEndpoint } : {}),
    ...(registryUnavailable !== undefined ? { registryUnavailable } : {}),
    requests,
    deny(action: string) {
      denied.add(action);
    },
    setKube(next: KubeEndpoint) {
      kube = next;
    },
    verifyEksToken,
    authenticator() {
      return async (token: string) => {
        const caller = await verifyEksToken(token);
        return caller ? { user: caller.arn } : false;
      };
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await front?.stop();
      if (ownRegistry) await registry?.stop();
    },
  };
}
