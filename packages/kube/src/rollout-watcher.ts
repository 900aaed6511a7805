import { errorMessage, formatDuration, LineSplitter, type Logger } from '@planner-deploy/core';
import { describeTransient, isTransient, KubeApiError } from './api-error.js';
import { explainFargateMismatch, type FargateProfileLookup } from './fargate-profiles.js';
import { listWatch } from './list-watch.js';
import { awaitingReadiness, diagnosePod, formatEvents, type PodFailure } from './pod-diagnosis.js';
import { findNewReplicaSet, listOwnedReplicaSets, selectorToString } from './replica-sets.js';
import { withRetry } from './retry.js';
import { deploymentRevision, rolloutStatus } from './rollout-status.js';
import type { Transport } from './transport.js';
import type { Deployment, KubeEvent, KubeList, Pod } from './types.js';

export type RolloutOutcome = 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

/** How one deployment's rollout ended. */
export interface RolloutResult {
  name: string;
  outcome: RolloutOutcome;
  /** kubectl's last status line, or what failed. */
  message: string;
  /** The broken pod that failed it fast, with its last events and log lines. */
  diagnosis?: PodFailure;
  /** `deployment.kubernetes.io/revision` when it ended (0 when unknown). */
  revision: number;
  durationMs: number;
}

export interface WaitForRolloutsOptions {
  conn: Pick<Transport, 'request' | 'watch' | 'requestText'>;
  namespace: string;
  deployments: string[];
  /** Epoch ms: one deadline for all of them. */
  deadline: number;
  /** Watch the new ReplicaSets' pods and fail as soon as one is broken. */
  failFast: boolean;
  /** How long a started pod may stay unready before fail-fast calls it broken. */
  readyGraceMs: number;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Log lines gathered from a broken pod. Default 20. */
  logTailLines?: number;
  /** Called on every status change (summaries, progress). */
  onStatus?: (name: string, message: string) => void;
  /** Called with every version of a deployment the watch delivers (live progress: updated/available counts). */
  onUpdate?: (name: string, deployment: Deployment) => void;
  /**
   * Reads the cluster's Fargate profiles to explain a pod that no profile selects (see
   * fargateProfileLookup: only for a cluster reached by name).
   */
  fargateProfiles?: FargateProfileLookup | undefined;
}

interface Tracked {
  name: string;
  deployment?: Deployment;
  lastMessage?: string;
  result?: RolloutResult;
  /** The generation whose new ReplicaSet we know (or are looking up). */
  rsGeneration?: number;
  newReplicaSet?: string;
  lookingUp?: boolean;
  /** When the last ReplicaSet lookup started (ms), so a missing one is not listed on every tick. */
  lastLookup?: number;
}

const TICK_MS = 1000;

/**
 * Waits for several Deployments of one namespace to roll out, with `kubectl rollout status` semantics, using
 * ONE list+watch of the namespace's deployments and (with fail-fast) ONE list+watch of its pods, all under
 * one deadline. Fail-fast classifies the new ReplicaSets' pods (pull errors, crash loops, config errors,
 * OOM kills, pods unready past the grace) and attaches the pod's last events and log lines.
 * Never throws for a rollout verdict; throws only when the API refuses the watch itself (403, 404).
 */
