import { runAction, setOutputs } from '@planner-deploy/action-kit';
import { readInputs } from './inputs.js';
import { buildSummary, toOutputs, verdictError } from './report.js';
import { runMigration } from './run.js';

// Creates the migration Job from the Deployment's template with the new image, streams its log, and waits
// for Complete or Failed; outputs and the summary are written in every case.
export async function run(): Promise<void> {
  await runAction(async ({ signal, logger }) => {
    const inputs = readInputs();
    const env = process.env;
    const context = { sha: env.GITHUB_SHA, runId: env.GITHUB_RUN_ID, runAttempt: env.GITHUB_RUN_ATTEMPT };
    const report = await runMigration(inputs, context, logger, signal);
    setOutputs(toOutputs(report));
    await buildSummary(report).write();
    const failure = verdictError(report);
    if (failure) throw failure;
  });
}
