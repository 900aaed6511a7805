import { connectCluster, target, type CommandContext, type CommandResult } from '../context.js';
import { migrationFailure, resolveImage, runMigration } from '../operations.js';
import { readDeployment } from './shared.js';

/**
 * migrate <env> [--image-tag T]: the migration Job with the tag's image (resolved in ECR and pinned), or with
 * the image the Deployment runs now.
 */
export async function migrate(ctx: CommandContext): Promise<CommandResult> {
  const { settings, ui, flags, signal } = ctx;
  const tag = flags['image-tag'] as string | undefined;
  const resolved = tag !== undefined ? await resolveImage(ctx, tag) : undefined;
  const conn = await connectCluster(ctx);
  try {
    const deployment = await readDeployment(ctx, conn);
    const image = resolved?.image ?? deployment.spec.template.spec.containers[0]?.image ?? '';
    ui.line(ui.bold(`Migrating ${settings.env} (${target(settings)}) with ${image}`));
    const outcome = await runMigration(ctx, conn, deployment, image);
    if (signal.aborted) return { exitCode: 130, document: {} };
    const document = {
      command: 'migrate',
      environment: settings.env,
      namespace: settings.namespace,
      deployment: settings.deployment,
      image,
      job: outcome.jobName,
      migrationCommand: outcome.command,
      status: outcome.result.status,
      exitCode: outcome.result.exitCode,
      reason: outcome.result.reason,
      message: outcome.result.message,
      logTail: outcome.result.logTail,
    };
    if (outcome.result.status === 'succeeded') {
      ui.ok(`migration job ${outcome.jobName} completed`);
      return { exitCode: 0, document };
    }
    ui.error(migrationFailure(outcome));
    return { exitCode: 1, document };
  } finally {
    conn.close();
  }
}