export async function waitForRollouts(options: WaitForRolloutsOptions): Promise<RolloutResult[]> {
  const { conn, namespace, logger } = options;
  if (options.deployments.length === 0) return [];
  const started = Date.now();
  const tracked = new Map<string, Tracked>(options.deployments.map((name) => [name, { name }]));
  const pods = new Map<string, Pod>();
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const diagnosing = new Set<string>();
  /** When we first saw each pod waiting for readiness (our clock: the server's may be skewed). */
  const unreadySince = new Map<string, number>();
  let fatal: unknown;

  const pending = (): Tracked[] => [...tracked.values()].filter((t) => !t.result);
  const finish = (t: Tracked, outcome: RolloutOutcome, message: string, diagnosis?: PodFailure): void => {
    if (t.result) return;
    t.result = {
      name: t.name,
      outcome,
      message,
      ...(diagnosis ? { diagnosis } : {}),
      revision: t.deployment ? deploymentRevision(t.deployment) : 0,
      durationMs: Date.now() - started,
    };
    if (outcome !== 'succeeded') {
      logger.warning(
        `deployment "${t.name}": ${outcome} after ${formatDuration(t.result.durationMs)}: ${message}`,
      );
    }
    if (pending().length === 0) stop.abort();
  };

  const observe = (t: Tracked, deployment: Deployment): void => {
    t.deployment = deployment;
    options.onUpdate?.(t.name, deployment);
    const status = rolloutStatus(deployment);
    if (status.message !== t.lastMessage) {
      t.lastMessage = status.message;
      logger.info(
        status.message.includes(`"${t.name}"`) ? status.message : `deployment "${t.name}": ${status.message}`,
      );
      options.onStatus?.(t.name, status.message);
    }
    if (status.done) return finish(t, 'succeeded', status.message);
    if (status.failed) return finish(t, 'failed', status.message);
    if (options.failFast) evaluatePods();
  };

  // Which ReplicaSet is the new one is only looked up when a pod looks broken (a healthy rollout costs no
  // ReplicaSet LIST), once per generation, and once the controller has observed that generation.
  const learnNewReplicaSet = async (t: Tracked): Promise<void> => {
    const deployment = t.deployment;
    if (!deployment || t.lookingUp) return;
    const generation = deployment.metadata.generation ?? 0;
    if ((deployment.status?.observedGeneration ?? 0) < generation || t.rsGeneration === generation) return;
    if (t.lastLookup !== undefined && Date.now() - t.lastLookup < 2000) return;
    t.lookingUp = true;
    t.lastLookup = Date.now();
    try {
      const owned = await withRetry(() => listOwnedReplicaSets(conn, deployment, stop.signal), {
        what: `LIST replicasets of ${t.name}`,
        deadline: options.deadline,
        signal: stop.signal,
        logger,
      });
      const newRs = findNewReplicaSet(deployment, owned);
      if (newRs?.metadata.name) {
        t.newReplicaSet = newRs.metadata.name;
        t.rsGeneration = generation;
        logger.debug(`deployment "${t.name}": new ReplicaSet ${t.newReplicaSet}`);
        evaluatePods();
      }
    } catch (error) {
      if (!stop.signal.aborted && isTransient(error))
        logger.info(
          `Could not list the ReplicaSets of ${t.name} (${describeTransient(error)}); looking again.`,
        );
      else if (!stop.signal.aborted)
        logger.debug(`Could not list the ReplicaSets of ${t.name}: ${errorMessage(error)}`);
    } finally {
      t.lookingUp = false;
    }
  };

  // A deployment's ReplicaSets are named <deployment>-<pod-template-hash>, and their pods carry that hash.
  const replicaSetOf = (pod: Pod): string | undefined =>
    pod.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'ReplicaSet')?.name;
  const ownerOf = (pod: Pod): Tracked | undefined => {
    const rs = replicaSetOf(pod);
    const hash = pod.metadata.labels?.['pod-template-hash'];
    if (!rs || !hash) return undefined;
    return pending().find((t) => rs === `${t.name}-${hash}`);
  };

  const evaluatePods = (): void => {
    if (!options.failFast) return;
    for (const pod of pods.values()) {
      const owner = ownerOf(pod);
      if (!owner) continue;
      const podName = pod.metadata.name ?? '';
      if (!awaitingReadiness(pod)) unreadySince.delete(podName);
      else if (!unreadySince.has(podName)) unreadySince.set(podName, Date.now());
      const failure = diagnosePod(pod, {
        readyGraceMs: options.readyGraceMs,
        observedSince: unreadySince.get(podName),
      });
      if (!failure || diagnosing.has(owner.name)) continue;
      const generation = owner.deployment?.metadata.generation ?? 0;
      if (owner.rsGeneration !== generation) {
        void learnNewReplicaSet(owner);
        continue;
      }
      // Broken pods of an older ReplicaSet (a previous failed rollout) are not this rollout's verdict.
      if (replicaSetOf(pod) !== owner.newReplicaSet) continue;
      diagnosing.add(owner.name);
      void explain(owner, pod, failure);
    }
  };

  const explain = async (t: Tracked, pod: Pod, failure: PodFailure): Promise<void> => {
    const podName = pod.metadata.name ?? '';
    let diagnosis = failure;
    try {
      const events = await podEvents(conn, namespace, pod, stop.signal);
      const observedSince = unreadySince.get(podName);
      diagnosis = diagnosePod(pod, { readyGraceMs: options.readyGraceMs, events, observedSince }) ?? failure;
      diagnosis.events = formatEvents(events);
    } catch (error) {
      if (isTransient(error))
        logger.info(
          `Could not read the events of pod ${podName} (${describeTransient(error)}); diagnosing without them.`,
        );
      else logger.debug(`Could not read the events of pod ${podName}: ${errorMessage(error)}`);
    }
    if (diagnosis.reason === 'FargateProfileMismatch') {
      diagnosis = await explainFargateMismatch(diagnosis, options.fargateProfiles, logger, stop.signal);
    }
    if (diagnosis.container) {
      const lines = await tailLogs(
        conn,
        namespace,
        pod,
        diagnosis,
        options.logTailLines ?? 20,
        stop.signal,
        logger,
      );
      if (lines.length > 0) diagnosis.logs = lines;
    }
    finish(t, 'failed', diagnosis.message, diagnosis);
  };

  const podList = (items: Pod[]): void => {
    pods.clear();
    for (const pod of items) if (pod.metadata.name) pods.set(pod.metadata.name, pod);
    evaluatePods();
  };
  const podEvent = (type: string, pod: Pod): void => {
    const name = pod.metadata.name;
    if (!name) return;
    if (type === 'DELETED') pods.delete(name);
    else pods.set(name, pod);
    evaluatePods();
  };

  const deploymentsPath = `/apis/apps/v1/namespaces/${namespace}/deployments`;
  const single = options.deployments.length === 1 ? options.deployments[0] : undefined;
  const watches: Promise<void>[] = [
    listWatch<Deployment>({
      conn,
      path: deploymentsPath,
      query: single ? { fieldSelector: `metadata.name=${single}` } : {},
      what: `deployments in ${namespace}`,
      signal: stop.signal,
      deadline: options.deadline,
      logger,
      onList: (items) => {
        for (const t of pending()) {
          const found = items.find((d) => d.metadata.name === t.name);
          if (found) observe(t, found);
          else finish(t, 'failed', `Error from server (NotFound): deployments.apps "${t.name}" not found`);
        }
      },
      onEvent: (type, deployment) => {
        const t = tracked.get(deployment.metadata.name ?? '');
        if (!t || t.result) return;
        if (type === 'DELETED') return finish(t, 'failed', `deployment "${t.name}": object has been deleted`);
        observe(t, deployment);
      },
    }),
  ];
  if (options.failFast) {
    // One pod watch for the namespace; a single deployment narrows it with its own selector.
    const selector = single ? undefined : '';
    watches.push(
      (async () => {
        // The selector comes from the deployment, so wait for the first list of deployments to arrive.
        let labelSelector = selector;
        if (single) {
          const t = tracked.get(single) as Tracked;
          while (!t.deployment && !t.result && !stop.signal.aborted) await delay(20, stop.signal);
          labelSelector = t.deployment ? selectorToString(t.deployment.spec.selector) : '';
        }
        if (stop.signal.aborted) return;
        await listWatch<Pod>({
          conn,
          path: `/api/v1/namespaces/${namespace}/pods`,
          query: labelSelector ? { labelSelector } : {},
          what: `pods in ${namespace}`,
          watchFromZero: true,
          signal: stop.signal,
          deadline: options.deadline,
          logger,
          onList: podList,
          onEvent: podEvent,
        });
      })(),
    );
  }

  const fail = (error: unknown): void => {
    if (fatal === undefined) fatal = error;
    stop.abort();
  };
  for (const watch of watches) watch.catch(fail);

  const timer = setInterval(evaluatePods, TICK_MS);
  const deadlineTimer = setTimeout(() => stop.abort(), Math.max(0, options.deadline - Date.now()));
  try {
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      else stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.allSettled(watches);
  } finally {
    clearInterval(timer);
    clearTimeout(deadlineTimer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }

  for (const t of pending()) {
    if (options.signal?.aborted) {
      finish(t, 'cancelled', `cancelled while waiting: ${t.lastMessage ?? 'no status seen yet'}`);
    } else if (fatal !== undefined && Date.now() < options.deadline - 50) {
      finish(t, 'failed', `could not watch the rollout: ${describeError(fatal)}`);
    } else {
      finish(t, 'timed-out', `timed out waiting for the condition: ${t.lastMessage ?? 'no status seen yet'}`);
    }
  }
  return options.deployments.map((name) => (tracked.get(name) as Tracked).result as RolloutResult);
}

