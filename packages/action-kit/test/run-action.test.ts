// runAction through the runner's real contract: a TypeScript fixture action run by the harness.
import { describe, expect, it } from '@jest/globals';
import { runStep, typeScriptNodeArgs } from '@planner-deploy/runner-harness';

const action = 'packages/action-kit/test/fixtures/kit-probe';
const nodeArgs = typeScriptNodeArgs();
const errors = (r: Awaited<ReturnType<typeof runStep>>) => r.annotations.filter((a) => a.level === 'error');

describe('runAction', () => {
  it('runs main, writes outputs, masks the secret everywhere, then runs post with the saved state', async () => {
    const r = await runStep({ action, nodeArgs, inputs: { secret: 'hunter2-very-secret' } });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.outputs.result ?? '{}')).toEqual({ mode: 'ok' });
    expect(r.log).toContain('mode ok, secret ***');
    expect(r.log).not.toContain('hunter2-very-secret');
    expect(r.summary).toContain('secret in summary: ***');
    expect(r.post?.exitCode).toBe(0);
    expect(r.post?.log).toContain('post sees {"mode":"ok","at":"main"}');
  });

  it.each([
    ['config-error', 'Invalid input: mode', 'Input "mode" says so: fix it.'],
    ['failure', 'Rollout failed', 'The pod crashed: see the logs.'],
  ])('%s: exactly one error annotation, with its title, no stack', async (mode, title, message) => {
    const r = await runStep({ action, nodeArgs, inputs: { mode }, post: false });
    expect(r.exitCode).toBe(1);
    expect(errors(r)).toEqual([{ level: 'error', title, message }]);
    expect(r.log).not.toMatch(/\n\s+at /);
  });

  it('reports an internal error as a bug and keeps the stack for the debug log', async () => {
    const r = await runStep({ action, nodeArgs, inputs: { mode: 'bug' }, post: false });
    expect(r.exitCode).toBe(1);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]?.title).toBe('Internal error');
    expect(errors(r)[0]?.message).toContain('undefined is not a function');
    expect(r.commands.some((c) => c.command === 'debug' && c.message.includes('TypeError'))).toBe(true);
  });

  it('turns SIGINT into an abort: the logic says what it left, and the process exits well inside 7.5 s', async () => {
    const r = await runStep({
      action,
      nodeArgs,
      inputs: { mode: 'wait-for-cancel' },
      cancel: { whenLog: /^waiting$/ },
      post: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.exitAfterCancelMs).toBeLessThan(2000);
    expect(errors(r)).toEqual([
      { level: 'error', title: 'Cancelled', message: 'Cancelled while waiting; the Job keeps running.' },
    ]);
  });

  it('exits on its own before the runner escalates when the logic ignores the signal', async () => {
    const r = await runStep({
      action,
      nodeArgs,
      inputs: { mode: 'hang-on-cancel' },
      cancel: { whenLog: /^waiting$/ },
      post: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.signal).toBeNull();
    expect(r.exitAfterCancelMs).toBeLessThan(7500);
    expect(errors(r).some((a) => /did not finish within/.test(a.message))).toBe(true);
  });
});
