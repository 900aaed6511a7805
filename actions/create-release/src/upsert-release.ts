import { ActionFailure, type Logger } from '@planner-deploy/action-kit';
import type { Release, ReleaseApi, ReleaseFields } from './github-api.js';
import type { MakeLatest } from './inputs.js';

export interface DesiredRelease {
  tag: string;
  name: string;
  body: string;
  prerelease: boolean;
  /** Leave the release a draft (a published release is never turned back into one). */
  draft: boolean;
  makeLatest: MakeLatest;
  /** Where GitHub creates the tag if it does not exist yet. */
  targetCommitish: string | undefined;
}

export interface UpsertResult {
  release: Release;
  /** False when an existing release (published, or a draft of an earlier run) was updated. */
  created: boolean;
}

/**
 * Creates the release of a tag, or updates it when it exists, so that re-runs and concurrent runs end with
 * exactly one release:
 *
 * 1. a published release of the tag is updated;
 * 2. else a draft naming the tag (an earlier attempt that stopped before publishing) is updated and published;
 * 3. else a draft is created and then published (GitHub's order for immutable releases). A concurrent run
 *    that published the tag first makes the create or the publish answer `already_exists`: this run then
 *    deletes its own draft and updates the winner instead.
 */
export async function upsertRelease(
  api: ReleaseApi,
  desired: DesiredRelease,
  logger: Logger,
): Promise<UpsertResult> {
  const content: ReleaseFields = { name: desired.name, body: desired.body, prerelease: desired.prerelease };
  const publish: ReleaseFields = desired.draft ? {} : { draft: false, make_latest: desired.makeLatest };

  const published = await api.getByTag(desired.tag);
  if (published !== undefined)
    return { release: await updatePublished(api, published, desired, logger), created: false };

  const leftover = await api.findDraft(desired.tag);
  if (leftover !== undefined) {
    logger.info(
      `Found draft release ${leftover.id} of ${desired.tag} (left by an earlier run); updating it.`,
    );
    return finish(api, leftover, { ...content, ...publish }, desired, false, logger);
  }

  const created = await api.create({
    tag_name: desired.tag,
    ...content,
    draft: true,
    ...(desired.targetCommitish !== undefined ? { target_commitish: desired.targetCommitish } : {}),
  });
  if (created === 'already_exists') return adoptWinner(api, undefined, desired, logger);
  logger.info(`Created draft release ${created.id} of ${desired.tag}.`);
  if (desired.draft) return { release: created, created: true };
  return finish(api, created, publish, desired, true, logger);
}

async function finish(
  api: ReleaseApi,
  release: Release,
  fields: ReleaseFields,
  desired: DesiredRelease,
  created: boolean,
  logger: Logger,
): Promise<UpsertResult> {
  const updated = await api.update(release.id, fields);
  if (updated === 'already_exists') return adoptWinner(api, release, desired, logger);
  if (updated.draft) logger.info(`Left release ${updated.id} as a draft (input "draft" is true).`);
  else logger.info(`Published release ${updated.id} of ${desired.tag}.`);
  return { release: updated, created };
}

/** Another run published the tag between our look-up and our write: ours becomes theirs. */
async function adoptWinner(
  api: ReleaseApi,
  ours: Release | undefined,
  desired: DesiredRelease,
  logger: Logger,
): Promise<UpsertResult> {
  const winner = await api.getByTag(desired.tag);
  if (winner === undefined) {
    throw new ActionFailure(
      'Release conflict',
      `GitHub answered that a release of ${desired.tag} already exists, but none could be read back. Re-run the job.`,
    );
  }
  if (ours !== undefined && ours.id !== winner.id) {
    await api.remove(ours.id);
    logger.info(
      `Another run published release ${winner.id} of ${desired.tag} first; deleted our draft ${ours.id}.`,
    );
  } else {
    logger.info(`Another run created release ${winner.id} of ${desired.tag} first; updating it.`);
  }
  return { release: await updatePublished(api, winner, desired, logger), created: false };
}

async function updatePublished(
  api: ReleaseApi,
  release: Release,
  desired: DesiredRelease,
  logger: Logger,
): Promise<Release> {
  if (desired.draft) {
    logger.warning(
      `Release ${release.id} of ${desired.tag} is already published; input "draft" cannot turn it back into a draft, so it stays published.`,
    );
  }
  const updated = await api.update(release.id, {
    name: desired.name,
    body: desired.body,
    prerelease: desired.prerelease,
    make_latest: desired.makeLatest,
  });
  if (updated === 'already_exists') {
    throw new ActionFailure(
      'Release conflict',
      `GitHub refused to update release ${release.id} of ${desired.tag}.`,
    );
  }
  logger.info(`Updated release ${updated.id} of ${desired.tag}.`);
  return updated;
}
