// Every action's README documents exactly the inputs and outputs of its action.yml.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

describe('action READMEs', () => {
  it('have inputs and outputs tables in sync with action.yml', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, [join(root, 'scripts/readme-tables.mjs'), '--check'], { stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr?: Buffer }).stderr ?? error);
    }
    expect(stderr).toBe('');
  });
});
