import { describe, expect, it } from '@jest/globals';
import type { Inputs } from '../../src/inputs.js';
import { buildSummary, formatSize, toOutputs } from '../../src/report.js';
import type { BuildResult } from '../../src/run.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const DIGEST = `sha256:${'d'.repeat(64)}`;
const inputs = { source: { sha: SHA } } as Inputs;
const pushed: BuildResult = {
  name: '1.dkr.ecr.eu-west-1.amazonaws.com/planner/app',
  registry: '1.dkr.ecr.eu-west-1.amazonaws.com',
  tags: [SHA, 'staging-latest'],
  digest: DIGEST,
  sizeInBytes: 3 * 1024 * 1024 + 512 * 1024,
  built: false,
  pushed: false,
  builder: undefined,
  addedTags: ['staging-latest'],
  repositoryCreated: false,
  durationMs: 1500,
};

describe('outputs', () => {
  it('image by digest, image-uri by SHA, tags as full references', () => {
    expect(toOutputs(pushed, inputs)).toEqual({
      image: `1.dkr.ecr.eu-west-1.amazonaws.com/planner/app@${DIGEST}`,
      'image-uri': `1.dkr.ecr.eu-west-1.amazonaws.com/planner/app:${SHA}`,
      digest: DIGEST,
      tags: `1.dkr.ecr.eu-west-1.amazonaws.com/planner/app:${SHA}\n1.dkr.ecr.eu-west-1.amazonaws.com/planner/app:staging-latest`,
      built: 'false',
      registry: '1.dkr.ecr.eu-west-1.amazonaws.com',
    });
  });

  it('no image or digest when nothing was pushed', () => {
    const local = { ...pushed, name: 'planner/app', registry: '', digest: undefined, built: true };
    expect(toOutputs(local, inputs)).toMatchObject({
      image: '',
      digest: '',
      'image-uri': `planner/app:${SHA}`,
    });
  });
});

describe('summary', () => {
  it('says reused, the digest, the size and which tags changed', () => {
    const text = buildSummary(pushed, inputs).render();
    expect(text).toContain(DIGEST);
    expect(text).toContain('3.5 MiB');
    expect(text).toContain('reused');
    expect(text).toMatch(/staging-latest \| pointed here now/);
    expect(text).toMatch(new RegExp(`${SHA} \\| already here`));
  });

  it.each([
    [undefined, '—'],
    [512, '512 B'],
    [2048, '2.0 KiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
  ])('formatSize(%s) = %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});
