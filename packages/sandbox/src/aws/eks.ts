/** The sandbox's Kubernetes API as EKS describes it. */
export interface KubeEndpoint {
  /** https://127.0.0.1:<port> */
  endpoint: string;
  /** base64 of the CA certificate PEM (what DescribeCluster returns as certificateAuthority.data). */
  caData: string;
  /** default planner-production-cluster */
  clusterName?: string;
}

export const DEFAULT_CLUSTER_NAME = 'planner-production-cluster';

export interface EksAnswer {
  status: number;
  body: Record<string, unknown>;
  errorType?: string;
}

/** REST-JSON EKS: GET /clusters and GET /clusters/<name>. */
export function handleEks(
  method: string,
  path: string,
  kube: KubeEndpoint | undefined,
  region: string,
  accountId: string,
): EksAnswer {
  const clusterName = kube?.clusterName ?? DEFAULT_CLUSTER_NAME;
  if (method === 'GET' && path === '/clusters') {
    return { status: 200, body: { clusters: kube ? [clusterName] : [] } };
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
