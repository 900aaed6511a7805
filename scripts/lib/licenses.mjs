// licenses.txt of an action's dist, from webpack's stats (scripts/build.mjs runs ncc with --stats-out).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes licenses.txt: every third-party package with code in the dist, grouped by licence, each licence text
 * once after the list of packages it covers (the Kubernetes dists carried the same Apache-2.0 text 24 times).
 * Written here rather than by ncc's `--license` (license-webpack-plugin) for two reasons: that plugin prints
 * the full text once per package, and it reads only the first module of a concatenated (scope-hoisted) module,
 * so packages bundled inside one (@actions/core inside action-kit's) were missing from the file.
 * The packages come from webpack's stats (the modules, and the modules inside concatenated ones, that are in
 * a chunk of the dist); the licence from the package's package.json and its LICENSE/LICENCE/COPYING file.
 */
export async function writeLicenses(file, stats) {
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
