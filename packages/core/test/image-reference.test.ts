import { describe, expect, it } from '@jest/globals';
import { IMAGE_REFERENCE_MAX_LENGTH, imageReferenceProblem } from '../src/image-reference.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('imageReferenceProblem', () => {
  it.each([
    'nginx',
    'planner-app:v2',
    'registry.local/planner-app:v2',
    'localhost:5000/team/app_x__y:1.2.3-rc.1',
    `123456789012.dkr.ecr.eu-west-1.amazonaws.com/planner@${DIGEST}`,
    `registry.local/app:v1@${DIGEST}`,
    // At the limits: a 255-character name and a 128-character tag.
    `r.io/${'a'.repeat(250)}:${'t'.repeat(128)}@${DIGEST}`,
  ])('accepts %s', (reference) => {
    expect(imageReferenceProblem(reference)).toBeUndefined();
  });

  it.each<[string, string, RegExp]>([
    [
      'a 100 KB reference',
      `registry.local/${'a'.repeat(100_000)}`,
      /is 100015 characters long; an image reference is at most 456/,
    ],
    ['a name of 256', `r.io/${'a'.repeat(251)}`, /its name is 256 characters long; .* at most 255/],
    ['a tag of 129', `r.io/app:${'t'.repeat(129)}`, /its tag is 129 characters long; a tag is at most 128/],
    ['a short digest', 'r.io/app@sha256:abc', /digest after "@" must be sha256: and 64/],
    ['upper case', 'r.io/Planner', /repository must be lower-case/],
    ['a bad tag', 'r.io/app:-x', /the tag must be/],
    ['empty', '', /repository must be/],
  ])('refuses %s', (_what, reference, message) => {
    expect(imageReferenceProblem(reference)).toMatch(message);
  });

  it('the longest valid reference is the sum of the parts', () => {
    expect(IMAGE_REFERENCE_MAX_LENGTH).toBe(255 + 1 + 128 + 1 + 71);
  });
});
