import { runAction, setOutputs } from '@planner-deploy/action-kit';
import { readInputs } from './inputs.js';
import { annotations, buildSummary, toOutputs, verdictError } from './report.js';
import { rollout } from './run.js';

// Reads and checks every input, sets the images, waits with one watch, then reports: outputs and the job
// summary are written whether the rollout succeeded or not, so auto-rollback can chain on them.
export async function run(): Promise<void> {
  await runAction(async ({ signal, logger }) => {
    const inputs = readInputs();
    const env = process.env;
    const runUrl = env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY ?? ''}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
    const report = await rollout(inputs, { sha: env.GITHUB_SHA, runUrl }, logger, signal);
    setOutputs(toOutputs(report));
    await buildSummary(report).write();
    for (const a of annotations(report)) logger.error(a.message, { title: a.title });
    // A failure after a change (report.failure) is thrown only now, with the outputs already written.
    const failure = report.failure ?? verdictError(report);
    if (failure) throw failure;
  });
}
