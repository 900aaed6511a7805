import { ActionFailure, CancelledError, quoteUntrusted } from '@planner-deploy/action-kit';
import {
  asRequestFailure,
  createOctokit,
  RETRIES,
  stopped,
  type ClientOptions,
  type RequestFailure,
} from './github-client.js';
import type { MakeLatest } from './inputs.js';

/** The fields of a release this action reads. */
export interface Release {
  id: number;
  tag_name: string;
  name: string | null;
  body?: string | null;
  draft: boolean;
  prerelease: boolean;
  html_url: string;
  upload_url: string;
}

export interface ReleaseFields {
  tag_name?: string;
  target_commitish?: string;
  name?: string;
  body?: string;
  draft?: boolean;
  prerelease?: boolean;
  make_latest?: MakeLatest;
}

/** The GitHub REST calls of create-release. `already_exists` is an answer, not an error: it drives the upsert. */
export interface ReleaseApi {
  /** The published release of a tag (drafts are not found by tag). */
  getByTag(tag: string): Promise<Release | undefined>;
  /** A draft release naming the tag (left by an earlier or concurrent run), newest first. */
  findDraft(tag: string): Promise<Release | undefined>;
  create(fields: ReleaseFields & { tag_name: string }): Promise<Release | 'already_exists'>;
  update(id: number, fields: ReleaseFields): Promise<Release | 'already_exists'>;
  remove(id: number): Promise<void>;
  listTags(): Promise<{ tags: string[]; complete: boolean }>;
  generateNotes(tag: string, previous: string | undefined, target: string | undefined): Promise<string>;
}

export interface ReleaseApiOptions extends ClientOptions {
  owner: string;
  repo: string;
}

/** Tag pages read at most (100 tags each); a longer history is cut with a warning. */
export const MAX_TAG_PAGES = 50;
/** Releases scanned for a leftover draft (newest first, 100 a page). */
const DRAFT_PAGES = 3;
function isAlreadyExists(error: unknown): boolean {
  const failure = asRequestFailure(error);
  if (failure?.status !== 422) return false;
  const errors = (failure.response?.data as { errors?: Array<{ code?: string }> } | undefined)?.errors ?? [];
  return errors.some((e) => e.code === 'already_exists');
}

/** The release calls over the octokit client of github-client.ts. */
export async function createReleaseApi(options: ReleaseApiOptions): Promise<ReleaseApi> {
  const { octokit } = await createOctokit(options);
  const repo = { owner: options.owner, repo: options.repo };
  const where = `${options.owner}/${options.repo}`;

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (options.signal.aborted) throw stopped(options.signal, what);
      throw explain(error, what, where);
    }
  };

  return {
    getByTag: (tag) =>
      call(`reading the release of tag ${tag}`, async () => {
        try {
          const { data } = await octokit.request('GET /repos/{owner}/{repo}/releases/tags/{tag}', {
            ...repo,
            tag,
          });
          return data;
        } catch (error) {
          if (asRequestFailure(error)?.status === 404) return undefined;
          throw error;
        }
      }),
    findDraft: (tag) =>
      call(`looking for a draft release of tag ${tag}`, async () => {
        for (let page = 1; page <= DRAFT_PAGES; page++) {
          const { data } = await octokit.request('GET /repos/{owner}/{repo}/releases', {
            ...repo,
            per_page: 100,
            page,
          });
          const draft = (data as Release[]).find((release) => release.draft && release.tag_name === tag);
          if (draft !== undefined || data.length < 100) return draft;
        }
        return undefined;
      }),
    create: (fields) =>
      call(`creating the release of tag ${fields.tag_name}`, async () => {
        try {
          const { data } = await octokit.request('POST /repos/{owner}/{repo}/releases', {
            ...repo,
            ...fields,
          });
          return data;
        } catch (error) {
          if (isAlreadyExists(error)) return 'already_exists' as const;
          throw error;
        }
      }),
    update: (id, fields) =>
      call(`updating release ${id}`, async () => {
        try {
          const { data } = await octokit.request('PATCH /repos/{owner}/{repo}/releases/{release_id}', {
            ...repo,
            release_id: id,
            ...fields,
          });
          return data;
        } catch (error) {
          if (isAlreadyExists(error)) return 'already_exists' as const;
          throw error;
        }
      }),
    remove: (id) =>
      call(`deleting draft release ${id}`, async () => {
        await octokit.request('DELETE /repos/{owner}/{repo}/releases/{release_id}', {
          ...repo,
          release_id: id,
        });
      }),
    listTags: () =>
      call('listing the tags', async () => {
        const tags: string[] = [];
        for (let page = 1; page <= MAX_TAG_PAGES; page++) {
          const response = await octokit.request('GET /repos/{owner}/{repo}/tags', {
            ...repo,
            per_page: 100,
            page,
          });
          tags.push(...response.data.map((tag) => tag.name));
          if (!/rel="next"/.test(response.headers.link ?? '')) return { tags, complete: true };
        }
        return { tags, complete: false };
      }),
    generateNotes: (tag, previous, target) =>
      call(`generating the release notes of ${tag}`, async () => {
        const { data } = await octokit.request('POST /repos/{owner}/{repo}/releases/generate-notes', {
          ...repo,
          tag_name: tag,
          ...(previous !== undefined ? { previous_tag_name: previous } : {}),
          ...(target !== undefined ? { target_commitish: target } : {}),
        });
        return data.body;
      }),
  };
}

