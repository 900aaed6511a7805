import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFileCommands, parseWorkflowCommand } from '@planner-deploy/runner-harness';
import { runner } from '../src/index.js';

let written: string[];
let output: string;
const saved = { ...process.env };

beforeEach(() => {
  written = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  output = join(mkdtempSync(join(tmpdir(), 'kit-')), 'output');
  writeFileSync(output, '');
  process.env.GITHUB_OUTPUT = output;
});

afterEach(() => {
  jest.restoreAllMocks();
  process.env = { ...saved };
});

describe('runner protocol', () => {
  it('escapes annotation messages and properties so the runner reads them back intact', () => {
    runner.annotate('error', '50% done\nsecond line', { title: 'a: b, c' });
    expect(parseWorkflowCommand(written.join('').trimEnd())).toEqual({
      command: 'error',
      properties: { title: 'a: b, c' },
      message: '50% done\nsecond line',
    });
  });

  it('writes outputs as heredocs the runner parses, multi-line values included', () => {
    runner.setOutput('result-json', '[{"a":1}]');
    runner.setOutput('log', 'line 1\nline 2');
    expect(parseFileCommands(readFileSync(output, 'utf8'))).toEqual({
      'result-json': '[{"a":1}]',
      log: 'line 1\nline 2',
    });
  });
});
