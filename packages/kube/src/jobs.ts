import {
  ConfigurationError,
  errorMessage,
  formatDuration,
  logUntrusted,
  type Logger,
} from '@planner-deploy/core';
import { describeTransient, isNotFound, isTransient, KubeApiError } from './api-error.js';
import { explainFargateMismatch, type FargateProfileLookup } from './fargate-profiles.js';
import { isOurJob, jobDifferences } from './job-spec.js';
import { listWatch } from './list-watch.js';
import { diagnosePod, formatEvents, type PodFailure } from './pod-diagnosis.js';
import { followContainerLogs } from './pod-logs.js';
import { selectorToString } from './replica-sets.js';
import { withRetry } from './retry.js';
import { podEvents, tailLogs } from './rollout-watcher.js';
import type { Transport } from './transport.js';
import type { Job, KubeList, Pod } from './types.js';

type Conn = Pick<Transport, 'request' | 'requestText' | 'watch' | 'lines'>;

function jobsPath(namespace: string): string {
  return `/apis/batch/v1/namespaces/${namespace}/jobs`;
}

export interface CreateJobOptions {
  conn: Pick<Transport, 'request'>;
  job: Job;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
  deadline?: number | undefined;
}

/**
 * Creates the Job, idempotently: when a Job of that name already exists with our deployment and run labels
 * (a retried request, a re-run step of the same attempt) it is adopted instead; one that is not ours is a
 * ConfigurationError. A transient failure of the POST is retried, and its 409 then means "ours".
 */
export async function createJob(options: CreateJobOptions): Promise<{ job: Job; adopted: boolean }> {
  const namespace = options.job.metadata.namespace ?? 'default';
  const name = options.job.metadata.name ?? '';
  const retry = { signal: options.signal, logger: options.logger, deadline: options.deadline };
  try {
    const job = await withRetry(
      () =>
        options.conn.request<Job>('POST', jobsPath(namespace), {
          body: options.job,
          query: { fieldManager: 'planner-deploy' },
          signal: options.signal,
        }),
      { what: `POST job ${name}`, ...retry },
    );
    options.logger?.info(`job.batch/${name} created`);
    return { job, adopted: false };
  } catch (error) {
    if (!(error instanceof KubeApiError && error.statusCode === 409)) throw error;
  }
  const existing = await withRetry(
    () => options.conn.request<Job>('GET', `${jobsPath(namespace)}/${name}`, { signal: options.signal }),
    { what: `GET job ${name}`, ...retry },
  );
  if (!isOurJob(existing, options.job)) {
    throw new ConfigurationError(
      `A Job named "${name}" already exists in namespace ${namespace} and was not created by this run: choose another job-name, or delete it (kubectl delete job ${name} -n ${namespace}).`,
      { title: 'Job already exists' },
    );
  }
  // Same run and attempt is not enough: a step re-run with another image (or command, or environment) would
  // otherwise report the earlier Job's result as its own.
  const differences = jobDifferences(existing, options.job);
  if (differences.length > 0) {
    throw new ConfigurationError(
      `A Job named "${name}" already exists in namespace ${namespace} from this run and attempt, but it is not the one this step would create: ${differences.join('; ')}. Nothing was deleted. ` +
        `Give another job-name, or delete the earlier Job (kubectl delete job ${name} -n ${namespace}) and run again.`,
      { title: 'Job already exists with other settings' },
    );
  }
  options.logger?.info(
    `job.batch/${name} already exists from this run: following it instead of creating another.`,
  );
  return { job: existing, adopted: true };
}

export type JobOutcome = 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

export interface JobRunResult {
  name: string;
  status: JobOutcome;
  /** The migration container's exit code (its last pod's), when it ran. */
  exitCode?: number;
  /** BackoffLimitExceeded, DeadlineExceeded, ImagePullBackOff, OOMKilled, Error, … */
  reason?: string;
  message: string;
  /** The pod whose result counts (the last one). */
  pod?: string;
  /** The last log lines (up to `logTailLines`). */
  logTail: string[];
  /** Set when a pod could never start (image pull or config error): the Job would wait forever. */
  diagnosis?: PodFailure;
  durationMs: number;
}

export interface WaitForJobOptions {
  conn: Conn;
  namespace: string;
  /** The Job as created or adopted (its selector finds its pods). */
  job: Job;
  /** The container whose log is streamed and whose exit code counts. Default: the first. */
  container?: string | undefined;
  logger: Logger;
  /** Each log line as it comes; default `logUntrusted(logger, line)` (never read as a runner command). */
  onLog?: ((line: string, pod: string) => void) | undefined;
  /** Epoch ms. */
  deadline: number;
  signal?: AbortSignal | undefined;
  /** Lines kept for the result. Default 50. */
  logTailLines?: number;
  /** After the Job finishes, how long to let the log streams drain. Default 5 s. */
  drainMs?: number;
  /** Reads the cluster's Fargate profiles to explain a pod that no profile selects. */
  fargateProfiles?: FargateProfileLookup | undefined;
}

