// The README's examples are what the action accepts. (Its inputs/outputs tables are kept equal to action.yml
// by scripts/readme-tables.mjs and the repository's test of it.)
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { parseSmokeTests } from '../../src/smoke-tests.js';

const readmeUrl = new URL('../../README.md', import.meta.url);

describe('README', () => {
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
