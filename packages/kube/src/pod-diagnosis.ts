import { quoteUntrusted } from '@planner-deploy/core';
import type { ContainerStatus, KubeEvent, Pod } from './types.js';

/** Why a pod will not become ready by itself. */
export type PodFailureReason =
  | 'ImagePullBackOff'
  | 'ErrImagePull'
  | 'CrashLoopBackOff'
  | 'CreateContainerConfigError'
  | 'InvalidImageName'
  | 'OOMKilled'
  | 'FargateProfileMismatch'
  | 'Unready';

/** A broken pod of a rollout, with what to tell the user. */
export interface PodFailure {
  reason: PodFailureReason;
  pod: string;
  /** The failing container (absent for a pod-level problem such as Unschedulable). */
  container?: string;
  /** One line: what is wrong, in the kubelet's words where it gave some. */
  message: string;
  /** Exit code of the last terminated run (crash loops, OOM kills). */
  exitCode?: number;
  /** RFC 3339 time the problem started, as far as the pod or its events tell. */
  since?: string;
  /** The pod's last events, `Reason: message` (filled in by the watcher). */
  events?: string[];
  /** The container's last log lines (filled in by the watcher). */
  logs?: string[];
  /** FargateProfileMismatch: the pod's namespace and labels (what a profile selector must match). */
  fargate?: { namespace: string; labels: Record<string, string> };
}

/** The taint of every node of EKS on Fargate; a pod no Fargate profile selected meets only these nodes. */
export const FARGATE_TAINT = 'eks.amazonaws.com/compute-type: fargate';

/** Labels the controllers add to pods; no Fargate profile selects on them, so they are left out of reports. */
const GENERATED_LABELS = /^(pod-template-hash|controller-uid|job-name|batch\.kubernetes\.io\/.*)$/;

/** Pod labels as `k=v, k=v`, without the controllers' own (pod-template-hash, job-name …). */
export function describeLabels(labels: Record<string, string> | undefined): string {
  const shown = Object.entries(labels ?? {}).filter(([k]) => !GENERATED_LABELS.test(k));
  return shown.length ? shown.map(([k, v]) => `${k}=${v}`).join(', ') : '(none)';
}

/**
 * Warnings that say nothing about a pod's health: Fargate's `LoggingDisabled` (no aws-logging ConfigMap)
 * comes with every Fargate pod of a cluster without CloudWatch logging.
 */
const BENIGN_WARNINGS = new Set(['LoggingDisabled']);

export interface DiagnoseOptions {
  /** How long a started pod may stay unready (or unscheduled) before it counts as a failure. */
  readyGraceMs: number;
  /** Now, in epoch ms (tests). */
  now?: number;
  /** The pod's events, to date the problem and add detail when the status has no message. */
  events?: KubeEvent[];
  /**
   * Epoch ms (the caller's clock) when the caller first saw the pod started-but-unready or unschedulable.
   * When given, the grace is measured from it instead of the server's timestamps, so a skewed or simulated
   * server clock cannot make a pod look unready for too long or too short.
   */
  observedSince?: number | undefined;
}

/** Whether the pod is in a state the ready grace applies to: unschedulable, or a started container unready. */
export function awaitingReadiness(pod: Pod): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return true;
  return (pod.status?.containerStatuses ?? []).some((s) => !s.ready && s.state?.running !== undefined);
}

/** Waiting reasons that never resolve without a change (a new image, a secret, a fix). */
const WAITING_FAILURES = new Set<PodFailureReason>([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CrashLoopBackOff',
]);

/**
 * Classifies a pod of a rollout: a failure that will not fix itself, or undefined while it may still become
 * ready. Pods being deleted are never failures (they are the old ones going away).
 */
