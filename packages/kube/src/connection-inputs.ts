import { imageReferenceProblem, invalidInput, missingInput } from '@planner-deploy/core';
import { decodeKubeconfigInput } from './kubeconfig-text.js';

/**
 * The connection inputs the Kubernetes actions and the CLI share, validated in one place. The package does
 * not read inputs itself: the caller passes its reader (the actions pass action-kit's getOptionalString).
 */
export interface ConnectionInputs {
  kubeconfig?: string | undefined;
  clusterName?: string | undefined;
  region?: string | undefined;
  context?: string | undefined;
}

export const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
export const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A namespace, container or label-ish name: lower-case RFC 1123 label, at most 63 characters. */
export function isDnsLabel(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

/** A Deployment or Job name: lower-case RFC 1123 subdomain, at most 253 characters. */
export function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

export function readConnectionInputs(
  read: (name: string) => string | undefined,
  env: Record<string, string | undefined> = process.env,
): ConnectionInputs {
  const kubeconfig = read('kubeconfig');
  if (kubeconfig !== undefined) decodeKubeconfigInput(kubeconfig, 'kubeconfig');
  const clusterName = read('cluster-name');
  if (clusterName !== undefined && !CLUSTER_NAME.test(clusterName)) {
    throw invalidInput(
      'cluster-name',
      clusterName,
      'expected an EKS cluster name: 1 to 100 letters, digits, hyphens and underscores, starting with a letter or digit.',
    );
  }
  const region =
    read('region') ?? (clusterName !== undefined ? (env.AWS_REGION ?? env.AWS_DEFAULT_REGION) : undefined);
  if (region !== undefined && !AWS_REGION.test(region)) {
    throw invalidInput('region', region, 'expected an AWS region such as us-east-1 or eu-west-2.');
  }
  if (clusterName !== undefined && region === undefined) {
    throw missingInput(
      'region',
      'with cluster-name (or set AWS_REGION, as aws-actions/configure-aws-credentials does)',
    );
  }
  return { kubeconfig, clusterName, region, context: read('context') };
}

/** Reads and validates a namespace input. */
export function readNamespace(
  read: (name: string) => string | undefined,
  input = 'namespace',
): string | undefined {
  const namespace = read(input);
  if (namespace !== undefined && !isDnsLabel(namespace)) {
    throw invalidInput(
      input,
      namespace,
      'expected a namespace name: lower-case letters, digits and hyphens, at most 63.',
    );
  }
  return namespace;
}

/** Validates Deployment names (a list input). */
export function checkDeploymentNames(input: string, names: string[]): string[] {
  if (names.length === 0) throw missingInput(input);
  for (const name of names) {
    if (!isDnsSubdomain(name)) {
      throw invalidInput(input, name, 'expected Deployment names: lower-case letters, digits, "-" and ".".');
    }
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw invalidInput(input, name, 'the Deployment is listed more than once.');
    seen.add(name);
  }
  return names;
}

/**
 * A container image reference: `[registry/]repository[:tag][@sha256:<64 hex>]`, within the distribution
 * limits (name ≤ 255, tag ≤ 128); `imageReferenceProblem` (packages/core) says why not.
 */
export function isImageReference(reference: string): boolean {
  return imageReferenceProblem(reference) === undefined;
}
