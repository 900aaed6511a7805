import { stringify } from 'yaml';

export interface UpdateKubeconfigOptions {
  clusterName: string;
  region: string;
  accountId: string;
  /** The API server URL and its CA (base64 PEM), as DescribeCluster returns them. */
  endpoint: string;
  caData: string;
  /** `aws eks update-kubeconfig --role-arn`: written as `--role <arn>` in the exec args. */
  roleArn?: string;
  /** `aws eks update-kubeconfig --profile` (or AWS_PROFILE when it ran): written as AWS_PROFILE in the exec env. */
  profile?: string;
  /** An Outposts local cluster's id: written as `--cluster-id <id>` instead of `--cluster-name`. */
  clusterId?: string;
}

/**
 * The kubeconfig `aws eks update-kubeconfig --name <cluster>` writes (aws CLI v2): everything named by the
 * cluster ARN, and a user whose exec runs `aws --region R eks get-token --cluster-name N --output json`,
 * apiVersion client.authentication.k8s.io/v1beta1. What users put in the KUBE_CONFIG_DATA secret.
 */
export function updateKubeconfigYaml(options: UpdateKubeconfigOptions): string {
  const arn = `arn:aws:eks:${options.region}:${options.accountId}:cluster/${options.clusterName}`;
  const args = [
    '--region',
    options.region,
    'eks',
    'get-token',
    ...(options.clusterId !== undefined
      ? ['--cluster-id', options.clusterId]
      : ['--cluster-name', options.clusterName]),
    '--output',
    'json',
    ...(options.roleArn !== undefined ? ['--role', options.roleArn] : []),
  ];
  return stringify({
    apiVersion: 'v1',
    clusters: [
      { cluster: { 'certificate-authority-data': options.caData, server: options.endpoint }, name: arn },
    ],
    contexts: [{ context: { cluster: arn, user: arn }, name: arn }],
    'current-context': arn,
    kind: 'Config',
    preferences: {},
    users: [
      {
        name: arn,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            args,
            command: 'aws',
            ...(options.profile !== undefined
              ? { env: [{ name: 'AWS_PROFILE', value: options.profile }] }
              : {}),
          },
        },
      },
    ],
  });
}
