import { undoRollout, UndoError } from '@planner-deploy/kube';
import { UsageError } from '../args.js';
import { connectCluster, target, type CommandContext, type CommandResult } from '../context.js';
import { describeRolloutFailure, waitForRollout } from '../operations.js';
import { parseCount } from '../settings.js';
import { deploymentTarget, readDeployment } from './shared.js';

/** rollback <env> [--to-revision N]: `kubectl rollout undo` semantics, then wait for the rollout. */
export async function rollback(ctx: CommandContext): Promise<CommandResult> {
  const { settings, ui, flags, signal } = ctx;
  const text = flags['to-revision'] as string | undefined;
  const toRevision = text === undefined ? 0 : parseCount('--to-revision', text, 1, 2 ** 31, 'rollback');
  const doc: Record<string, unknown> = {
    command: 'rollback',
    environment: settings.env,
    namespace: settings.namespace,
    deployment: settings.deployment,
  };
  const conn = await connectCluster(ctx);
  try {
    await readDeployment(ctx, conn);
    let undo;
    try {
      undo = await undoRollout({ ...deploymentTarget(ctx, conn), toRevision });
    } catch (error) {
      if (error instanceof UndoError && error.code === 'revision-not-found') {
        throw new UsageError(
          `--to-revision ${toRevision}: ${error.message} (see planner-deploy history ${settings.env}).`,
        );
      }
      throw error;
    }
    Object.assign(doc, {
      fromRevision: undo.fromRevision,
      toRevision: undo.toRevision,
      imagesBefore: undo.imagesBefore,
      imagesAfter: undo.imagesAfter,
    });
    if (undo.outcome === 'skipped') {
      ui.ok(undo.message);
      return { exitCode: 0, document: { ...doc, outcome: 'skipped', message: undo.message } };
    }
    ui.ok(
      `${target(settings)}: rolled back from revision ${undo.fromRevision} to the template of revision ${undo.toRevision} (${undo.imagesAfter.join(', ')})`,
    );
    ctx.left.set(
      'rollout',
      `the rollback of ${settings.deployment} to revision ${undo.toRevision} continues on the cluster.`,
    );
    const result = await waitForRollout(ctx, conn, 'rolling back');
    if (signal.aborted) return { exitCode: 130, document: doc };
    ctx.left.clear('rollout');
    doc.rollout = {
      outcome: result.outcome,
      message: result.message,
      revision: result.revision,
      ...(result.diagnosis ? { diagnosis: result.diagnosis } : {}),
    };
    doc.revision = result.revision;
    if (result.outcome === 'succeeded') {
      ui.ok(`${settings.deployment} rolled back (now revision ${result.revision})`);
      return { exitCode: 0, document: { ...doc, outcome: 'rolled-back' } };
    }
    for (const line of describeRolloutFailure(result)) ui.error(line);
    return { exitCode: 1, document: { ...doc, outcome: 'failed' } };
  } finally {
    conn.close();
  }
}
