import { ConfigurationError, type Logger } from '@planner-deploy/action-kit';
import { composeBody } from './body.js';
import type { ReleaseApi, ReleaseApiOptions } from './github-api.js';
import type { Inputs, MakeLatest } from './inputs.js';
import { higherStableTag, parseTag, previousTag } from './semver.js';
import { upsertRelease } from './upsert-release.js';

export type NotesBase =
  | { kind: 'tag'; tag: string; chosen: 'input' | 'family' }
  | { kind: 'github-default' }
  | { kind: 'not-generated' };

export type Outcome =
  | { done: false; reason: string }
  | {
      done: true;
      tag: string;
      name: string;
      id: number;
      url: string;
      uploadUrl: string;
      created: boolean;
      draft: boolean;
      prerelease: boolean;
      makeLatest: MakeLatest;
      /** Why make-latest has its value, when not given. */
      latestWhy: string;
      notes: NotesBase;
    };

/** Makes the client; run() takes it as a parameter so tests can point it anywhere. */
export type ApiFactory = (inputs: Inputs, logger: Logger, signal: AbortSignal) => Promise<ReleaseApi>;

/** What the release client is made with: the inputs' token, API URL and repository, bounded by `timeout`. */
export function releaseApiOptions(inputs: Inputs, logger: Logger, signal: AbortSignal): ReleaseApiOptions {
  return {
    token: inputs.token,
    apiUrl: inputs.context.apiUrl,
    owner: inputs.context.owner,
    repo: inputs.context.repo,
    logger,
    signal,
    deadline: Date.now() + inputs.timeout,
  };
}

export const defaultApiFactory: ApiFactory = async (inputs, logger, signal) => {
  const { createReleaseApi } = await import('./github-api.js');
  return createReleaseApi(releaseApiOptions(inputs, logger, signal));
};

/** Creates or updates the release of the tag. Nothing happens (and it says so) when there is no tag. */
export async function createRelease(
  inputs: Inputs,
  logger: Logger,
  signal: AbortSignal,
  makeApi: ApiFactory = defaultApiFactory,
): Promise<Outcome> {
  const tag = inputs.tag;
  if (tag === undefined) {
    const reason = `${inputs.context.ref ?? 'This run'} is not a tag and input "tag" is empty, so there is no release to create.`;
    logger.info(`${reason} Nothing to do.`);
    return { done: false, reason };
  }
  const { owner, repo } = inputs.context;
  logger.info(
    `Release of tag ${tag} in ${owner}/${repo} (tag from ${inputs.context.tagFrom === 'ref' ? 'GITHUB_REF' : 'input "tag"'}).`,
  );
  const api = await makeApi(inputs, logger, signal);

  const { tags, complete } = await api.listTags();
  if (!complete)
    logger.warning(`Read only the first ${tags.length} tags; the previous tag is chosen among them.`);
  const tagExists = tags.includes(tag);
  if (!tagExists) {
    logger.info(
      `Tag ${tag} does not exist yet: GitHub creates it at ${inputs.context.sha ?? 'the default branch'} when the release is published.`,
    );
  }

  const notes = pickNotesBase(inputs, tag, tags, logger);
  const notesText =
    notes.kind === 'not-generated'
      ? undefined
      : await api.generateNotes(
          tag,
          notes.kind === 'tag' ? notes.tag : undefined,
          tagExists ? undefined : inputs.context.sha,
        );

  const prerelease = inputs.prerelease;
  if (inputs.context.prereleaseInferred && prerelease)
    logger.info(`${tag} has a prerelease part: marking it a prerelease.`);
  const { value: makeLatest, why: latestWhy } = decideLatest(inputs, tag, tags, logger);

  const { release, created } = await upsertRelease(
    api,
    {
      tag,
      name: inputs.name ?? tag,
      body: composeBody({ body: inputs.body, notes: notesText, deployment: inputs, run: inputs.context.run }),
      prerelease,
      draft: inputs.draft,
      makeLatest,
      targetCommitish: tagExists ? undefined : inputs.context.sha,
    },
    logger,
  );
  logger.info(`${created ? 'Created' : 'Updated'} ${release.html_url}`);
  return {
    done: true,
    tag,
    name: release.name ?? tag,
    id: release.id,
    url: release.html_url,
    uploadUrl: release.upload_url,
    created,
    draft: release.draft,
    prerelease: release.prerelease,
    makeLatest,
    latestWhy,
    notes,
  };
}

function pickNotesBase(inputs: Inputs, tag: string, tags: string[], logger: Logger): NotesBase {
  if (!inputs['generate-notes']) {
    if (inputs['previous-tag'] !== undefined) {
      logger.warning(
        'Input "previous-tag" is ignored: "generate-notes" is false, so no notes are generated.',
      );
    }
    return { kind: 'not-generated' };
  }
  const given = inputs['previous-tag'];
  if (given !== undefined) {
    if (!tags.includes(given)) {
      throw new ConfigurationError(
        `Input "previous-tag" is "${given}", but ${inputs.context.owner}/${inputs.context.repo} has no such tag. Give an existing tag, or leave it empty to use the previous version of ${tag}.`,
        { title: 'Invalid input: previous-tag' },
      );
    }
    logger.info(`Release notes: changes since ${given} (input "previous-tag").`);
    return { kind: 'tag', tag: given, chosen: 'input' };
  }
  const previous = previousTag(tag, tags);
  if (previous !== undefined) {
    const version = parseTag(tag);
    const family = version?.family === '' ? 'unprefixed' : `"${version?.family}"`;
    const stable = version?.prerelease.length === 0 ? 'stable ' : '';
    logger.info(
      `Release notes: changes since ${previous}, the highest earlier ${stable}version of the ${family} tags.`,
    );
    return { kind: 'tag', tag: previous, chosen: 'family' };
  }
  logger.info(
    parseTag(tag) === undefined
      ? `Release notes: ${tag} is not a semantic version, so GitHub chooses the base (its latest release).`
      : `Release notes: no earlier version of ${tag}'s family, so GitHub chooses the base (its latest release, if any).`,
  );
  return { kind: 'github-default' };
}

/**
 * Without input "make-latest": prereleases and drafts never become latest, and neither does a release of an
 * older line (a hotfix v1.4.1 after v2.0.0), so the latest stays the highest version.
 */
function decideLatest(
  inputs: Inputs,
  tag: string,
  tags: string[],
  logger: Logger,
): { value: MakeLatest; why: string } {
  const given = inputs['make-latest'];
  if (given !== undefined) return { value: given, why: 'input "make-latest"' };
  if (inputs.prerelease) return { value: 'false', why: 'a prerelease' };
  if (inputs.draft) return { value: 'false', why: 'a draft' };
  const higher = higherStableTag(tag, tags);
  if (higher !== undefined) {
    logger.info(
      `Not marking ${tag} as the latest release: ${higher} is a higher version (set "make-latest" to override).`,
    );
    return { value: 'false', why: `${higher} is a higher version` };
  }
  return { value: 'true', why: 'the highest version of its family' };
}
