import { getOptionalString, invalidInput, missingInput } from '@planner-deploy/action-kit';
import {
  AWS_REGION,
  CLUSTER_NAME,
  decodeKubeconfigInput,
  isDnsLabel,
  type ConnectionInputs,
} from '@planner-deploy/kube';

/**
 * The connection inputs the Kubernetes actions (rollout, run-migration-job, auto-rollback) share, read and
 * validated in one place on the actions' side: packages/kube takes these values and validates names, but
 * never reads a step's inputs, so the CLI and tests use it without action-kit.
 */
export function readConnectionInputs(
  env: Record<string, string | undefined> = process.env,
): ConnectionInputs {
  const kubeconfig = getOptionalString('kubeconfig');
  if (kubeconfig !== undefined) decodeKubeconfigInput(kubeconfig, 'kubeconfig');
  const clusterName = getOptionalString('cluster-name');
  if (clusterName !== undefined && !CLUSTER_NAME.test(clusterName)) {
    throw invalidInput(
      'cluster-name',
      clusterName,
      'expected an EKS cluster name: 1 to 100 letters, digits, hyphens and underscores, starting with a letter or digit.',
    );
  }
  const region =
    getOptionalString('region') ??
    (clusterName !== undefined ? (env.AWS_REGION ?? env.AWS_DEFAULT_REGION) : undefined);
  if (region !== undefined && !AWS_REGION.test(region)) {
    throw invalidInput('region', region, 'expected an AWS region such as us-east-1 or eu-west-2.');
  }
  if (clusterName !== undefined && region === undefined) {
    throw missingInput(
      'region',
      'with cluster-name (or set AWS_REGION, as aws-actions/configure-aws-credentials does)',
    );
  }
  return { kubeconfig, clusterName, region, context: getOptionalString('context') };
}

/** Reads and validates a namespace input. */
export function readNamespace(input = 'namespace'): string | undefined {
  const namespace = getOptionalString(input);
  if (namespace !== undefined && !isDnsLabel(namespace)) {
    throw invalidInput(
      input,
      namespace,
      'expected a namespace name: lower-case letters, digits and hyphens, at most 63.',
    );
  }
  return namespace;
}
