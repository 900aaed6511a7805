import { runAction, setOutputs } from '@planner-deploy/action-kit';
import { readInputs } from './inputs.js';
import { buildSummary, toOutputs, verdictError } from './report.js';
import { verifyHealth } from './run.js';

// Entry of the action: inputs are read and validated before the first request, then every check is polled
// in parallel; outputs and the job summary are written whether the step passes or fails.
export async function run(): Promise<void> {
  await runAction(async ({ signal, logger }) => {
    const inputs = await readInputs();
    const report = await verifyHealth(inputs, logger, signal);
    setOutputs(toOutputs(report));
    await buildSummary(report).write();
    const failure = verdictError(report);
    if (failure) throw failure;
  });
}
