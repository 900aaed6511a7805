// licenses.txt of a dist (scripts/lib/licenses.mjs, run by scripts/build.mjs on webpack's stats): every
// bundled package listed, each licence text once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLicenses } from '../scripts/lib/licenses.mjs';

const MIT_TEXT = 'MIT License\n\nCopyright (c) Example Authors\n\nPermission is hereby granted…';
const APACHE_TEXT = 'Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS…';

let dir: string;
let text: string;

async function pkg(name: string, license: string, files: Record<string, string>): Promise<string> {
  const root = join(dir, 'node_modules', name);
  await mkdir(join(root, 'lib'), { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name, version: '1.2.3', license }));
  for (const [file, content] of Object.entries(files)) await writeFile(join(root, file), content);
  return root;
}

// Identifiers as webpack's stats give them: "[type|]<loaders>!<path>[|<hash>]".
const loaders = '/x/node_modules/@vercel/ncc/dist/ncc/loaders/relocate-loader.js??ruleSet[1]!';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'licenses-'));
  const a = await pkg('pkg-a', 'MIT', { LICENSE: MIT_TEXT });
  const b = await pkg('@scope/pkg-b', 'MIT', { 'LICENSE.md': `${MIT_TEXT.replace(/\n/g, '\r\n')}\r\n` });
  const c = await pkg('pkg-c', 'Apache-2.0', { LICENCE: APACHE_TEXT, 'README.md': 'not a licence' });
  const d = await pkg('pkg-d', 'ISC', {});
  const shaken = await pkg('pkg-shaken', 'GPL-3.0', { COPYING: 'GPL text' });
  const stats = {
    modules: [
      { identifier: `${loaders}${a}/lib/index.js`, chunks: [1] },
      { identifier: `${loaders}${a}/lib/other.js`, chunks: [2] },
      {
        // A concatenated module: ours first, a package inside it.
        identifier: `${loaders}${dir}/packages/kit/src/index.ts|0123abcd`,
        chunks: [1],
        modules: [
          { identifier: `${loaders}${dir}/packages/kit/src/index.ts` },
          { identifier: `javascript/esm|${loaders}${b}/lib/core.js` },
        ],
      },
      { identifier: `${loaders}${c}/lib/index.js`, chunks: [3] },
      { identifier: `${d}/lib/index.js`, chunks: [3] },
      // Dropped by the bundler (in no chunk): not in the dist, not in the file.
      { identifier: `${loaders}${shaken}/lib/index.js`, chunks: [] },
    ],
  };
  await writeLicenses(join(dir, 'licenses.txt'), stats);
  text = await readFile(join(dir, 'licenses.txt'), 'utf8');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('licenses.txt', () => {
  it('prints a licence text shared by several packages once, after all of them', () => {
    expect(text.split('Copyright (c) Example Authors')).toHaveLength(2);
    const mit = text.indexOf('MIT:\n');
    expect(mit).toBeGreaterThan(-1);
    expect(text.indexOf('  @scope/pkg-b@1.2.3\n', mit)).toBeGreaterThan(mit);
    expect(text.indexOf('  pkg-a@1.2.3\n', mit)).toBeGreaterThan(mit);
    expect(text.indexOf('Copyright (c) Example Authors')).toBeGreaterThan(text.indexOf('  pkg-a@1.2.3'));
  });

  it('lists a package bundled inside a concatenated module, and not our own sources', () => {
    expect(text).toContain('@scope/pkg-b@1.2.3');
    expect(text).not.toContain('packages/kit');
  });

  it('keeps each different text, with its licence named', () => {
    expect(text).toContain('Apache-2.0:\n  pkg-c@1.2.3\n');
    expect(text).toContain('TERMS AND CONDITIONS');
    expect(text).not.toContain('not a licence');
  });

  it('says so for a package that ships no licence file', () => {
    expect(text).toContain('ISC:\n  pkg-d@1.2.3\n');
    expect(text).toContain('(The package ships no licence file; its package.json names ISC.)');
  });

  it('leaves out a package the bundler dropped', () => {
    expect(text).not.toContain('pkg-shaken');
    expect(text).not.toContain('GPL');
  });
});
