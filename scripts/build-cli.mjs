// Builds packages/cli/dist: the CLI and everything it imports (the workspace packages, client-node, the AWS
// SDK clients, yaml) in one ncc bundle, as the actions are built, so the packed CLI needs no dependencies and
// no repository. Run by packages/cli's `prepack` (pnpm pack / npm pack) and `build` scripts; not committed.
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nccBuild } from './lib/ncc.mjs';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'packages/cli');

const started = Date.now();
await rm(join(cli, 'dist'), { recursive: true, force: true });
await nccBuild(cli, 'src/main.ts');
await writeFile(join(cli, 'dist/package.json'), '{ "type": "module" }\n');
// A native addon would tie the package to one platform and Node ABI: the CLI must stay pure JavaScript.
const native = (await readdir(join(cli, 'dist'), { recursive: true })).filter((f) => f.endsWith('.node'));
if (native.length > 0) throw new Error(`packages/cli/dist holds native addons: ${native.join(', ')}`);
let bytes = 0;
for (const file of await readdir(join(cli, 'dist'), { recursive: true })) {
  const s = await stat(join(cli, 'dist', file));
  if (s.isFile()) bytes += s.size;
}
console.log(
  `built packages/cli/dist in ${((Date.now() - started) / 1000).toFixed(1)}s (${(bytes / 1024 / 1024).toFixed(1)} MiB)`,
);
