// The one way to print untrusted text, through the runner's real contract: the kit-probe fixture prints
// hostile lines through the Logger, then issues commands of its own; the harness reads its output with the
// runner's three rules.
import { describe, expect, it } from '@jest/globals';
import { runStep, typeScriptNodeArgs } from '@planner-deploy/runner-harness';
import { FORGED_MASK, HOSTILE_LINES, HOSTILE_VALUE, isForgedCommand } from '@planner-deploy/sandbox';

const action = 'packages/action-kit/test/fixtures/kit-probe';
const LATE_SECRET = 'k8s-aws-v1.refreshed-token-value-0123456789';

describe('printing untrusted text', () => {
  it('no command from the workload takes effect; the step’s own mask, group, warning and output all do', async () => {
    const r = await runStep({
      action,
      nodeArgs: typeScriptNodeArgs(),
      inputs: { mode: 'hostile' },
      env: { HOSTILE_LINES: HOSTILE_LINES.join('\n'), HOSTILE_VALUE, LATE_SECRET },
      // The scan fails the run if the late token shows anywhere the runner would show it.
      secrets: { 'the refreshed EKS token': LATE_SECRET },
      post: false,
    });
    expect(r.exitCode).toBe(0);
    expect(r.commands.filter(isForgedCommand)).toEqual([]);
    expect(r.masks).not.toContain(FORGED_MASK);
    // The mask registered after the workload's never-resumed `::stop-commands::x` took effect.
    expect(r.masks).toContain(LATE_SECRET);
    expect(r.log).toContain('refreshed token ***');
    expect(r.commands.filter((c) => c.command === 'group').map((c) => c.message)).toEqual([
      'After the workload',
    ]);
    expect(r.annotations).toEqual([
      { level: 'warning', title: 'Own warning', message: expect.stringContaining('The workload said: ') },
    ]);
    expect(r.outputs.late).toBe('own output');
    // The workload's lines are shown as they are (inside the fence), not dropped.
    expect(r.lines).toContain(HOSTILE_LINES[0]);
    expect(r.commandsStoppedAtEnd).toBe(false);
  });
});
