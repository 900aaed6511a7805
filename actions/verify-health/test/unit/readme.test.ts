// The README's inputs and outputs tables are generated from action.yml; this test keeps them in sync.
// To refresh them after changing action.yml: VERIFY_HEALTH_WRITE_README=1 pnpm jest actions/verify-health/test/unit/readme
import { describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { parseSmokeTests } from '../../src/smoke-tests.js';

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

const readmeUrl = new URL('../../README.md', import.meta.url);

function cell(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');
}

export function renderTables(action: ActionYml): { inputs: string; outputs: string } {
  const inputs = [
    '| input | default | description |',
    '| --- | --- | --- |',
    ...Object.entries(action.inputs).map(([name, input]) => {
      const fallback =
        input.default === undefined || input.default === ''
          ? input.required
            ? 'required'
            : '—'
          : `\`${input.default}\``;
      return `| \`${name}\` | ${fallback} | ${cell(input.description)} |`;
    }),
  ].join('\n');
  const outputs = [
    '| output | description |',
    '| --- | --- |',
    ...Object.entries(action.outputs).map(
      ([name, output]) => `| \`${name}\` | ${cell(output.description)} |`,
    ),
  ].join('\n');
  return { inputs, outputs };
}

/** The table between the markers, with the padding Prettier adds removed (so a formatted README compares equal). */
function section(markdown: string, name: string): string | undefined {
  const match = new RegExp(`<!-- ${name}:start -->\\n+([\\s\\S]*?)\\n+<!-- ${name}:end -->`).exec(markdown);
  return match?.[1] === undefined ? undefined : normalize(match[1]);
}

function normalize(table: string): string {
  return table
    .split('\n')
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .map((part) => part.trim())
        .map((part) => (/^-+$/.test(part) ? '---' : part))
        .join(' | ')
        .trim(),
    )
    .join('\n');
}

describe('README', () => {
  it('has the inputs and outputs tables of action.yml', async () => {
    const action = parse(await readFile(new URL('../../action.yml', import.meta.url), 'utf8')) as ActionYml;
    const tables = renderTables(action);
    let readme = await readFile(readmeUrl, 'utf8');
    if (process.env.VERIFY_HEALTH_WRITE_README === '1') {
      for (const name of ['inputs', 'outputs'] as const) {
        readme = readme.replace(
          new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(\\n<!-- ${name}:end -->)`),
          (_all, start: string, end: string) => `${start}\n${tables[name]}\n${end}`,
        );
      }
      await writeFile(readmeUrl, readme);
    }
    expect(section(readme, 'inputs')).toBe(normalize(tables.inputs));
    expect(section(readme, 'outputs')).toBe(normalize(tables.outputs));
  });

  it('shows a smoke-tests file that the action accepts', async () => {
    const readme = await readFile(readmeUrl, 'utf8');
    const example = /### Smoke-tests file[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const checks = await parseSmokeTests(example ?? '', 'README.md', undefined);
    expect(checks.map((check) => [check.name, check.method, check.url.href])).toEqual([
      ['tasks API', 'GET', 'https://planner.example.com/api/tasks?limit=1'],
      ['login page', 'GET', 'https://planner.example.com/login'],
      ['anonymous writes are refused', 'POST', 'https://planner.example.com/api/tasks'],
      ['https://status.planner.example.com/ping', 'GET', 'https://status.planner.example.com/ping'],
    ]);
  });
});
