import { ConfigurationError, errorMessage } from '@planner-deploy/core';
import type { CredentialsProvider } from './credentials.js';

/** What a kubeconfig needs from an EKS cluster. */
export interface EksClusterInfo {
  name: string;
  region: string;
  /** The API server URL, `https://….eks.amazonaws.com`. */
  endpoint: string;
  /** Base64 PEM of the cluster CA, as DescribeCluster returns it (a kubeconfig's certificate-authority-data). */
  caData: string;
  /** ACTIVE, CREATING, UPDATING, … */
  status?: string | undefined;
  version?: string | undefined;
}

/** The one SDK call we make on the cluster; a seam for tests (aws-sdk-client-mock works on the real client). */
export interface DescribeClusterOptions {
  clusterName: string;
  region: string;
  /** Explicit endpoint; otherwise the SDK honours AWS_ENDPOINT_URL_EKS / AWS_ENDPOINT_URL by itself. */
  endpoint?: string;
  /** Credentials for the client; default: the SDK's default chain. */
  credentials?: CredentialsProvider;
  abortSignal?: AbortSignal;
}

/**
 * Looks the cluster up with EKS DescribeCluster and returns its endpoint and CA. The EKS client is imported
 * lazily (it is heavy and only needed when a cluster name is given). Errors the user can fix — a wrong name
 * or region, missing permission, a cluster that is not ready — become ConfigurationErrors that say so.
 */
export async function describeEksCluster(options: DescribeClusterOptions): Promise<EksClusterInfo> {
  const { EKSClient, DescribeClusterCommand } = await import('@aws-sdk/client-eks');
  const client = new EKSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const where = `EKS cluster "${options.clusterName}" in region ${options.region}`;
  try {
    const result = await client.send(
      new DescribeClusterCommand({ name: options.clusterName }),
      options.abortSignal ? { abortSignal: options.abortSignal } : {},
    );
    const cluster = result.cluster;
    const endpoint = cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    if (!endpoint || !caData) {
      const status = cluster?.status ?? 'unknown';
      throw new ConfigurationError(
        `The ${where} has no API endpoint or certificate authority yet (status ${status}). Wait until it is ACTIVE and re-run.`,
        { title: 'EKS cluster not ready' },
      );
    }
    return {
      name: options.clusterName,
      region: options.region,
      endpoint,
      caData,
      status: cluster.status,
      version: cluster.version,
    };
  } catch (error) {
    throw explainEksError(error, where, options);
  } finally {
    client.destroy();
  }
}

function explainEksError(error: unknown, where: string, options: DescribeClusterOptions): unknown {
  if (error instanceof ConfigurationError) return error;
  const raw = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  const name = typeof raw === 'string' ? raw : '';
  if (name === 'ResourceNotFoundException') {
    return new ConfigurationError(
      `The ${where} was not found. Check the cluster-name and region inputs (and that the credentials belong to the cluster's account).`,
      { title: 'EKS cluster not found', cause: error },
    );
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'UnauthorizedOperation') {
    return new ConfigurationError(
      `Not allowed to describe the ${where}: ${errorMessage(error)}. Grant the deploy role eks:DescribeCluster on arn:aws:eks:${options.region}:<account>:cluster/${options.clusterName}.`,
      { title: 'EKS access denied', cause: error },
    );
  }
  if (
    name === 'CredentialsProviderError' ||
    name === 'UnrecognizedClientException' ||
    name === 'InvalidClientTokenId' ||
    name === 'ExpiredTokenException'
  ) {
    return new ConfigurationError(
      `No valid AWS credentials to describe the ${where}: ${errorMessage(error)}. Configure credentials first (e.g. aws-actions/configure-aws-credentials).`,
      { title: 'AWS credentials', cause: error },
    );
  }
  return error;
}