const START_FAILURES = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  // Pending for ever behind the fargate taint (a pod waiting for Fargate capacity is not a failure).
  'FargateProfileMismatch',
]);

/**
 * Follows a Job to its end: streams its pods' logs as they come (waiting for each pod to start, following
 * restarts and cut streams), waits for the `Complete` or `Failed` condition, then reads the container's exit
 * code and reason. A pod that cannot start (image pull, missing secret) fails it at once.
 */
export async function waitForJob(options: WaitForJobOptions): Promise<JobRunResult> {
  const { conn, namespace, logger } = options;
  const name = options.job.metadata.name ?? '';
  const container = options.container ?? options.job.spec.template.spec.containers[0]?.name ?? '';
  const started = Date.now();
  const tailSize = options.logTailLines ?? 50;
  const tail: string[] = [];
  const stop = new AbortController();
  const follow = new AbortController();
  const onOuterAbort = (): void => {
    stop.abort();
    follow.abort();
  };
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const pods = new Map<string, Pod>();
  const followers = new Map<string, Promise<void>>();
  let podChanged: () => void = () => undefined;
  let changed = new Promise<void>((resolve) => (podChanged = resolve));
  const notify = (): void => {
    podChanged();
    changed = new Promise<void>((resolve) => (podChanged = resolve));
  };
  let verdict: { status: JobOutcome; reason?: string; message: string; diagnosis?: PodFailure } | undefined;
  let fatal: unknown;

  const emit = (line: string, pod: string): void => {
    tail.push(line);
    if (tail.length > tailSize) tail.shift();
    if (options.onLog) options.onLog(line, pod);
    else logUntrusted(logger, line);
  };

  const startFollowing = (pod: Pod): void => {
    const podName = pod.metadata.name ?? '';
    if (followers.has(podName)) return;
    followers.set(
      podName,
      followContainerLogs({
        conn,
        namespace,
        pod: podName,
        container,
        onLine: (line) => emit(line, podName),
        signal: follow.signal,
        logger,
        waitForChange: () => Promise.race([changed, delay(1000, follow.signal)]),
      }).catch((error: unknown) => logger.debug(`Log of ${podName}: ${errorMessage(error)}`)),
    );
  };

  const checkPod = (pod: Pod): void => {
    const failure = diagnosePod(pod, { readyGraceMs: Number.POSITIVE_INFINITY });
    if (failure && START_FAILURES.has(failure.reason) && !verdict) {
      verdict = { status: 'failed', reason: failure.reason, message: failure.message, diagnosis: failure };
      stop.abort();
    }
  };

  const onPod = (pod: Pod, deleted = false): void => {
    const podName = pod.metadata.name;
    if (!podName) return;
    if (deleted) pods.delete(podName);
    else pods.set(podName, pod);
    notify();
    if (!deleted) {
      startFollowing(pod);
      checkPod(pod);
    }
  };

  const onJob = (job: Job, deleted = false): void => {
    if (verdict) return;
    if (deleted) {
      verdict = {
        status: 'failed',
        reason: 'Deleted',
        message: `job.batch/${name} was deleted before it finished`,
      };
      stop.abort();
      return;
    }
    const conditions = job.status?.conditions ?? [];
    const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
    const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
    if (complete) {
      verdict = {
        status: 'succeeded',
        reason: complete.reason ?? 'Complete',
        message: `job.batch/${name} completed`,
      };
    } else if (failed) {
      verdict = {
        status: 'failed',
        reason: failed.reason ?? 'Failed',
        message: `job.batch/${name} failed: ${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}`,
      };
    }
    if (verdict) stop.abort();
  };

  const selector = selectorToString(options.job.spec.selector) || `batch.kubernetes.io/job-name=${name}`;
  const watches = [
    listWatch<Job>({
      conn,
      path: jobsPath(namespace),
      query: { fieldSelector: `metadata.name=${name}` },
      what: `job ${name}`,
      signal: stop.signal,
      deadline: options.deadline,
      logger,
      onList: (items) => {
        const job = items.find((j) => j.metadata.name === name);
        onJob(job ?? options.job, job === undefined);
      },
      onEvent: (type, job) => onJob(job, type === 'DELETED'),
    }),
    listWatch<Pod>({
      conn,
      path: `/api/v1/namespaces/${namespace}/pods`,
      query: { labelSelector: selector },
      what: `pods of job ${name}`,
      signal: stop.signal,
      deadline: options.deadline,
      logger,
      onList: (items) => {
        for (const pod of items) onPod(pod);
      },
      onEvent: (type, pod) => onPod(pod, type === 'DELETED'),
    }),
  ];
  for (const watch of watches) {
    watch.catch((error: unknown) => {
      fatal ??= error;
      stop.abort();
    });
  }
  const deadlineTimer = setTimeout(() => stop.abort(), Math.max(0, options.deadline - Date.now()));
  try {
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      else stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.allSettled(watches);
    if (verdict && !verdict.diagnosis && !options.signal?.aborted) {
      // Let the log streams deliver their last lines (they end when the containers have terminated).
      await Promise.race([
        Promise.allSettled([...followers.values()]),
        delay(options.drainMs ?? 5000, follow.signal),
      ]);
    }
  } finally {
    clearTimeout(deadlineTimer);
    follow.abort();
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
  await Promise.allSettled([...followers.values()]);

  if (!verdict) {
    if (options.signal?.aborted)
      verdict = { status: 'cancelled', message: `cancelled while waiting for job.batch/${name}` };
    else if (fatal !== undefined && Date.now() < options.deadline - 50) {
      verdict = {
        status: 'failed',
        message: `could not watch job.batch/${name}: ${fatal instanceof KubeApiError ? fatal.describe() : errorMessage(fatal)}`,
      };
    } else {
      verdict = {
        status: 'timed-out',
        message: `timed out after ${formatDuration(Date.now() - started)} waiting for job.batch/${name} to complete`,
      };
    }
  }

  // The exit code of the last pod's container (fresh from the server: the watch may lag the condition).
  let last = latestPod([...pods.values()]);
  if (verdict.status !== 'cancelled') {
    try {
      // Retried like every other read: a 5xx here must not cost the exit code.
      const list = await withRetry(
        () =>
          conn.request<KubeList<Pod>>('GET', `/api/v1/namespaces/${namespace}/pods`, {
            query: { labelSelector: selector },
          }),
        {
          what: `LIST pods of job ${name}`,
          logger,
          deadline: Math.min(options.deadline, Date.now() + 15_000),
        },
      );
      last = latestPod(list.items) ?? last;
    } catch (error) {
      logger.info(
        `Could not list the pods of ${name} for the exit code (${errorMessage(error)}); using what the watch saw.`,
      );
    }
  }
  if (tail.length === 0 && last && container && verdict.status !== 'cancelled') {
    // The log was not followed (the pod came and went while the watch was recovering): read its end now,
    // so a failed migration still shows why.
    const lines = await tailLogs(conn, namespace, last, { container }, tailSize, undefined, logger);
    if (lines.length > 0)
      logger.info(`Last ${lines.length} log lines of ${last.metadata.name ?? 'the pod'}:`);
    for (const line of lines) emit(line, last.metadata.name ?? '');
  }
  const status = last?.status?.containerStatuses?.find((c) => c.name === container);
  const terminated = status?.state?.terminated ?? status?.lastState?.terminated;
  const result: JobRunResult = {
    name,
    status: verdict.status,
    message: verdict.message,
    logTail: [...tail],
    durationMs: Date.now() - started,
  };
  if (terminated) result.exitCode = terminated.exitCode;
  const reason =
    verdict.status === 'failed' && terminated?.reason && verdict.reason === 'BackoffLimitExceeded'
      ? terminated.reason
      : verdict.reason;
  if (reason) result.reason = reason;
  if (last?.metadata.name) result.pod = last.metadata.name;
  if (verdict.diagnosis) {
    let diagnosis = { ...verdict.diagnosis };
    if (diagnosis.reason === 'FargateProfileMismatch') {
      diagnosis = await explainFargateMismatch(diagnosis, options.fargateProfiles, logger);
      result.message = diagnosis.message;
    }
    if (last) {
      try {
        diagnosis.events = formatEvents(await podEvents(conn, namespace, last));
      } catch (error) {
        // Events only add detail; a transient failure is still said, naming it.
        if (isTransient(error))
          logger.info(
            `Could not read the events of pod ${last.metadata.name ?? ''} (${describeTransient(error)}).`,
          );
      }
    }
    result.diagnosis = diagnosis;
  }
  if (verdict.status === 'failed' && terminated && verdict.reason === 'BackoffLimitExceeded') {
    result.message = `${verdict.message} (container "${container}" exited with code ${terminated.exitCode}${terminated.reason ? `, ${terminated.reason}` : ''})`;
  }
  return result;
}

function latestPod(pods: Pod[]): Pod | undefined {
  return [...pods]
    .sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    )
    .at(-1);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
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

/** Deletes a Job and its pods (`propagationPolicy: Background`, as kubectl does). A missing Job is fine. */
export async function deleteJob(options: {
  conn: Pick<Transport, 'request'>;
  namespace: string;
  name: string;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
}): Promise<boolean> {
  try {
    await withRetry(
      () =>
        options.conn.request('DELETE', `${jobsPath(options.namespace)}/${options.name}`, {
          body: { propagationPolicy: 'Background' },
          signal: options.signal,
        }),
      { what: `DELETE job ${options.name}`, signal: options.signal, logger: options.logger },
    );
    options.logger?.info(`job.batch "${options.name}" deleted`);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
