import { runAction, setOutputs } from '@planner-deploy/action-kit';
import { readInputs } from './inputs.js';
import { buildSummary, toOutputs, verdictError } from './report.js';
import { autoRollback } from './run.js';

// Runs with `if: failure()`: rolls each deployment back to the revision the rollout step recorded, verifies
// the rollback's rollout, and says where the database snapshot is (it is never restored automatically).
export async function run(): Promise<void> {
  await runAction(async ({ signal, logger }) => {
    const inputs = readInputs();
    const report = await autoRollback(inputs, logger, signal);
    setOutputs(toOutputs(report));
    await buildSummary(report).write();
    const failure = verdictError(report);
    if (failure) throw failure;
  });
}
