import {
  managementWarning,
  resolveImageTargets,
  restartDeployment,
  setImages,
  undoRollout,
  type DeploymentChange,
  type KubeConnection,
  type RolloutResult,
} from '@planner-deploy/kube';
import { errorMessage } from '@planner-deploy/core';
import { userInfo } from 'node:os';
import { connectCluster, target, type CommandContext, type CommandResult } from '../context.js';
import {
  backupDatabase,
  describeRolloutFailure,
  migrationFailure,
  resolveImage,
  runMigration,
  waitForRollout,
  type BackupOutcome,
  type MigrationOutcome,
} from '../operations.js';
import { deploymentTarget, readDeployment } from './shared.js';

/** What build-push tags every image with, so "the newest build for this environment". */
export function defaultTag(env: string): string {
  return `${env}-latest`;
}

function rolloutDoc(result: RolloutResult): Record<string, unknown> {
  return {
    outcome: result.outcome,
    message: result.message,
    revision: result.revision,
    durationMs: result.durationMs,
    ...(result.diagnosis ? { diagnosis: result.diagnosis } : {}),
  };
}

/**
 * deploy <env>: resolve the image in ECR (pinned by digest), snapshot the database, run the migration Job,
 * set the image and wait; a failed rollout is rolled back to the revision before it unless --no-rollback.
 */
export async function deploy(ctx: CommandContext): Promise<CommandResult> {
  const { settings, ui, flags, signal } = ctx;
  const tag = (flags['image-tag'] as string | undefined) ?? defaultTag(settings.env);
  const doc: Record<string, unknown> = {
    command: 'deploy',
    environment: settings.env,
    namespace: settings.namespace,
    deployment: settings.deployment,
    tag,
  };
  ui.line(ui.bold(`Deploying ${settings.repository}:${tag} to ${settings.env} (${target(settings)})`));
  const resolved = await resolveImage(ctx, tag);
  doc.image = resolved.image;
  doc.digest = resolved.digest;
  ui.ok(`image ${resolved.image}`);

  const conn = await connectCluster(ctx);
  try {
    const deployment = await readDeployment(ctx, conn);
    const targets = resolveImageTargets(deployment, { image: resolved.image });
    const containers = deployment.spec.template.spec.containers;
    const unchanged = containers.every((c) => !targets.has(c.name) || targets.get(c.name) === c.image);
    const warning = managementWarning(deployment);
    if (warning) ui.warn(warning);
    if (deployment.spec.paused) {
      ui.error(
        `${target(settings)} is paused: a new image would not roll out. Nothing was changed. Resume it first (kubectl rollout resume deployment/${settings.deployment} -n ${settings.namespace}).`,
      );
      return { exitCode: 1, document: { ...doc, outcome: 'paused' } };
    }
    if (unchanged && flags.force !== true) {
      ui.ok(
        `${settings.deployment} already runs ${resolved.image}: nothing to deploy (--force restarts it).`,
      );
      return { exitCode: 0, document: { ...doc, outcome: 'unchanged' } };
    }

    let backup: BackupOutcome | undefined;
    if (settings.dbInstance && flags['skip-backup'] !== true) {
      backup = await backupDatabase(ctx, settings.dbInstance);
      if (signal.aborted) return { exitCode: 130, document: doc };
      doc.snapshot = { id: backup.snapshot.id, status: backup.snapshot.status, origin: backup.origin };
      ui.ok(`snapshot ${backup.snapshot.id} of ${settings.dbInstance} is ${backup.snapshot.status}`);
    } else if (settings.dbInstance) {
      ui.line(ui.dim(`Skipping the snapshot of ${settings.dbInstance} (--skip-backup).`));
    }

    let migration: MigrationOutcome | undefined;
    if (flags['skip-migrations'] !== true) {
      migration = await runMigration(ctx, conn, deployment, resolved.image);
      if (signal.aborted) return { exitCode: 130, document: doc };
      doc.migration = {
        job: migration.jobName,
        command: migration.command,
        status: migration.result.status,
        exitCode: migration.result.exitCode,
        reason: migration.result.reason,
      };
      if (migration.result.status !== 'succeeded') {
        ui.error(`${migrationFailure(migration)}. The deployment was not changed.`);
        if (migration.result.diagnosis) ui.error(migration.result.diagnosis.message);
        return { exitCode: 1, document: { ...doc, outcome: 'migration-failed' } };
      }
      ui.ok(`migration job ${migration.jobName} completed`);
    } else {
      ui.line(ui.dim('Skipping migrations (--skip-migrations).'));
    }

    const cause = `planner-deploy CLI: ${resolved.image} by ${safeUser()}`;
    let change: DeploymentChange;
    if (unchanged) {
      change = await restartDeployment({ ...deploymentTarget(ctx, conn), changeCause: cause });
      ui.ok(`${settings.deployment} restarted (--force; the image is unchanged)`);
    } else {
      change = await setImages({ ...deploymentTarget(ctx, conn), image: resolved.image, changeCause: cause });
      ui.ok(`${settings.deployment} image set to ${resolved.image}`);
    }
    doc.previousRevision = change.previousRevision;
    doc.imagesBefore = change.imagesBefore;
    ctx.left.set(
      'rollout',
      `the rollout of ${settings.deployment} to ${resolved.image} continues on the cluster (revision ${change.previousRevision} is the previous one: planner-deploy rollback ${settings.env} goes back to it).`,
    );
    const result = await waitForRollout(ctx, conn, 'rolling out');
    if (signal.aborted) return { exitCode: 130, document: doc };
    ctx.left.clear('rollout');
    doc.revision = result.revision;
    doc.rollout = rolloutDoc(result);
    if (result.outcome === 'succeeded') {
      ui.ok(`${settings.deployment} rolled out ${resolved.image} (revision ${result.revision})`);
      if (settings.url) ui.line(`  ${settings.url}`);
      return { exitCode: 0, document: { ...doc, outcome: 'deployed' } };
    }
    for (const line of describeRolloutFailure(result)) ui.error(line);
    if (flags['no-rollback'] === true) {
      ui.error(
        `The failed rollout was left as it is (--no-rollback): roll back with planner-deploy rollback ${settings.env}.`,
      );
      return { exitCode: 1, document: { ...doc, outcome: 'failed' } };
    }
    return rollBack(ctx, conn, change.previousRevision, result.revision, doc);
  } finally {
    conn.close();
  }
}

