import { errorMessage, LineSplitter, parseDuration, stripTerminalControls } from '@planner-deploy/core';
import {
  isDnsSubdomain,
  isNotFound,
  KubeApiError,
  selectorToString,
  type KubeConnection,
  type KubeList,
  type Pod,
} from '@planner-deploy/kube';
import { UsageError } from '../args.js';
import { connectCluster, target, type CommandContext, type CommandResult } from '../context.js';
import { parseCount } from '../settings.js';
import { readDeployment } from './shared.js';

export interface LogsRequest {
  pod?: string | undefined;
  follow: boolean;
  sinceSeconds?: number | undefined;
  tailLines?: number | undefined;
}

/** Validates the logs arguments before anything connects. */
export function logsRequest(ctx: Pick<CommandContext, 'positionals' | 'flags' | 'ui'>): LogsRequest {
  const pod = ctx.positionals[1];
  if (ctx.positionals.length > 2)
    throw new UsageError(`unexpected argument "${ctx.positionals[2]}" after the pod name.`, 'logs');
  if (pod !== undefined && !isDnsSubdomain(pod)) {
    throw new UsageError(`pod "${pod}" is not a pod name: lower-case letters, digits, "-" and ".".`, 'logs');
  }
  const since = ctx.flags.since as string | undefined;
  let sinceSeconds: number | undefined;
  if (since !== undefined) {
    const ms = parseDuration(since);
    if (ms === undefined || ms <= 0)
      throw new UsageError(`--since "${since}" is not a duration: use e.g. 30s, 10m or 1h.`, 'logs');
    sinceSeconds = Math.max(1, Math.ceil(ms / 1000));
  }
  const tail = ctx.flags.tail as string | undefined;
  const tailLines = tail === undefined ? undefined : parseCount('--tail', tail, 0, 1_000_000, 'logs');
  const follow = ctx.flags.follow === true;
  if (follow && ctx.ui.json)
    throw new UsageError('--json cannot be combined with --follow (a stream is not one document).', 'logs');
  return { pod, follow, sinceSeconds, tailLines };
}

/** logs <env> [pod]: one pod's log, or every pod of the Deployment with lines prefixed by the pod name. */
export async function logs(ctx: CommandContext): Promise<CommandResult> {
  const { settings, ui, signal } = ctx;
  const request = logsRequest(ctx);
  const conn = await connectCluster(ctx);
  try {
    let pods: Pod[];
    if (request.pod) {
      try {
        pods = [
          await conn.request<Pod>('GET', `/api/v1/namespaces/${settings.namespace}/pods/${request.pod}`, {
            signal,
          }),
        ];
      } catch (error) {
        if (isNotFound(error))
          throw new UsageError(
            `pod "${request.pod}" was not found in namespace ${settings.namespace}.`,
            'logs',
          );
        throw error;
      }
    } else {
      const deployment = await readDeployment(ctx, conn);
      const list = await conn.request<KubeList<Pod>>('GET', `/api/v1/namespaces/${settings.namespace}/pods`, {
        query: { labelSelector: selectorToString(deployment.spec.selector) },
        signal,
      });
      pods = list.items.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
      if (pods.length === 0) ui.warn(`${target(settings)} has no pods.`);
    }
    const prefix = request.pod === undefined;
    const width = Math.max(0, ...pods.map((p) => (p.metadata.name ?? '').length));
    const collected: { pod: string; lines: string[]; error?: string }[] = [];
    const read = async (pod: Pod): Promise<void> => {
      const name = pod.metadata.name ?? '';
      const entry: { pod: string; lines: string[]; error?: string } = { pod: name, lines: [] };
      collected.push(entry);
      const emit = (line: string): void => {
        entry.lines.push(line);
        // The workload's text: its terminal sequences (colours, cursor moves, titles) are removed.
        const shown = stripTerminalControls(line);
        if (!ui.json) ui.line(prefix ? `${ui.dim(`${name.padEnd(width)} |`)} ${shown}` : shown);
      };
      try {
        await readPodLog(conn, settings.namespace, pod, request, signal, emit);
      } catch (error) {
        if (signal.aborted) return;
        entry.error = explain(error);
        ui.warn(`pod ${name}: ${entry.error}`);
      }
    };
    if (request.follow) await Promise.all(pods.map(read));
    else for (const pod of pods) await read(pod);
    if (signal.aborted) return { exitCode: 130, document: {} };
    const failed = collected.length > 0 && collected.every((c) => c.error !== undefined);
    return {
      exitCode: failed ? 1 : 0,
      document: {
        command: 'logs',
        environment: settings.env,
        namespace: settings.namespace,
        pods: collected,
      },
    };
  } finally {
    conn.close();
  }
}

async function readPodLog(
  conn: KubeConnection,
  namespace: string,
  pod: Pod,
  request: LogsRequest,
  signal: AbortSignal,
  emit: (line: string) => void,
): Promise<void> {
  const path = `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/log`;
  const query = {
    container: pod.spec?.containers[0]?.name,
    ...(request.tailLines !== undefined ? { tailLines: request.tailLines } : {}),
    ...(request.sinceSeconds !== undefined ? { sinceSeconds: request.sinceSeconds } : {}),
  };
  if (request.follow) {
    const lines = await conn.lines(path, { query: { ...query, follow: 'true' }, signal, accept: '*/*' });
    for await (const line of lines) emit(line);
    return;
  }
  const text = await conn.requestText('GET', path, { query, signal, accept: '*/*' });
  const splitter = new LineSplitter();
  for (const line of [...splitter.push(text), ...splitter.end()]) emit(line);
}

function explain(error: unknown): string {
  if (error instanceof KubeApiError) return error.describe();
  return errorMessage(error);
}
