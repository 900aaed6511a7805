// Builds every action's dist/ with ncc (minified, licenses.txt, no source map), two at a time:
// one ncc build takes ~2.4 GB and a core. `pnpm build [name…]` builds only the named actions.
// ncc bundles src/index.ts (GitHub's entry shape: it calls main.ts's run()) into dist/index.js.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { minify } from 'terser';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const ncc = join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js');

const wanted = process.argv.slice(2);
const actions = readdirSync(join(root, 'actions'))
  .filter((name) => existsSync(join(root, 'actions', name, 'src/index.ts')))
  .filter((name) => wanted.length === 0 || wanted.includes(name));

async function build(name) {
  const dir = join(root, 'actions', name);
  const started = Date.now();
  await rm(join(dir, 'dist'), { recursive: true, force: true });
  const scratch = await mkdtemp(join(tmpdir(), `build-${name}-`));
  try {
    const statsFile = join(scratch, 'stats.json');
    await run(
      process.execPath,
      [ncc, 'build', 'src/index.ts', '-o', 'dist', '-m', '--stats-out', statsFile, '-q'],
      {
        cwd: dir,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    await writeLicenses(join(dir, 'dist/licenses.txt'), JSON.parse(await readFile(statsFile, 'utf8')));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await minifyDist(join(dir, 'dist'));
  // ncc emits ESM for "type": "module" packages; the dist's own package.json makes Node load it as ESM.
  await writeFile(join(dir, 'dist/package.json'), '{ "type": "module" }\n');
  console.log(`built actions/${name}/dist in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/**
 * ncc's -m runs terser over dist/index.js only, and without compression: webpack runs with `minimize: false`
 * and ncc minifies the one entry file itself, so the chunks of dynamic imports (`<id>.index.js`: the SDK and
 * client-node code) stay unminified. This runs terser over every file of the dist, compressing too, with
 * class and function names kept (error handling reads `error.name`). Licence texts are in licenses.txt.
 */
async function minifyDist(dist) {
  for (const file of await readdir(dist)) {
    if (!file.endsWith('.js')) continue;
    const path = join(dist, file);
    const result = await minify(await readFile(path, 'utf8'), {
      module: true,
      compress: true,
      mangle: { keep_classnames: true, keep_fnames: true },
      format: { comments: false },
    });
    if (result.code === undefined) throw new Error(`terser returned nothing for ${file}`);
    await writeFile(path, result.code);
  }
}

/**
 * Writes licenses.txt: every third-party package with code in the dist, grouped by licence, each licence text
 * once after the list of packages it covers (the Kubernetes dists carried the same Apache-2.0 text 24 times).
 * Written here rather than by ncc's `--license` (license-webpack-plugin) for two reasons: that plugin prints
 * the full text once per package, and it reads only the first module of a concatenated (scope-hoisted) module,
 * so packages bundled inside one (@actions/core inside action-kit's) were missing from the file.
 * The packages come from webpack's stats (the modules, and the modules inside concatenated ones, that are in
 * a chunk of the dist); the licence from the package's package.json and its LICENSE/LICENCE/COPYING file.
 */
async function writeLicenses(file, stats) {
  const roots = new Set();
  const visit = (module, bundled) => {
    const inChunk = bundled || (module.chunks?.length ?? 0) > 0;
    if (module.modules) {
      for (const inner of module.modules) visit(inner, inChunk);
      return;
    }
    if (!inChunk) return;
    // An identifier is "[type|]<loader>!…!<path>[|<hash>]"; the package root is the last node_modules entry.
    const path = String(module.identifier ?? '')
      .split('!')
      .pop()
      .replace(/\|.*$/, '');
    const match = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (match) roots.add(match[1]);
  };
  for (const module of stats.modules ?? []) visit(module, false);

  const groups = new Map();
  for (const root of roots) {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    const license =
      (typeof pkg.license === 'string' ? pkg.license : pkg.license?.type) ??
      'no licence named in package.json';
    const licenseFile = (await readdir(root)).sort().find((f) => /^(licen[cs]e|copying)(\b|$)/i.test(f));
    const text = licenseFile
      ? (await readFile(join(root, licenseFile), 'utf8')).replace(/\r\n?/g, '\n').trim()
      : `(The package ships no licence file; its package.json names ${license}.)`;
    const key = `${license}\n${text}`;
    if (!groups.has(key)) groups.set(key, { license, text, packages: [] });
    groups.get(key).packages.push(`${pkg.name}@${pkg.version}`);
  }
  const rule = '='.repeat(80);
  const sections = [...groups.values()]
    .map((g) => ({ ...g, packages: g.packages.sort() }))
    .sort((a, b) => (a.packages[0] < b.packages[0] ? -1 : 1))
    .map((g) => [rule, `${g.license}:`, ...g.packages.map((p) => `  ${p}`), rule, '', g.text, ''].join('\n'));
  const intro =
    'Third-party packages bundled in this dist, grouped by licence: each licence text appears once, after ' +
    'the packages it covers.';
  await writeFile(file, `${[intro, '', ...sections].join('\n')}`);
}

const queue = [...actions];
let failed = 0;
async function worker() {
  for (let name = queue.shift(); name; name = queue.shift()) {
    try {
      await build(name);
    } catch (error) {
      failed++;
      console.error(`build of actions/${name} failed:\n${error.stderr || error.message}`);
    }
  }
}
await Promise.all([worker(), worker()]);
if (actions.length === 0) console.log('no actions to build');
process.exitCode = failed > 0 ? 1 : 0;
