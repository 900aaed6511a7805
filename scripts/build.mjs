// Builds every action's dist/ with ncc (minified, licenses.txt, no source map), two at a time:
// one ncc build takes ~2.4 GB and a core. `pnpm build [name…]` builds only the named actions.
// ncc bundles src/index.ts (GitHub's entry shape: it calls main.ts's run()) into dist/index.js.
import { existsSync, readdirSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { minify } from 'terser';
import { nccBuild } from './lib/ncc.mjs';

const root = new URL('..', import.meta.url).pathname;

const wanted = process.argv.slice(2);
const actions = readdirSync(join(root, 'actions'))
  .filter((name) => existsSync(join(root, 'actions', name, 'src/index.ts')))
  .filter((name) => wanted.length === 0 || wanted.includes(name));

async function build(name) {
  const dir = join(root, 'actions', name);
  const started = Date.now();
  await rm(join(dir, 'dist'), { recursive: true, force: true });
  await nccBuild(dir, 'src/index.ts');
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
