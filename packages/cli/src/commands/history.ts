import { getRolloutHistory } from '@planner-deploy/kube';
import { connectCluster, target, type CommandContext, type CommandResult } from '../context.js';
import { readDeployment } from './shared.js';

/** history <env>: the revisions (kubectl rollout history) with their images and change causes. */
export async function history(ctx: CommandContext): Promise<CommandResult> {
  const { settings, ui, signal } = ctx;
  const conn = await connectCluster(ctx);
  try {
    await readDeployment(ctx, conn);
    const { revisions } = await getRolloutHistory({
      conn,
      namespace: settings.namespace,
      name: settings.deployment,
      signal,
      logger: ui.logger({ quietInfo: true }),
    });
    ui.line(ui.bold(`${target(settings)}`));
    ui.line(`${'REVISION'.padEnd(9)} ${'IMAGE'.padEnd(60)} CHANGE-CAUSE`);
    for (const r of revisions) {
      const image = r.images.map((i) => i.replace(/^[^=]*=/, '')).join(', ');
      const line = `${String(r.revision).padEnd(9)} ${image.padEnd(60)} ${r.changeCause ?? '<none>'}`;
      ui.line(r.current ? ui.green(`${line}  (current)`) : line);
    }
    return {
      exitCode: 0,
      document: {
        command: 'history',
        environment: settings.env,
        namespace: settings.namespace,
        deployment: settings.deployment,
        revisions: revisions.map((r) => ({
          revision: r.revision,
          replicaSet: r.replicaSet,
          images: r.images,
          changeCause: r.changeCause ?? null,
          current: r.current,
        })),
      },
    };
  } finally {
    conn.close();
  }
}
