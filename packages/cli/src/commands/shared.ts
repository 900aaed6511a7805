import { getDeployment, isNotFound, type Deployment, type KubeConnection } from '@planner-deploy/kube';
import { UsageError } from '../args.js';
import { target, type CommandContext } from '../context.js';

/** The environment's Deployment as packages/kube's calls take it, with the command's signal and deadline. */
export function deploymentTarget(ctx: CommandContext, conn: KubeConnection) {
  return {
    conn,
    namespace: ctx.settings.namespace,
    name: ctx.settings.deployment,
    signal: ctx.signal,
    logger: ctx.ui.logger({ quietInfo: true }),
    deadline: Date.now() + ctx.settings.timeoutMs,
  };
}

/** GETs the environment's Deployment; a 404 is bad input (exit 2) naming where it looked. */
export async function readDeployment(ctx: CommandContext, conn: KubeConnection): Promise<Deployment> {
  try {
    return await getDeployment(deploymentTarget(ctx, conn));
  } catch (error) {
    if (isNotFound(error)) {
      throw new UsageError(
        `${target(ctx.settings)} was not found on ${conn.description} (set --namespace/--deployment or the config file).`,
      );
    }
    throw error;
  }
}
