// Keeps every action README's inputs and outputs tables equal to its action.yml.
// `node scripts/readme-tables.mjs` rewrites them; `--check` lists the stale ones and exits 1.
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { parse } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');

const cell = (text) =>
  String(text ?? '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();

function tables(manifest) {
  const inputs = Object.entries(manifest.inputs ?? {}).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.required ? 'yes' : 'no'} | ${spec.default !== undefined && spec.default !== '' ? `\`${cell(spec.default)}\`` : '—'} | ${cell(spec.description)} |`,
  );
  const outputs = Object.entries(manifest.outputs ?? {}).map(
    ([name, spec]) => `| \`${name}\` | ${cell(spec.description)} |`,
  );
  return {
    inputs: ['| input | required | default | description |', '| --- | --- | --- | --- |', ...inputs].join(
      '\n',
    ),
    outputs: ['| output | description |', '| --- | --- |', ...outputs].join('\n'),
  };
}

function replaceBlock(text, name, table, file) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no ${start} … ${end} block`);
  return `${text.slice(0, a + start.length)}\n\n${table}\n\n${text.slice(b)}`;
}

const config = (await prettier.resolveConfig(join(root, 'README.md'))) ?? {};
const stale = [];
for (const action of readdirSync(join(root, 'actions'))) {
  const dir = join(root, 'actions', action);
  if (!existsSync(join(dir, 'action.yml'))) continue;
  const file = join(dir, 'README.md');
  if (!existsSync(file)) {
    stale.push(`actions/${action}/README.md is missing`);
    continue;
  }
  const manifest = parse(readFileSync(join(dir, 'action.yml'), 'utf8'));
  const current = readFileSync(file, 'utf8');
  if (!current.includes('<!-- inputs:start -->')) {
    // A README with hand-written tables (its action's own tests compare them with action.yml): every input
    // and output must at least be documented.
    const names = [...Object.keys(manifest.inputs ?? {}), ...Object.keys(manifest.outputs ?? {})];
    const missing = names.filter((name) => !current.includes(`\`${name}\``));
    if (missing.length > 0) stale.push(`actions/${action}/README.md does not document ${missing.join(', ')}`);
    continue;
  }
  const { inputs, outputs } = tables(manifest);
  let next;
  try {
    next = replaceBlock(replaceBlock(current, 'inputs', inputs, file), 'outputs', outputs, file);
  } catch (error) {
    stale.push(error.message);
    continue;
  }
  next = await prettier.format(next, { ...config, parser: 'markdown' });
  if (next !== current) {
    if (check) stale.push(`actions/${action}/README.md: the inputs/outputs tables differ from action.yml`);
    else writeFileSync(file, next);
  }
}
if (stale.length > 0) {
  console.error(stale.join('\n'));
  if (check) console.error('Run `node scripts/readme-tables.mjs` to regenerate them.');
  process.exitCode = check ? 1 : 0;
}
