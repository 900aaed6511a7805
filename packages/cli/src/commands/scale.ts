import { scaleDeployment } from '@planner-deploy/kube';
import { UsageError } from '../args.js';
import { connectCluster, type CommandContext, type CommandResult } from '../context.js';
import { describeRolloutFailure, waitForRollout } from '../operations.js';
import { parseCount } from '../settings.js';
import { deploymentTarget, readDeployment } from './shared.js';

export const MAX_REPLICAS = 1000;

/** Validates `scale <env> <replicas>` before anything connects. */
export function replicasArgument(positionals: string[]): number {
  const text = positionals[1];
  if (text === undefined)
    throw new UsageError(
      'scale needs the number of replicas: planner-deploy scale <env> <replicas>.',
      'scale',
    );
  if (positionals.length > 2)
    throw new UsageError(`unexpected argument "${positionals[2]}" after the replicas.`, 'scale');
  return parseCount('replicas', text, 0, MAX_REPLICAS, 'scale');
}

/** scale <env> <n>: the scale subresource, then wait until the Deployment is ready. */
export async function scale(ctx: CommandContext): Promise<CommandResult> {
  const { settings, ui, signal } = ctx;
  const replicas = replicasArgument(ctx.positionals);
  const conn = await connectCluster(ctx);
  try {
    const deployment = await readDeployment(ctx, conn);
    const before = deployment.spec.replicas ?? 1;
    const scaled = await scaleDeployment({ ...deploymentTarget(ctx, conn), replicas });
    ui.ok(`${settings.deployment} scaled from ${before} to ${scaled.replicas} replicas`);
    ctx.left.set(
      'rollout',
      `${settings.deployment} continues scaling to ${replicas} replicas on the cluster.`,
    );
    const result = await waitForRollout(ctx, conn, `scaling to ${replicas}`);
    if (signal.aborted) return { exitCode: 130, document: {} };
    ctx.left.clear('rollout');
    const doc = {
      command: 'scale',
      environment: settings.env,
      namespace: settings.namespace,
      deployment: settings.deployment,
      previousReplicas: before,
      replicas: scaled.replicas,
      outcome: result.outcome,
      message: result.message,
      ...(result.diagnosis ? { diagnosis: result.diagnosis } : {}),
    };
    if (result.outcome === 'succeeded') {
      ui.ok(`${settings.deployment} has ${scaled.replicas} ready replicas`);
      return { exitCode: 0, document: doc };
    }
    for (const line of describeRolloutFailure(result)) ui.error(line);
    return { exitCode: 1, document: doc };
  } finally {
    conn.close();
  }
}