export function diagnosePod(pod: Pod, options: DiagnoseOptions): PodFailure | undefined {
  if (pod.metadata.deletionTimestamp) return undefined;
  const name = pod.metadata.name ?? '';
  const now = options.now ?? Date.now();
  const events = options.events ?? [];
  const statuses: ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];

  for (const status of statuses) {
    const oom = oomKilled(status);
    if (oom) {
      return {
        reason: 'OOMKilled',
        pod: name,
        container: status.name,
        message: `container "${status.name}" in pod "${name}" was OOMKilled (exit code ${oom.exitCode}, restarted ${status.restartCount} times): raise its memory limit or lower its usage`,
        exitCode: oom.exitCode,
        ...sinceField(oom.finishedAt),
      };
    }
    const waiting = status.state?.waiting;
    const reason = waiting?.reason as PodFailureReason | undefined;
    if (reason && WAITING_FAILURES.has(reason)) {
      const last = status.lastState?.terminated;
      const detail = quoted(waiting?.message || lastWarning(events, status.name));
      let message = `container "${status.name}" in pod "${name}" is waiting: ${reason}`;
      if (reason === 'CrashLoopBackOff' && last) {
        message += ` (last exit code ${last.exitCode}${last.reason ? `, ${quoteUntrusted(last.reason, 100)}` : ''}; restarted ${status.restartCount} times)`;
      }
      if (detail) message += `: ${detail}`;
      return {
        reason,
        pod: name,
        container: status.name,
        message,
        ...(reason === 'CrashLoopBackOff' && last ? { exitCode: last.exitCode } : {}),
        ...sinceField(firstEventTime(events, status.name) ?? last?.finishedAt ?? pod.status?.startTime),
      };
    }
  }

  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.message?.includes(FARGATE_TAINT)) {
    // The default scheduler saw only Fargate nodes: no profile selected this pod when it was created, and
    // none will (the Fargate webhook only acts at creation). Nothing to wait for.
    const namespace = pod.metadata.namespace ?? 'default';
    const labels = pod.metadata.labels ?? {};
    return {
      reason: 'FargateProfileMismatch',
      pod: name,
      message: `pod "${name}" matches no Fargate profile, so it stays Pending: no profile selects namespace "${namespace}" with labels ${describeLabels(labels)} (the scheduler: ${scheduled.message})`,
      fargate: { namespace, labels: { ...labels } },
      ...sinceField(scheduled.lastTransitionTime ?? pod.metadata.creationTimestamp),
    };
  }
  if (scheduled?.status === 'False') {
    const since = scheduled.lastTransitionTime ?? pod.metadata.creationTimestamp ?? undefined;
    const waited = elapsed(since, options.observedSince, now);
    if (since && waited > options.readyGraceMs) {
      return {
        reason: 'Unready',
        pod: name,
        message: `pod "${name}" could not be scheduled for ${seconds(waited)}: ${quoteUntrusted(scheduled.reason ?? 'Unschedulable', 100)}${scheduled.message ? `: ${quoteUntrusted(scheduled.message)}` : ''}`,
        since,
      };
    }
    return undefined;
  }

  for (const status of pod.status?.containerStatuses ?? []) {
    const startedAt = status.state?.running?.startedAt;
    if (status.ready || !startedAt) continue;
    const unreadyFor = elapsed(startedAt, options.observedSince, now);
    if (unreadyFor > options.readyGraceMs) {
      // An exec probe's event quotes the probe command's output: text the workload wrote.
      const probe = quoted(lastWarning(events, status.name, ['Unhealthy']));
      return {
        reason: 'Unready',
        pod: name,
        container: status.name,
        message: `container "${status.name}" in pod "${name}" has been running for ${seconds(unreadyFor)} without becoming ready${probe ? `: ${probe}` : ' (check its readiness probe)'}`,
        since: startedAt,
      };
    }
  }
  return undefined;
}

/** Status and event messages are the kubelet's, the registry's or the workload's words: quoted. */
function quoted(text: string | undefined): string | undefined {
  return text ? quoteUntrusted(text) : text;
}

function elapsed(serverSince: string | undefined, observedSince: number | undefined, now: number): number {
  if (observedSince !== undefined) return now - observedSince;
  return serverSince ? now - Date.parse(serverSince) : 0;
}

function oomKilled(
  status: ContainerStatus,
): { exitCode: number; finishedAt?: string | undefined } | undefined {
  for (const state of [status.state?.terminated, status.lastState?.terminated]) {
    if (state?.reason === 'OOMKilled') return { exitCode: state.exitCode, finishedAt: state.finishedAt };
  }
  return undefined;
}

function sinceField(value: string | null | undefined): { since?: string } {
  return value ? { since: value } : {};
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

function eventTime(event: KubeEvent): string | undefined {
  return (
    event.lastTimestamp ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata.creationTimestamp ??
    undefined
  );
}

/** Events name the container in the field path (`spec.containers{app}`); we only match on the message. */
function aboutContainer(event: KubeEvent, container: string): boolean {
  const fieldPath = (event.involvedObject as { fieldPath?: string } | undefined)?.fieldPath;
  return fieldPath === undefined || fieldPath.includes(`{${container}}`);
}

function lastWarning(events: KubeEvent[], container: string, reasons?: string[]): string | undefined {
  const warnings = events
    .filter(
      (e) =>
        e.type === 'Warning' &&
        !BENIGN_WARNINGS.has(e.reason ?? '') &&
        aboutContainer(e, container) &&
        (!reasons || reasons.includes(e.reason ?? '')),
    )
    .sort((a, b) => (eventTime(a) ?? '').localeCompare(eventTime(b) ?? ''));
  const last = warnings.at(-1);
  return last?.message;
}

function firstEventTime(events: KubeEvent[], container: string): string | undefined {
  const times = events
    .filter(
      (e) => e.type === 'Warning' && !BENIGN_WARNINGS.has(e.reason ?? '') && aboutContainer(e, container),
    )
    .map((e) => e.firstTimestamp ?? eventTime(e))
    .filter((t): t is string => typeof t === 'string')
    .sort();
  return times[0];
}

/** Formats events as kubectl describe's last lines: `Warning  Failed  message` → `Failed: message`. */
export function formatEvents(events: KubeEvent[], limit = 10): string[] {
  return [...events]
    .sort((a, b) => (eventTime(a) ?? '').localeCompare(eventTime(b) ?? ''))
    .slice(-limit)
    .map(
      (e) =>
        `${quoteUntrusted(e.type ?? 'Normal', 50)} ${quoteUntrusted(e.reason ?? '', 100)}: ${quoteUntrusted(e.message ?? '')}${e.count && e.count > 1 ? ` (x${e.count})` : ''}`,
    );
}
