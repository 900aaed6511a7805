import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFileCommands, parseWorkflowCommand } from '@planner-deploy/runner-harness';
import { maskSecret, runner, saveState, SummaryBuilder } from '../src/index.js';

let written: string[];
let output: string;
const saved = { ...process.env };

beforeEach(() => {
  written = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  const dir = mkdtempSync(join(tmpdir(), 'kit-'));
  output = join(dir, 'output');
  for (const [variable, file] of Object.entries(files(dir))) {
    writeFileSync(file, '');
    process.env[variable] = file;
  }
});

function files(dir: string): Record<string, string> {
  return {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
  };
}

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

  it('writes state and env through their files, and the env also into this process', () => {
    saveState('login', { registry: 'r.example' });
    runner.exportVariable('PLANNER_X', 'a=b\nc');
    expect(parseFileCommands(readFileSync(process.env.GITHUB_STATE!, 'utf8'))).toEqual({
      login: '{"registry":"r.example"}',
    });
    expect(parseFileCommands(readFileSync(process.env.GITHUB_ENV!, 'utf8'))).toEqual({ PLANNER_X: 'a=b\nc' });
    expect(process.env.PLANNER_X).toBe('a=b\nc');
  });

  it('registers masks as add-mask commands, the whole value and each long line', () => {
    maskSecret('first-line-secret\nsecond-line-secret');
    const masks = written
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => parseWorkflowCommand(line))
      .filter((c) => c?.command === 'add-mask')
      .map((c) => c?.message);
    expect(masks).toEqual([
      'first-line-secret\nsecond-line-secret',
      'first-line-secret',
      'second-line-secret',
    ]);
  });

  it('appends the redacted summary to GITHUB_STEP_SUMMARY, after what earlier steps wrote', async () => {
    writeFileSync(process.env.GITHUB_STEP_SUMMARY!, '# earlier step\n');
    maskSecret('s3cr3t-token-value');
    expect(await new SummaryBuilder().heading('Rollout').paragraph('token s3cr3t-token-value').write()).toBe(
      true,
    );
    expect(readFileSync(process.env.GITHUB_STEP_SUMMARY!, 'utf8')).toBe(
      '# earlier step\n## Rollout\n\ntoken ***\n\n',
    );
  });

  it('writes no summary when the runner gives no summary file', async () => {
    delete process.env.GITHUB_STEP_SUMMARY;
    expect(await new SummaryBuilder().heading('Rollout').write()).toBe(false);
  });
});
