import { errorMessage, type Logger } from '@planner-deploy/core';
import type { FargateProfileInfo, FargateProfilesAnswer } from '@planner-deploy/aws/eks';
import type { PodFailure } from './pod-diagnosis.js';
import type { EksClusterRef } from './connection.js';

/** Reads the cluster's Fargate profiles (ListFargateProfiles + DescribeFargateProfile). Never throws. */
export type FargateProfileLookup = (signal?: AbortSignal) => Promise<FargateProfilesAnswer>;

/**
 * The lookup for a connection whose EKS cluster is known (reached by cluster name, or a kubeconfig whose user
 * runs `aws eks get-token`, with that entry's credentials); undefined for any other kubeconfig, whose cluster has
 * no name we could ask EKS about. The EKS client is loaded only when a mismatch is being explained.
 */
export function fargateProfileLookup(cluster: EksClusterRef | undefined): FargateProfileLookup | undefined {
  if (!cluster) return undefined;
  const { clusterName, region, credentials } = cluster;
  return async (signal) => {
    try {
      const aws = await import('@planner-deploy/aws/eks');
      return await aws.listFargateProfiles({
        clusterName,
        region,
        ...(credentials ? { credentials } : {}),
        ...(signal ? { abortSignal: signal } : {}),
      });
    } catch (error) {
      return { kind: 'error', message: errorMessage(error) };
    }
  };
}

/** `*` and `?` as EKS selectors take them. */
function globMatch(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

function describeSelector(selector: FargateProfileInfo['selectors'][number]): string {
  const labels = Object.entries(selector.labels);
  return labels.length
    ? `namespace ${selector.namespace} with labels ${labels.map(([k, v]) => `${k}=${v}`).join(', ')}`
    : `namespace ${selector.namespace}`;
}

/**
 * What the profiles select, one sentence, with the near misses first: a selector of the pod's namespace
 * whose labels the pod lacks says which.
 */
export function describeFargateProfiles(
  profiles: FargateProfileInfo[],
  pod: { namespace: string; labels: Record<string, string> },
): string {
  if (profiles.length === 0)
    return 'The cluster has no Fargate profile: create one that selects this namespace';
  const nearMisses: string[] = [];
  const all: string[] = [];
  for (const profile of profiles) {
    for (const selector of profile.selectors) {
      all.push(`"${profile.name}" selects ${describeSelector(selector)}`);
      if (!globMatch(selector.namespace, pod.namespace)) continue;
      const missing = Object.entries(selector.labels)
        .filter(([k, v]) => pod.labels[k] === undefined || !globMatch(v, pod.labels[k]))
        .map(([k, v]) => `${k}=${v}`);
      if (missing.length)
        nearMisses.push(
          `profile "${profile.name}" selects namespace ${selector.namespace} only with ${missing.join(', ')}, which the pod lacks`,
        );
    }
  }
  const fix = nearMisses.length
    ? `Give the pod template the labels that profile selects (keep them off the Service's selector), or add a selector for namespace "${pod.namespace}"`
    : `Add a selector for namespace "${pod.namespace}" to a profile (or create one)`;
  return `${nearMisses.length ? `${nearMisses.join('; ')}. ` : ''}The cluster's Fargate profiles: ${all.join('; ')}. ${fix}; only pods created afterwards are scheduled by it`;
}

/**
 * Adds to a FargateProfileMismatch what the cluster's profiles select, or why they could not be read
 * (a denied eks:ListFargateProfiles is said as such and changes nothing else).
 */
export async function explainFargateMismatch(
  failure: PodFailure,
  lookup: FargateProfileLookup | undefined,
  logger: Logger,
  signal?: AbortSignal,
): Promise<PodFailure> {
  if (failure.reason !== 'FargateProfileMismatch' || !failure.fargate) return failure;
  if (!lookup) {
    return {
      ...failure,
      message: `${failure.message}. See the cluster's profiles with \`aws eks list-fargate-profiles\` and \`aws eks describe-fargate-profile\` (set cluster-name, or use the kubeconfig \`aws eks update-kubeconfig\` writes, to have them listed here)`,
    };
  }
  const answer = await lookup(signal);
  if (answer.kind === 'profiles') {
    return {
      ...failure,
      message: `${failure.message}. ${describeFargateProfiles(answer.profiles, failure.fargate)}`,
    };
  }
  if (answer.kind === 'denied') {
    logger.debug(`Fargate profiles: ${answer.message}`);
    return {
      ...failure,
      message: `${failure.message}. The deploy identity may not call ${answer.action}, so the cluster's Fargate profiles are not listed here (the permission is optional; see examples/iam/deploy-policy.json)`,
    };
  }
  logger.info(`Could not read the cluster's Fargate profiles: ${answer.message}`);
  return {
    ...failure,
    message: `${failure.message}. (The cluster's Fargate profiles could not be read: ${answer.message}.)`,
  };
}
