import type { KubeConnection } from '@planner-deploy/kube';
import type { Settings } from './settings.js';
import type { Ui } from './ui.js';

/**
 * What an interrupt would leave behind right now. Commands set it before each wait ("the rollout of
 * planner-app to X continues on the cluster") and clear it after; Ctrl-C prints every entry at once.
 */
export class LeftBehind {
  private readonly entries = new Map<string, string>();
  set(key: string, text: string): void {
    this.entries.set(key, text);
  }
  clear(key: string): void {
    this.entries.delete(key);
  }
  describe(): string[] {
    return [...this.entries.values()];
  }
}

/** Everything a command runs with. */
export interface CommandContext {
  ui: Ui;
  settings: Settings;
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
  signal: AbortSignal;
  left: LeftBehind;
  processEnv: Record<string, string | undefined>;
}

/** The result of a command: its exit code and, with --json, its document. */
export interface CommandResult {
  exitCode: number;
  document: Record<string, unknown>;
}

/**
 * Connects to the cluster: a kubeconfig file when one is given (flag or config), otherwise EKS by cluster
 * name and region (DescribeCluster and a presigned STS token, through packages/kube and packages/aws). The
 * KUBECONFIG variable alone is not used: an operator's current context is too easy to get wrong for a
 * production deploy; `--kubeconfig "$KUBECONFIG"` says it on purpose.
 */
export async function connectCluster(ctx: CommandContext): Promise<KubeConnection> {
  const { settings, ui, signal } = ctx;
  const logger = ui.logger({ quietInfo: true });
  const { connect } = await import('@planner-deploy/kube');
  const conn = settings.kubeconfig
    ? await connect({
        env: { ...ctx.processEnv, KUBECONFIG: settings.kubeconfig },
        logger,
        signal,
      })
    : await connect({
        clusterName: settings.cluster,
        region: settings.region,
        env: ctx.processEnv,
        logger,
        signal,
      });
  ui.debug(`Connected to ${conn.description}.`);
  return conn;
}

/** `deployment.apps/planner-app in planner-staging`. */
export function target(settings: Settings): string {
  return `deployment/${settings.deployment} in namespace ${settings.namespace}`;
}
