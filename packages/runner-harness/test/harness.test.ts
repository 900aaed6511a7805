import { describe, expect, it } from '@jest/globals';
import { parseFileCommands, parseWorkflowCommand, runStep } from '../src/index.js';

const probe = 'packages/runner-harness/test/fixtures/probe-action';

describe('parseFileCommands', () => {
  it('reads NAME=VALUE lines and heredocs', () => {
    expect(parseFileCommands('a=1\nb<<EOF\nx\ny=z\nEOF\nc=with=equals\n')).toEqual({
      a: '1',
      b: 'x\ny=z',
      c: 'with=equals',
    });
  });
  it('rejects a heredoc without its delimiter', () => {
    expect(() => parseFileCommands('b<<EOF\nx\n')).toThrow(/delimiter/);
  });
});

describe('parseWorkflowCommand', () => {
  it.each([
    [
      '::error title=Bad%2C input,file=a.yml::line one%0Aline two',
      'error',
      { title: 'Bad, input', file: 'a.yml' },
      'line one\nline two',
    ],
    ['::add-mask::s3cr3t', 'add-mask', {}, 's3cr3t'],
    ['::group::Checking', 'group', {}, 'Checking'],
  ])('%s', (line, command, properties, message) => {
    expect(parseWorkflowCommand(line)).toEqual({ command, properties, message });
  });
  it('ignores plain lines', () => {
    expect(parseWorkflowCommand('just a line :: with colons')).toBeUndefined();
  });
});

describe('runStep', () => {
  it('runs main then post with defaults, outputs, state, summary, masks and annotations', async () => {
    const result = await runStep({
      action: probe,
      inputs: { greeting: 'hi there' },
      github: { token: 'ghs_secretvalue123' },
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toEqual({ echoed: 'hi there', lines: 'first\nsecond' });
    expect(result.summary).toContain('## Probe');
    expect(result.log).toContain('the token is ***');
    expect(result.log).not.toContain('ghs_secretvalue123');
    expect(result.annotations).toEqual([
      { level: 'warning', title: 'Heads up', message: 'something\nto look at' },
    ]);
    expect(result.post?.exitCode).toBe(0);
    expect(result.post?.log).toContain('post step sees state main and multi-line "a\\nb"');
  });

  it('reports a failing step', async () => {
    const result = await runStep({ action: probe, inputs: { mode: 'fail' }, post: false });
    expect(result.exitCode).toBe(1);
    expect(result.annotations.find((a) => a.level === 'error')).toEqual({
      level: 'error',
      title: 'Probe failed',
      message: 'it failed on purpose',
    });
    expect(result.post).toBeUndefined();
  });

  it('sends SIGINT on cancel and times the exit', async () => {
    const result = await runStep({
      action: probe,
      inputs: { mode: 'wait' },
      cancel: { whenLog: /^waiting$/ },
      post: false,
    });
    expect(result.log).toContain('stopping after SIGINT');
    expect(result.cancelledAtMs).toBeDefined();
    expect(result.exitAfterCancelMs).toBeLessThan(7500);
  });

  it('refuses an input the action does not declare', async () => {
    await expect(runStep({ action: probe, inputs: { greting: 'typo' } })).rejects.toThrow(/not declared/);
  });
});
