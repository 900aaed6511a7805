import { readState, runAction, setOutputs } from '@planner-deploy/action-kit';
import { readInputs } from './inputs.js';

// Entry of the action, main and post step alike (runAction tells them apart). Inputs are validated first;
// the logic (and with it the ECR SDK) is imported only then, so a bad input fails fast and requests nothing.
export async function run(): Promise<void> {
  await runAction(
    async ({ signal, logger }) => {
      const inputs = readInputs();
      const { buildAndPush } = await import('./run.js');
      const { buildSummary, toOutputs } = await import('./report.js');
      const result = await buildAndPush(inputs, logger, signal);
      setOutputs(toOutputs(result, inputs));
      await buildSummary(result, inputs).write();
    },
    async ({ logger }) => {
      const { logoutRegistry, LOGIN_STATE } = await import('./run.js');
      await logoutRegistry(readState(LOGIN_STATE), logger);
    },
  );
}
