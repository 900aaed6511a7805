// One ncc build (minified, no source map) into `<cwd>/dist`, with the dist's licenses.txt written from the
// bundler's stats by licenses.mjs (ncc's --license leaves out packages inside a concatenated module). Used for
// the actions (scripts/build.mjs) and the packed CLI (scripts/build-cli.mjs).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeLicenses } from './licenses.mjs';

const run = promisify(execFile);
const ncc = join(new URL('../..', import.meta.url).pathname, 'node_modules/@vercel/ncc/dist/ncc/cli.js');

/** Builds `entry` (relative to `cwd`) into `<cwd>/dist` with licenses.txt. */
export async function nccBuild(cwd, entry) {
  const scratch = await mkdtemp(join(tmpdir(), 'ncc-build-'));
  try {
    const statsFile = join(scratch, 'stats.json');
    await run(process.execPath, [ncc, 'build', entry, '-o', 'dist', '-m', '--stats-out', statsFile, '-q'], {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    await writeLicenses(join(cwd, 'dist/licenses.txt'), JSON.parse(await readFile(statsFile, 'utf8')));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
