// action.yml, the README's tables and the code agree: every input documented, every output set.
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readManifest } from '@planner-deploy/runner-harness';
import { toOutputs } from '../../src/report.js';

interface Manifest {
  name: string;
  description: string;
  branding: { icon: string; color: string };
  inputs: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

const dir = new URL('../../', import.meta.url);
const manifest = (await readManifest(fileURLToPath(dir))) as unknown as Manifest;
const readme = await readFile(new URL('README.md', dir), 'utf8');
const source = await readFile(new URL('src/inputs.ts', dir), 'utf8');

/** The README's table row whose first cell is `name` (Prettier pads the cells), as trimmed cells. */
function row(section: 'Inputs' | 'Outputs', name: string): string[] | undefined {
  const start = readme.indexOf(`## ${section}\n`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .map((line) => line.split(/(?<!\\)\|/).map((cell) => cell.trim()))
    .find((cells) => cells[1] === `\`${name}\``);
}

describe('action.yml', () => {
  it('runs the dist on node24 and is branded', () => {
    expect(manifest.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(manifest.branding.icon).not.toBe('');
    expect(manifest.description.length).toBeGreaterThan(40);
  });

  it.each(Object.entries(manifest.inputs))(
    'input %s is described with its default, read, and in the README',
    (name, spec) => {
      expect(spec.description).toMatch(/default/i);
      expect('default' in spec).toBe(true);
      expect(source).toContain(`'${name}'`);
      const cells = row('Inputs', name);
      expect(cells?.[2]).toBe(spec.description.replace(/\|/g, '\\|').trim());
      expect(cells?.[3]).toBe(spec.default === undefined || spec.default === '' ? '' : `\`${spec.default}\``);
    },
  );

  it('sets exactly the declared outputs, each in the README', () => {
    const outputs = toOutputs({
      done: true,
      tag: 'v1.0.0',
      name: 'v1.0.0',
      id: 1,
      url: 'u',
      uploadUrl: 'up',
      created: true,
      draft: false,
      prerelease: false,
      makeLatest: 'true',
      latestWhy: 'the highest version of its family',
      notes: { kind: 'tag', tag: 'v0.9.0', chosen: 'family' },
    });
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(manifest.outputs).sort());
    for (const [name, spec] of Object.entries(manifest.outputs))
      expect(row('Outputs', name)?.[2]).toBe(spec.description.trim());
    expect(toOutputs({ done: false, reason: 'not a tag' })).toEqual({ created: 'false' });
  });
});
