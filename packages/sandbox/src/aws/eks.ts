import { createHash } from 'node:crypto';
import type { FargateProfileSpec } from '../kube/controllers/fargate.js';

/** The sandbox's Kubernetes API as EKS describes it. */
export interface KubeEndpoint {
  /** https://127.0.0.1:<port> */
  endpoint: string;
  /** base64 of the CA certificate PEM (what DescribeCluster returns as certificateAuthority.data). */
  caData: string;
  /** default planner-production-cluster */
  clusterName?: string;
  /** The cluster's Fargate profiles now (ListFargateProfiles, DescribeFargateProfile); none by default. */
  fargateProfiles?: () => FargateProfileSpec[];
}

export const DEFAULT_CLUSTER_NAME = 'planner-production-cluster';

export interface EksAnswer {
  status: number;
  body: Record<string, unknown>;
  errorType?: string;
}

/** The EKS operation a request is for (what IAM calls it, without the `eks:` prefix). */
export function eksAction(method: string, path: string): string {
  if (method === 'GET' && path === '/clusters') return 'ListClusters';
  if (method === 'GET' && /^\/clusters\/[^/]+\/fargate-profiles$/.test(path)) return 'ListFargateProfiles';
  if (method === 'GET' && /^\/clusters\/[^/]+\/fargate-profiles\/[^/]+$/.test(path))
    return 'DescribeFargateProfile';
  return 'DescribeCluster';
}

/**
 * REST-JSON EKS: ListClusters, DescribeCluster, ListFargateProfiles (maxResults 1–100 + nextToken) and
 * DescribeFargateProfile.
 */
export function handleEks(
  method: string,
  path: string,
  kube: KubeEndpoint | undefined,
  region: string,
  accountId: string,
  query = '',
): EksAnswer {
  const clusterName = kube?.clusterName ?? DEFAULT_CLUSTER_NAME;
  if (method === 'GET' && path === '/clusters') {
    return { status: 200, body: { clusters: kube ? [clusterName] : [] } };
  }
  const fargate = /^\/clusters\/([^/]+)\/fargate-profiles(?:\/([^/]+))?$/.exec(path);
  if (method === 'GET' && fargate) {
    const name = decodeURIComponent(fargate[1]!);
    if (!kube || name !== clusterName) {
      return {
        status: 404,
        errorType: 'ResourceNotFoundException',
        body: { message: `No cluster found for name: ${name}.`, clusterName: name },
      };
    }
    const profiles = kube.fargateProfiles?.() ?? [];
    if (fargate[2] === undefined) return listFargateProfiles(profiles, new URLSearchParams(query));
    const profileName = decodeURIComponent(fargate[2]);
    const profile = profiles.find((p) => p.name === profileName);
    if (!profile) {
      return {
        status: 404,
        errorType: 'ResourceNotFoundException',
        body: {
          message: `No Fargate Profile found with name: ${profileName}.`,
          clusterName: name,
          fargateProfileName: profileName,
        },
      };
    }
    return {
      status: 200,
      body: { fargateProfile: fargateProfileShape(profile, name, region, accountId) },
    };
  }
  const m = /^\/clusters\/([^/]+)$/.exec(path);
  if (method !== 'GET' || !m) {
    return {
      status: 404,
      errorType: 'UnknownOperationException',
      body: { message: `No operation for ${method} ${path}` },
    };
  }
  const name = decodeURIComponent(m[1]!);
  if (!kube || name !== clusterName) {
    return {
      status: 404,
      errorType: 'ResourceNotFoundException',
      body: { message: `No cluster found for name: ${name}.`, clusterName: name },
    };
  }
  return {
    status: 200,
    body: {
      cluster: {
        name,
        arn: `arn:aws:eks:${region}:${accountId}:cluster/${name}`,
        createdAt: Math.floor(Date.now() / 1000) - 86_400,
        version: '1.32',
        endpoint: kube.endpoint,
        roleArn: `arn:aws:iam::${accountId}:role/${name}-cluster-role`,
        resourcesVpcConfig: {
          subnetIds: ['subnet-0sandbox0a', 'subnet-0sandbox0b'],
          securityGroupIds: [],
          clusterSecurityGroupId: 'sg-0sandbox',
          vpcId: 'vpc-0sandbox',
          endpointPublicAccess: true,
          endpointPrivateAccess: false,
          publicAccessCidrs: ['0.0.0.0/0'],
        },
        kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
        identity: { oidc: { issuer: `https://oidc.eks.${region}.amazonaws.com/id/SANDBOX` } },
        status: 'ACTIVE',
        certificateAuthority: { data: kube.caData },
        platformVersion: 'eks.8',
        tags: {},
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
      },
    },
  };
}

function listFargateProfiles(profiles: FargateProfileSpec[], params: URLSearchParams): EksAnswer {
  const names = profiles.map((p) => p.name).sort();
  const max = params.has('maxResults') ? Number(params.get('maxResults')) : 100;
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    return {
      status: 400,
      errorType: 'InvalidParameterException',
      body: { message: 'maxResults must be between 1 and 100.' },
    };
  }
  // The token is the index of the next name, opaque to clients.
  const token = params.get('nextToken');
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0 || start > names.length) {
    return {
      status: 400,
      errorType: 'InvalidParameterException',
      body: { message: 'The nextToken provided is invalid.' },
    };
  }
  const page = names.slice(start, start + max);
  const next =
    start + max < names.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
  return { status: 200, body: { fargateProfileNames: page, ...(next ? { nextToken: next } : {}) } };
}

/** A FargateProfile as DescribeFargateProfile returns it. */
function fargateProfileShape(
  p: FargateProfileSpec,
  clusterName: string,
  region: string,
  accountId: string,
): Record<string, unknown> {
  // A stable id per profile, like the uuid-ish suffix of a real profile ARN.
  const h = createHash('sha256').update(`${clusterName}/${p.name}`).digest('hex');
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  return {
    fargateProfileName: p.name,
    fargateProfileArn: `arn:aws:eks:${region}:${accountId}:fargateprofile/${clusterName}/${p.name}/${id}`,
    clusterName,
    createdAt: Math.floor(Date.now() / 1000) - 86_400,
    podExecutionRoleArn:
      p.podExecutionRoleArn ?? `arn:aws:iam::${accountId}:role/${clusterName}-fargate-pod-execution-role`,
    subnets: p.subnets ?? ['subnet-0sandbox0a', 'subnet-0sandbox0b'],
    selectors: p.selectors.map((s) => ({
      namespace: s.namespace,
      ...(s.labels && Object.keys(s.labels).length ? { labels: { ...s.labels } } : {}),
    })),
    status: 'ACTIVE',
    tags: { ...(p.tags ?? {}) },
    health: { issues: [] },
  };
}
