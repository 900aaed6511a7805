/**
 * Semantic versions in tags, and the choice of the previous tag for release notes.
 *
 * A tag's "family" is the text before its version: `v1.2.0` is in family `v`, `api/v2.0.0` in `api/v`,
 * `1.0.0` in the empty family. Release notes compare a tag with the highest lower version of the same family,
 * so a hotfix `v1.1.1` released after `v2.0.0` compares with `v1.1.0`, a monorepo's `web/v3.0.0` never with
 * `api/v3.1.0`, and moving major tags such as `v1` (not full versions) are never chosen.
 */

// The two modules used, not the package's index: that loads every semver module (ranges included) at start-up.
import SemVer from 'semver/classes/semver.js';
import compare from 'semver/functions/compare.js';

export interface TagVersion {
  tag: string;
  /** Text before the version (`v`, `api/v`, or empty). */
  family: string;
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated prerelease identifiers (`rc.1` → ['rc', 1]); empty for a stable version. */
  prerelease: Array<string | number>;
  /** The version as the `semver` package parsed it (precedence comes from there). */
  version: SemVer;
}

/** The version part per the `semver` package (strict: no `v`, `=` or spaces), or undefined. */
function strictVersion(text: string): SemVer | undefined {
  if (!/^\d/.test(text) || /\s/.test(text)) return undefined;
  try {
    return new SemVer(text);
  } catch {
    return undefined;
  }
}

/**
 * Parses `<family><major>.<minor>.<patch>[-prerelease][+build]`; undefined when the tag is not one. The
 * family is the shortest prefix after which the rest is a semantic version (the `semver` package decides);
 * a family ending in a digit or a dot is refused, or `1.2.3.4` would be family "1." and version 2.3.4.
 */
export function parseTag(tag: string): TagVersion | undefined {
  for (let at = 0; at < tag.length; at++) {
    const version = strictVersion(tag.slice(at));
    if (!version) continue;
    const family = tag.slice(0, at);
    if (family !== '' && /[\d.]$/.test(family)) return undefined;
    return {
      tag,
      family,
      major: version.major,
      minor: version.minor,
      patch: version.patch,
      prerelease: [...version.prerelease],
      version,
    };
  }
  return undefined;
}

/** True when the tag is a version with a prerelease part (`v1.2.0-rc.1`). */
export function isPrereleaseTag(tag: string): boolean {
  return (parseTag(tag)?.prerelease.length ?? 0) > 0;
}

/** Semantic version precedence (build metadata ignored), from the `semver` package; the family is not compared. */
export function compareVersions(a: TagVersion, b: TagVersion): number {
  return compare(a.version, b.version);
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
