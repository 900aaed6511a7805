import { runAction, setOutputs } from '@planner-deploy/action-kit';
import { readInputs } from './inputs.js';
import { buildFailureSummary, buildSummary, toOutputs } from './report.js';
import { createRelease } from './run.js';

// Entry of the action: inputs are read and validated (the token masked first) before any request, then the
// release of the tag is created or updated; octokit is loaded only when there is a release to make.
export async function run(): Promise<void> {
  await runAction(async ({ signal, logger }) => {
    const inputs = readInputs();
    const outcome = await createRelease(inputs, logger, signal).catch(async (error: unknown) => {
      await buildFailureSummary(inputs, error).write();
      throw error;
    });
    setOutputs(toOutputs(outcome));
    await buildSummary(inputs, outcome).write();
  });
}
