/**
 * Container image references (`[registry[:port]/]repository[:tag][@sha256:<64 hex>]`) and their length
 * limits, as the distribution reference grammar sets them: the name (registry host and repository path) at
 * most 255 characters, a tag at most 128, a digest `sha256:` and 64 lower-case hex digits. A reference
 * longer than that can never be pulled, so it is refused before anything is changed (a 100 KB "image"
 * would otherwise be patched into a Deployment).
 */
export const IMAGE_NAME_MAX_LENGTH = 255;
export const IMAGE_TAG_MAX_LENGTH = 128;
/** Name, `:` tag, `@sha256:` digest: the longest reference that can be valid. */
export const IMAGE_REFERENCE_MAX_LENGTH = IMAGE_NAME_MAX_LENGTH + 1 + IMAGE_TAG_MAX_LENGTH + 1 + 7 + 64;

const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d+)?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]*$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Why `reference` is not a valid image reference, or undefined when it is. */
export function imageReferenceProblem(reference: string): string | undefined {
  // The length first: no pattern runs over a huge value.
  if (reference.length > IMAGE_REFERENCE_MAX_LENGTH) {
    return `it is ${reference.length} characters long; an image reference is at most ${IMAGE_REFERENCE_MAX_LENGTH} (a name of at most ${IMAGE_NAME_MAX_LENGTH}, a tag of at most ${IMAGE_TAG_MAX_LENGTH}, a sha256 digest)`;
  }
  let rest = reference;
  const at = rest.indexOf('@');
  if (at >= 0) {
    if (!DIGEST.test(rest.slice(at + 1)))
      return 'the digest after "@" must be sha256: and 64 lower-case hex digits';
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const tag = rest.slice(colon + 1);
    if (tag.length > IMAGE_TAG_MAX_LENGTH) {
      return `its tag is ${tag.length} characters long; a tag is at most ${IMAGE_TAG_MAX_LENGTH}`;
    }
    if (!TAG.test(tag))
      return 'the tag must be letters, digits, "_", "." and "-", not starting with "." or "-"';
    rest = rest.slice(0, colon);
  }
  if (rest.length > IMAGE_NAME_MAX_LENGTH) {
    return `its name is ${rest.length} characters long; an image name (registry and repository) is at most ${IMAGE_NAME_MAX_LENGTH}`;
  }
  const parts = rest.split('/');
  const first = parts[0] ?? '';
  const hasRegistry =
    parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry && !HOST.test(first)) return `"${first}" is not a registry host[:port]`;
  const path = hasRegistry ? parts.slice(1) : parts;
  if (path.length === 0 || !path.every((part) => PATH_COMPONENT.test(part))) {
    return 'the repository must be lower-case letters, digits and separators (".", "_", "__", "-") between "/"';
  }
  return undefined;
}
