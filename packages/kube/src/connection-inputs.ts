import { imageReferenceProblem, invalidInput, missingInput } from '@planner-deploy/core';

/**
 * The connection settings and the name rules the Kubernetes actions and the CLI share. Pure validators: this
 * package never reads a step's inputs (the actions read them in packages/kube-inputs, the CLI from its
 * flags and environment) and never imports action-kit.
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