function describeError(error: unknown): string {
  return error instanceof KubeApiError ? error.describe() : errorMessage(error);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** The pod's events, newest last. The field selector narrows it on real servers; we filter again anyway. */
export async function podEvents(
  conn: Pick<Transport, 'request'>,
  namespace: string,
  pod: Pod,
  signal?: AbortSignal,
): Promise<KubeEvent[]> {
  const name = pod.metadata.name ?? '';
  const path = `/api/v1/namespaces/${namespace}/events`;
  let list: KubeList<KubeEvent>;
  try {
    list = await conn.request('GET', path, {
      query: { fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}` },
      signal,
    });
  } catch (error) {
    if (isTransient(error) || !(error instanceof KubeApiError) || error.statusCode !== 400) throw error;
    list = await conn.request('GET', path, { signal });
  }
  const uid = pod.metadata.uid;
  return list.items.filter(
    (e) => e.involvedObject?.name === name && (!uid || !e.involvedObject.uid || e.involvedObject.uid === uid),
  );
}

/** The most of a log's end read for a diagnosis. */
const TAIL_LIMIT_BYTES = 256 * 1024;

/** The container's last log lines (the previous run's for a crash loop or OOM kill); [] when there are none. */
export async function tailLogs(
  conn: Pick<Transport, 'requestText'>,
  namespace: string,
  pod: Pod,
  failure: Pick<PodFailure, 'container'> & Partial<Pick<PodFailure, 'reason'>>,
  tailLines: number,
  signal?: AbortSignal,
  logger?: Logger,
): Promise<string[]> {
  if (!failure.container || tailLines <= 0) return [];
  const status = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
  ].find((s) => s.name === failure.container);
  const previous = Boolean(
    status && status.restartCount > 0 && !status.state?.running && !status.state?.terminated,
  );
  try {
    const text = await conn.requestText(
      'GET',
      `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/log`,
      {
        query: {
          container: failure.container,
          tailLines,
          // A workload's line can be any length: read a bounded end of the log, and cap each line.
          limitBytes: TAIL_LIMIT_BYTES,
          ...(previous ? { previous: 'true' } : {}),
        },
        accept: '*/*',
        signal,
      },
    );
    const splitter = new LineSplitter();
    const lines = [...splitter.push(text), ...splitter.end()];
    return lines.slice(-tailLines);
  } catch (error) {
    // A container that never started has no logs (400 "waiting to start"): nothing to show.
    if (isTransient(error) && !signal?.aborted)
      logger?.info(
        `Could not read the last log lines of pod ${pod.metadata.name ?? ''} (${describeTransient(error)}); diagnosing without them.`,
      );
    return [];
  }
}
