import { errorMessage } from '@planner-deploy/core';
import type { CredentialsProvider } from './credentials.js';

/** One selector of a Fargate profile: a namespace (patterns with `*` and `?` allowed) and optional labels. */
export interface FargateProfileSelector {
  namespace: string;
  labels: Record<string, string>;
}

export interface FargateProfileInfo {
  name: string;
  status?: string | undefined;
  selectors: FargateProfileSelector[];
}

/**
 * The cluster's Fargate profiles, or why they could not be read. Reading them only explains a failure, so
 * nothing here throws: a denied `eks:ListFargateProfiles` (the permission is optional) is `denied`, anything
 * else `error`.
 */
export type FargateProfilesAnswer =
  | { kind: 'profiles'; profiles: FargateProfileInfo[] }
  | { kind: 'denied'; action: string; message: string }
  | { kind: 'error'; message: string };

export interface ListFargateProfilesOptions {
  clusterName: string;
  region: string;
  /** Explicit endpoint; otherwise the SDK honours AWS_ENDPOINT_URL_EKS / AWS_ENDPOINT_URL. */
  endpoint?: string;
  credentials?: CredentialsProvider;
  abortSignal?: AbortSignal;
}

const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);

/** ListFargateProfiles (every page) then DescribeFargateProfile for each, with the SDK's EKS client. */
export async function listFargateProfiles(
  options: ListFargateProfilesOptions,
): Promise<FargateProfilesAnswer> {
  const { EKSClient, DescribeFargateProfileCommand, paginateListFargateProfiles } =
    await import('@aws-sdk/client-eks');
  const client = new EKSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const send = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  let action = 'eks:ListFargateProfiles';
  try {
    const names: string[] = [];
    for await (const page of paginateListFargateProfiles(
      { client, pageSize: 100 },
      { clusterName: options.clusterName },
    )) {
      names.push(...(page.fargateProfileNames ?? []));
    }
    action = 'eks:DescribeFargateProfile';
    const profiles = await Promise.all(
      names.map(async (name): Promise<FargateProfileInfo> => {
        const out = await client.send(
          new DescribeFargateProfileCommand({ clusterName: options.clusterName, fargateProfileName: name }),
          send,
        );
        return {
          name,
          status: out.fargateProfile?.status,
          selectors: (out.fargateProfile?.selectors ?? []).map((s) => ({
            namespace: s.namespace ?? '',
            labels: { ...(s.labels ?? {}) },
          })),
        };
      }),
    );
    return { kind: 'profiles', profiles };
  } catch (error) {
    const name = (error as { name?: unknown } | undefined)?.name;
    if (typeof name === 'string' && DENIED.has(name))
      return { kind: 'denied', action, message: errorMessage(error) };
    return { kind: 'error', message: errorMessage(error) };
  } finally {
    client.destroy();
  }
}
