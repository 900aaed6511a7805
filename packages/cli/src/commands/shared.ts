import { getDeployment, isNotFound, type Deployment, type KubeConnection } from '@planner-deploy/kube';
import { UsageError } from '../args.js';
import { target, type CommandContext } from '../context.js';

/** GETs the environment's Deployment; a 404 is bad input (exit 2) naming where it looked. */
export async function readDeployment(ctx: CommandContext, conn: KubeConnection): Promise<Deployment> {
  try {
    return await getDeployment({
      conn,
      namespace: ctx.settings.namespace,
      name: ctx.settings.deployment,
      signal: ctx.signal,
      logger: ctx.ui.logger({ quietInfo: true }),
      deadline: Date.now() + ctx.settings.timeoutMs,
    });
  } catch (error) {
    if (isNotFound(error)) {
      throw new UsageError(
        `${target(ctx.settings)} was not found on ${conn.description} (set --namespace/--deployment or the config file).`,
      );
    }
    throw error;
  }
}
