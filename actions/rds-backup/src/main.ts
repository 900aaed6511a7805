import { runAction, setOutputs } from '@planner-deploy/action-kit';
import { readInputs } from './inputs.js';

// Entry of the action. Inputs are validated first; the logic (and with it the RDS SDK) is imported only then,
// so a bad input fails fast. Outputs and the summary are written whatever the verdict, including on cancel,
// so a later `if: always()` step knows the snapshot's identifier.
export async function run(): Promise<void> {
  await runAction(async ({ signal, logger }) => {
    const inputs = readInputs();
    const { backupDatabase } = await import('./run.js');
    const { buildSummary, failureSummary, toOutputs, verdictError } = await import('./report.js');
    const result = await backupDatabase(inputs, logger, signal).catch(async (error: unknown) => {
      await failureSummary(inputs, error).write();
      throw error;
    });
    setOutputs(toOutputs(result));
    await buildSummary(result).write();
    const failure = verdictError(result);
    if (failure) throw failure;
  });
}
