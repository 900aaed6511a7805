import { readFileSync } from 'node:fs';

/** What the image tags and labels are derived from: the commit and ref the workflow runs for. */
export interface SourceInfo {
  /** The commit the image is built from (a pull request's head commit, not its merge commit). */
  sha: string;
  /** The Git ref (refs/heads/main, refs/tags/v1.2.3, refs/pull/7/merge). */
  ref?: string | undefined;
  /** owner/name */
  repository?: string | undefined;
  serverUrl?: string | undefined;
}

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
/** vX.Y.Z with an optional pre-release and build metadata (SemVer 2.0.0). */
const VERSION_TAG =
  /^refs\/tags\/(v(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function isCommitSha(value: string): boolean {
  return SHA.test(value);
}

/**
 * The version of a version tag ref (`refs/tags/v1.2.3` → `v1.2.3`), or undefined for any other ref. Build
 * metadata (`+build.5`) is not allowed in a Docker tag, so it is dropped: v1.2.3+a and v1.2.3+b are one version.
 */
export function versionOfRef(ref: string | undefined): string | undefined {
  if (ref === undefined) return undefined;
  return VERSION_TAG.exec(ref)?.[1];
}

export interface TagPlanInput {
  source: SourceInfo;
  /** Adds `<environment>-latest`. */
  environment?: string | undefined;
  /** Extra tags, in the order given. */
  extra?: string[] | undefined;
}

/**
 * The tags of an image, the commit SHA first (it identifies the build and is what a re-run looks for), then
 * `<environment>-latest`, the version of a version tag, and the extra tags; duplicates dropped.
 */
export function imageTags(input: TagPlanInput): string[] {
  const tags = [input.source.sha];
  if (input.environment !== undefined) tags.push(`${input.environment}-latest`);
  const version = versionOfRef(input.source.ref);
  if (version !== undefined) tags.push(version);
  tags.push(...(input.extra ?? []));
  return [...new Set(tags)];
}

/** OCI annotations as image labels (org.opencontainers.image.*), the user's labels winning. */
export function imageLabels(source: SourceInfo, user: Record<string, string> = {}): Record<string, string> {
  const labels: Record<string, string> = {};
  if (source.repository !== undefined) {
    const server = (source.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
    labels['org.opencontainers.image.source'] = `${server}/${source.repository}`;
    labels['org.opencontainers.image.url'] = `${server}/${source.repository}`;
    labels['org.opencontainers.image.title'] = source.repository.split('/').pop() ?? source.repository;
  }
  labels['org.opencontainers.image.revision'] = source.sha;
  labels['org.opencontainers.image.version'] = versionOfRef(source.ref) ?? source.sha;
  return { ...labels, ...user };
}

/**
 * The commit a workflow run builds: on pull_request events GITHUB_SHA is a merge commit that exists only on
 * GitHub, so the pull request's head commit is read from the event payload; elsewhere GITHUB_SHA.
 */
export function sourceCommit(env: Record<string, string | undefined>): string | undefined {
  const event = env.GITHUB_EVENT_NAME;
  const path = env.GITHUB_EVENT_PATH;
  if ((event === 'pull_request' || event === 'pull_request_target') && path) {
    try {
      const payload = JSON.parse(readFileSync(path, 'utf8')) as {
        pull_request?: { head?: { sha?: unknown } };
      };
      const head = payload.pull_request?.head?.sha;
      if (typeof head === 'string' && isCommitSha(head)) return head;
    } catch {
      // An unreadable payload: fall back to GITHUB_SHA.
    }
  }
  const sha = env.GITHUB_SHA?.trim();
  return sha === '' ? undefined : sha;
}
