/**
 * Semantic versions in tags, and the choice of the previous tag for release notes.
 *
 * A tag's "family" is the text before its version: `v1.2.0` is in family `v`, `api/v2.0.0` in `api/v`,
 * `1.0.0` in the empty family. Release notes compare a tag with the highest lower version of the same family,
 * so a hotfix `v1.1.1` released after `v2.0.0` compares with `v1.1.0`, a monorepo's `web/v3.0.0` never with
 * `api/v3.1.0`, and moving major tags such as `v1` (not full versions) are never chosen.
 */

export interface TagVersion {
  tag: string;
  /** Text before the version (`v`, `api/v`, or empty). */
  family: string;
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated prerelease identifiers (`rc.1` → ['rc', 1]); empty for a stable version. */
  prerelease: Array<string | number>;
}

const VERSION =
  /^(.*?)(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Parses `<family><major>.<minor>.<patch>[-prerelease][+build]`; undefined when the tag is not one. */
export function parseTag(tag: string): TagVersion | undefined {
  const match = VERSION.exec(tag);
  if (!match) return undefined;
  const [, family = '', major, minor, patch, prerelease] = match;
  // `1.2.3.4` would otherwise parse as family "1." and version 2.3.4.
  if (family !== '' && /[\d.]$/.test(family)) return undefined;
  return {
    tag,
    family,
    major: Number(major),
    minor: Number(minor),
    patch: Number(patch),
    prerelease:
      prerelease === undefined ? [] : prerelease.split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)),
  };
}

/** True when the tag is a version with a prerelease part (`v1.2.0-rc.1`). */
export function isPrereleaseTag(tag: string): boolean {
  return (parseTag(tag)?.prerelease.length ?? 0) > 0;
}

function compareIdentifiers(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  // Numeric identifiers have lower precedence than alphanumeric ones.
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Semantic version precedence (build metadata ignored); the family is not compared. */
export function compareVersions(a: TagVersion, b: TagVersion): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return core;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    // A stable version is higher than any prerelease of it.
    return b.prerelease.length - a.prerelease.length;
  }
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const order = compareIdentifiers(a.prerelease[i] as string | number, b.prerelease[i] as string | number);
    if (order !== 0) return order;
  }
  return a.prerelease.length - b.prerelease.length;
}

function sameFamily(version: TagVersion, tags: readonly string[]): TagVersion[] {
  return tags
    .map(parseTag)
    .filter((other): other is TagVersion => other !== undefined && other.family === version.family);
}

/**
 * The tag to compare `tag` with: the highest version of the same family lower than `tag`, skipping
 * prereleases when `tag` is stable (a stable release's notes cover everything since the last stable one).
 * Undefined when `tag` is not a version or nothing lower exists.
 */
export function previousTag(tag: string, tags: readonly string[]): string | undefined {
  const version = parseTag(tag);
  if (!version) return undefined;
  const stable = version.prerelease.length === 0;
  const lower = sameFamily(version, tags)
    .filter((other) => compareVersions(other, version) < 0)
    .filter((other) => !stable || other.prerelease.length === 0);
  // Equal precedence (tags differing only in build metadata): the name decides, so the choice is stable.
  lower.sort((a, b) => compareVersions(a, b) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return lower.pop()?.tag;
}

/** The stable tag of the same family with a higher version than `tag`, if any (the one that stays latest). */
export function higherStableTag(tag: string, tags: readonly string[]): string | undefined {
  const version = parseTag(tag);
  if (!version) return undefined;
  const higher = sameFamily(version, tags).filter(
    (other) => other.prerelease.length === 0 && compareVersions(other, version) > 0,
  );
  higher.sort(compareVersions);
  return higher.pop()?.tag;
}
