import type { ReleasesStore } from './releases-store.js';

export interface GeneratedNotes {
  name: string;
  body: string;
}

/**
 * What `POST /repos/{o}/{r}/releases/generate-notes` answers: a name (the tag) and a Markdown body ending in
 * GitHub's "Full Changelog" compare link. Without `previous_tag_name`, GitHub compares with the latest
 * published release other than this tag; without any, it links the commits of the tag.
 */
export function generateNotes(
  store: ReleasesStore,
  tag: string,
  previous: string | undefined,
): GeneratedNotes {
  const base =
    previous ??
    store
      .all()
      .filter((release) => !release.draft && release.tag_name !== tag)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id)
      .pop()?.tag_name;
  const web = `https://github.com/${store.owner}/${store.repo}`;
  const changelog =
    base === undefined
      ? `**Full Changelog**: ${web}/commits/${tag}`
      : `**Full Changelog**: ${web}/compare/${base}...${tag}`;
  const body = ["## What's Changed", `* Changes in ${tag} by @octocat in ${web}/pull/1`, '', changelog].join(
    '\n',
  );
  return { name: tag, body };
}