async function rollBack(
  ctx: CommandContext,
  conn: KubeConnection,
  previousRevision: number,
  failedRevision: number,
  doc: Record<string, unknown>,
): Promise<CommandResult> {
  const { settings, ui, signal } = ctx;
  ui.line(
    `Rolling ${settings.deployment} back to revision ${previousRevision || '(previous)'} automatically.`,
  );
  try {
    const undo = await undoRollout({
      conn,
      namespace: settings.namespace,
      name: settings.deployment,
      toRevision: previousRevision,
      expectCurrentRevision: failedRevision > 0 ? failedRevision : undefined,
      signal,
      logger: ui.logger({ quietInfo: true }),
    });
    ctx.left.set(
      'rollout',
      `the rollback of ${settings.deployment} to revision ${previousRevision} continues on the cluster.`,
    );
    const result = await waitForRollout(ctx, conn, 'rolling back');
    if (signal.aborted) return { exitCode: 130, document: doc };
    ctx.left.clear('rollout');
    doc.rollback = { ...rolloutDoc(result), toRevision: undo.toRevision, images: undo.imagesAfter };
    if (result.outcome === 'succeeded') {
      ui.warn(
        `Rolled back: ${settings.deployment} runs revision ${undo.toRevision} again (${undo.imagesAfter.join(', ')}). The deploy failed.`,
      );
      return { exitCode: 3, document: { ...doc, outcome: 'rolled-back' } };
    }
    for (const line of describeRolloutFailure(result)) ui.error(`rollback: ${line}`);
    return { exitCode: 1, document: { ...doc, outcome: 'rollback-failed' } };
  } catch (error) {
    if (signal.aborted) return { exitCode: 130, document: doc };
    ui.error(`The automatic rollback failed: ${errorMessage(error)}`);
    doc.rollback = { outcome: 'failed', message: errorMessage(error) };
    return { exitCode: 1, document: { ...doc, outcome: 'rollback-failed' } };
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown user';
  }
}
