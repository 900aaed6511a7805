import {
  deploymentRevision,
  diagnosePod,
  findNewReplicaSet,
  listOwnedReplicaSets,
  rolloutStatus,
  selectorToString,
  templateImages,
  type KubeEvent,
  type KubeList,
  type Pod,
} from '@planner-deploy/kube';
import { stripTerminalControls } from '@planner-deploy/core';
import { connectCluster, target, type CommandContext, type CommandResult } from '../context.js';
import { readDeployment } from './shared.js';

export interface PodSummary {
  name: string;
  phase: string;
  ready: string;
  restarts: number;
  state: string;
  reason?: string | undefined;
  message?: string | undefined;
  image?: string | undefined;
  replicaSet?: string | undefined;
}

/** What `kubectl get pods` shows in STATUS, plus why when the pod is broken. */
export function summarizePod(pod: Pod): PodSummary {
  const statuses = pod.status?.containerStatuses ?? [];
  const ready = statuses.filter((s) => s.ready).length;
  const total = pod.spec?.containers.length ?? statuses.length;
  const restarts = statuses.reduce((n, s) => n + s.restartCount, 0);
  let state = pod.metadata.deletionTimestamp ? 'Terminating' : (pod.status?.phase ?? 'Unknown');
  for (const s of statuses) {
    if (s.state?.waiting?.reason) state = s.state.waiting.reason;
    else if (s.state?.terminated?.reason && state !== 'Terminating') state = s.state.terminated.reason;
  }
  const failure = diagnosePod(pod, { readyGraceMs: 120_000 });
  return {
    name: pod.metadata.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: `${ready}/${total}`,
    restarts,
    state,
    ...(failure ? { reason: failure.reason, message: failure.message } : {}),
    image: pod.spec?.containers[0]?.image,
    replicaSet: pod.metadata.ownerReferences?.find((r) => r.kind === 'ReplicaSet')?.name,
  };
}

function age(time: string | null | undefined): string {
  if (!time) return '?';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(time)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** status <env>: deployment, ReplicaSets, pods, recent events, image and revision. Exit 1 when not healthy. */
export async function status(ctx: CommandContext): Promise<CommandResult> {
  const { settings, ui, signal } = ctx;
  const conn = await connectCluster(ctx);
  try {
    const deployment = await readDeployment(ctx, conn);
    const ns = settings.namespace;
    const [replicaSets, podList, eventList] = await Promise.all([
      listOwnedReplicaSets(conn, deployment, signal),
      conn.request<KubeList<Pod>>('GET', `/api/v1/namespaces/${ns}/pods`, {
        query: { labelSelector: selectorToString(deployment.spec.selector) },
        signal,
      }),
      conn.request<KubeList<KubeEvent>>('GET', `/api/v1/namespaces/${ns}/events`, { signal }).catch(() => ({
        metadata: {},
        items: [] as KubeEvent[],
      })),
    ]);
    const rollout = rolloutStatus(deployment);
    const newRs = findNewReplicaSet(deployment, replicaSets);
    const pods = podList.items.map(summarizePod).sort((a, b) => a.name.localeCompare(b.name));
    const names = new Set([
      settings.deployment,
      ...replicaSets.map((r) => r.metadata.name),
      ...pods.map((p) => p.name),
    ]);
    const when = (e: KubeEvent): string =>
      e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '';
    const events = eventList.items
      .filter((e) => names.has(e.involvedObject?.name ?? ''))
      .sort((a, b) => when(a).localeCompare(when(b)))
      .slice(-10)
      .map((e) => ({
        time: when(e),
        type: e.type ?? 'Normal',
        object: `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`,
        reason: e.reason ?? '',
        message: e.message ?? '',
        count: e.count ?? 1,
      }));
    const st = deployment.status ?? {};
    const want = deployment.spec.replicas ?? 1;
    const healthy = rollout.done && pods.every((p) => p.reason === undefined);
    const images = templateImages(deployment.spec.template);
    const revision = deploymentRevision(deployment);

    ui.line(ui.bold(`${target(settings)}`) + (settings.url ? `  ${settings.url}` : ''));
    ui.line(`  image:     ${images.map((i) => i.replace(/^[^=]*=/, '')).join(', ')}`);
    ui.line(`  revision:  ${revision}`);
    ui.line(
      `  replicas:  ${want} desired, ${st.updatedReplicas ?? 0} updated, ${st.readyReplicas ?? 0} ready, ${st.availableReplicas ?? 0} available`,
    );
    ui.line(
      `  rollout:   ${healthy ? ui.green(rollout.message) : ui.yellow(rollout.message)}${deployment.spec.paused ? ui.yellow(' (paused)') : ''}`,
    );
    ui.line('');
    ui.line(ui.bold('ReplicaSets'));
    for (const rs of replicaSets) {
      const rsRevision = rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?';
      const current = rs === newRs ? ui.green(' (current)') : '';
      ui.line(
        `  ${(rs.metadata.name ?? '').padEnd(34)} rev ${rsRevision.padEnd(4)} ${rs.status?.readyReplicas ?? 0}/${rs.spec.replicas ?? 0} ready  ${templateImages(
          rs.spec.template,
        )
          .map((i) => i.replace(/^[^=]*=/, ''))
          .join(', ')}${current}`,
      );
    }
    ui.line('');
    ui.line(ui.bold('Pods'));
    if (pods.length === 0) ui.line('  (none)');
    for (const p of pods) {
      const state = p.reason
        ? ui.red(p.state)
        : p.state === 'Running'
          ? ui.green(p.state)
          : ui.yellow(p.state);
      const pod = podList.items.find((x) => x.metadata.name === p.name);
      ui.line(
        `  ${p.name.padEnd(40)} ${p.ready.padEnd(5)} ${state.padEnd(p.reason ? 30 : 20)} restarts ${String(p.restarts).padEnd(3)} ${age(pod?.metadata.creationTimestamp)}`,
      );
      if (p.message) ui.line(`    ${ui.red(stripTerminalControls(p.message))}`);
    }
    ui.line('');
    ui.line(ui.bold('Recent events'));
    if (events.length === 0) ui.line('  (none)');
    for (const e of events) {
      const type = e.type === 'Warning' ? ui.yellow(e.type) : e.type;
      ui.line(
        // Event text can be the workload's (an exec probe's output): no terminal sequence of it is shown.
        `  ${age(e.time).padStart(4)}  ${type.padEnd(7)} ${stripTerminalControls(e.object)}  ${stripTerminalControls(e.reason)}: ${stripTerminalControls(e.message)}${e.count > 1 ? ` (x${e.count})` : ''}`,
      );
    }
    return {
      exitCode: healthy ? 0 : 1,
      document: {
        command: 'status',
        environment: settings.env,
        namespace: ns,
        deployment: settings.deployment,
        healthy,
        images,
        revision,
        paused: deployment.spec.paused === true,
        replicas: {
          desired: want,
          updated: st.updatedReplicas ?? 0,
          ready: st.readyReplicas ?? 0,
          available: st.availableReplicas ?? 0,
        },
        rollout: { done: rollout.done, failed: rollout.failed, message: rollout.message },
        replicaSets: replicaSets.map((rs) => ({
          name: rs.metadata.name,
          revision: deploymentRevision(rs as never),
          replicas: rs.spec.replicas ?? 0,
          ready: rs.status?.readyReplicas ?? 0,
          images: templateImages(rs.spec.template),
          current: rs === newRs,
        })),
        pods,
        events,
        ...(settings.url ? { url: settings.url } : {}),
      },
    };
  } finally {
    conn.close();
  }
}