/**
 * Turns a failed request into a failure that says what to do. Only GitHub's message and status are used:
 * the request (and its Authorization header) never reaches the log.
 */
export function explain(error: unknown, what: string, where: string): Error {
  if (error instanceof ActionFailure || error instanceof CancelledError) return error;
  const failure = asRequestFailure(error);
  if (failure === undefined) {
    const message = error instanceof Error ? error.message : String(error);
    return new ActionFailure('GitHub API unreachable', `${what} failed: ${quoteUntrusted(message, 500)}`);
  }
  const said = githubMessage(failure);
  const headers = failure.response?.headers ?? {};
  if (failure.status === 401) {
    return new ActionFailure(
      'GitHub token rejected',
      `GitHub answered 401 (${said}) while ${what}: the token in input "token" is invalid or expired. Use a token that can write releases of ${where} (the default github.token needs "permissions: contents: write" on the job).`,
    );
  }
  if (
    (failure.status === 403 || failure.status === 429) &&
    (headers['retry-after'] !== undefined ||
      headers['x-ratelimit-remaining'] === '0' ||
      /rate limit/i.test(said))
  ) {
    return new ActionFailure(
      'GitHub rate limit',
      `GitHub answered ${failure.status} (${said}) while ${what}, and waiting for the rate limit would pass the step's timeout. Re-run the job later, or raise "timeout".`,
    );
  }
  if (failure.status === 403) {
    return new ActionFailure(
      'Permission denied',
      `GitHub answered 403 (${said}) while ${what}: the token lacks "contents: write" on ${where}. Add "permissions: contents: write" to the job, or pass a token that can write releases.`,
    );
  }
  if (failure.status === 404) {
    return new ActionFailure(
      'Not found',
      `GitHub answered 404 (${said}) while ${what}: ${where} does not exist, or the token cannot see it (a private repository needs a token of that repository).`,
    );
  }
  if (failure.status >= 500) {
    return new ActionFailure(
      'GitHub unavailable',
      `GitHub answered ${failure.status} (${said}) while ${what}, still after ${RETRIES} retries. Re-run the job: creating the release again is safe.`,
    );
  }
  return new ActionFailure(
    'GitHub request failed',
    `GitHub answered ${failure.status} (${said}) while ${what}.`,
  );
}

function githubMessage(failure: RequestFailure): string {
  const data = failure.response?.data as { message?: unknown; errors?: unknown } | undefined;
  const base = typeof data?.message === 'string' ? data.message : failure.message;
  const errors = Array.isArray(data?.errors) ? ` ${JSON.stringify(data.errors)}` : '';
  // The server's words (or a proxy's HTML page) are quoted: they reach the log, the annotation and the summary.
  return quoteUntrusted(`${base}${errors}`, 500);
}
