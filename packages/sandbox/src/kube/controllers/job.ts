/**
 * The Job controller (pkg/controller/job) for NonIndexed jobs, with the TTL-after-finished controller.
 *
 * Pods: generateName `<job>-`, the template's labels plus the controller-uid/job-name labels (both
 * spellings), ownerReference `batch/v1 Job` controller:true, finalizer `batch.kubernetes.io/job-tracking`
 * (removed once the pod's outcome is counted, which is also how a pod is known to be counted).
 * Failed pods are replaced after a back-off (10 s doubling, 6 min cap). Terminal conditions follow the
 * 1.32 two-step: SuccessCriteriaMet → Complete, FailureTarget → Failed (BackoffLimitExceeded or
 * DeadlineExceeded). ttlSecondsAfterFinished deletes the Job (and, by garbage collection, its pods).
 */
import type { Clock } from '../clock.js';
import { canonicalJson, rfc3339, type KubeObject, type ObjectStore } from '../store.js';
import { labelSelectorMatches } from '../selectors.js';
import { isPodActive, isPodReady } from './replicaset.js';
import type { Cache, EventRecorder, WorkQueue } from './runtime.js';
import { keyOf, timeMs, type Condition } from './util.js';

const SOURCE = { component: 'job-controller' };
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
const BACKOFF_BASE = 10_000;
const BACKOFF_MAX = 360_000;

export interface JobDeps {
  store: ObjectStore;
  clock: Clock;
  cache: Cache;
  events: EventRecorder;
  queue: () => WorkQueue;
}

function isFinished(job: KubeObject): Condition | undefined {
  const conds = (job.status?.conditions ?? []) as Condition[];
  return conds.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export class JobController {
  /** Last time a pod of the job was counted as failed (for the replacement back-off). */
  private readonly lastFailure = new Map<string, number>();

  constructor(private readonly x: JobDeps) {}

  sync(key: string): void {
    const job = this.x.cache.get('jobs', key);
    if (!job) {
      this.x.queue().forget(key);
      return;
    }
    const finished = isFinished(job);
    const pods = this.x.cache
      .ownedBy('pods', job.metadata.uid)
      .filter(
        (p) =>
          p.metadata.namespace === job.metadata.namespace &&
          labelSelectorMatches(job.spec?.selector, p.metadata.labels),
      );
    if (finished) {
      this.countAndRelease(job, pods, {});
      this.handleTTL(job, finished);
      return;
    }
    const nowMs = this.x.clock.nowMs();
    const now = rfc3339(this.x.clock.now());
    const status = structuredClone((job.status ?? {}) as Record<string, any>);
    const spec = (job.spec ?? {}) as Record<string, any>;
    const suspended = spec.suspend === true;
    if (!status.startTime && !suspended) status.startTime = now;

    // Count terminal pods not counted yet (they still carry the tracking finalizer).
    this.countAndRelease(job, pods, status);

    let activePods = pods.filter(isPodActive);
    const succeeded = status.succeeded ?? 0;
    let failed = status.failed ?? 0;
    const completions = typeof spec.completions === 'number' ? spec.completions : 1;
    const parallelism = typeof spec.parallelism === 'number' ? spec.parallelism : 1;
    const backoffLimit = typeof spec.backoffLimit === 'number' ? spec.backoffLimit : 6;
    const conditions = (status.conditions ?? []) as Condition[];
    const cond = (type: string, reason: string, message: string): Condition => ({
      type,
      status: 'True',
      lastProbeTime: now,
      lastTransitionTime: now,
      reason,
      message,
    });
    const has = (type: string): Condition | undefined =>
      conditions.find((c) => c.type === type && c.status === 'True');

    let failureTarget = has('FailureTarget');
    let successMet = has('SuccessCriteriaMet');
    if (!failureTarget && !successMet && !suspended) {
      if (failed > backoffLimit || this.pastBackoffLimitOnFailure(job, activePods, backoffLimit)) {
        failureTarget = cond(
          'FailureTarget',
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
        );
      } else if (this.pastActiveDeadline(job, status, nowMs)) {
        failureTarget = cond(
          'FailureTarget',
          'DeadlineExceeded',
          'Job was active longer than specified deadline',
        );
      } else if (succeeded >= completions) {
        successMet = cond(
          'SuccessCriteriaMet',
          'CompletionsReached',
          'Reached expected number of succeeded pods',
        );
      }
      if (failureTarget) {
        conditions.push(failureTarget);
        const c = failureTarget;
        this.x.events.record(job, 'Warning', c.reason!, c.message!, SOURCE);
      } else if (successMet) conditions.push(successMet);
    }

    if (failureTarget || successMet) {
      // Terminate what still runs; the terminal condition follows once nothing is left running.
      for (const p of activePods) {
        if (this.x.store.delete('pods', p.metadata.namespace, p.metadata.name)) {
          if (failureTarget) failed++;
          this.x.events.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, SOURCE);
        }
      }
      activePods = [];
      status.failed = failed;
      const wasWritten = (job.status?.conditions ?? []).some(
        (c: Condition) => c.type === (failureTarget ? 'FailureTarget' : 'SuccessCriteriaMet'),
      );
      if (wasWritten) {
        if (failureTarget) {
          conditions.push(cond('Failed', failureTarget.reason!, failureTarget.message!));
        } else {
          conditions.push(
            cond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
          );
          status.completionTime = now;
          this.x.events.record(job, 'Normal', 'Completed', 'Job completed', SOURCE);
        }
      } else {
        // Write the interim condition first, then come back for the terminal one.
        this.x.queue().add(key);
      }
    } else if (suspended) {
      for (const p of activePods) this.x.store.delete('pods', p.metadata.namespace, p.metadata.name);
      activePods = [];
      if (!has('Suspended')) {
        const i = conditions.findIndex((c) => c.type === 'Suspended');
        if (i >= 0) conditions.splice(i, 1);
        conditions.push(cond('Suspended', 'JobSuspended', 'Job suspended'));
      }
    } else {
      const i = conditions.findIndex((c) => c.type === 'Suspended' && c.status === 'True');
      if (i >= 0) conditions[i] = { ...cond('Suspended', 'JobResumed', 'Job resumed'), status: 'False' };
      const wantActive = Math.max(0, Math.min(parallelism, completions - succeeded));
      if (activePods.length < wantActive) {
        const last = this.lastFailure.get(job.metadata.uid);
        const delay =
          failed > 0 && last !== undefined ? Math.min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (failed - 1)) : 0;
        const wait = last !== undefined ? last + delay - nowMs : 0;
        if (delay > 0 && wait > 0) {
          this.x.queue().addAfter(key, wait + 1);
        } else {
          for (let i = activePods.length; i < wantActive; i++) {
            const p = this.createPod(job);
            if (p) activePods.push(p);
          }
        }
      } else if (activePods.length > wantActive) {
        for (const p of activePods.slice(wantActive))
          this.x.store.delete('pods', p.metadata.namespace, p.metadata.name);
        activePods = activePods.slice(0, wantActive);
      }
      const ads = spec.activeDeadlineSeconds;
      if (typeof ads === 'number' && status.startTime) {
        this.x.queue().addAfter(key, timeMs(status.startTime) + ads * 1000 - nowMs + 1);
      }
    }

    if (conditions.length) status.conditions = conditions;
    if (activePods.length) status.active = activePods.length;
    else delete status.active;
    status.ready = activePods.filter(isPodReady).length;
    status.terminating = 0;
    status.uncountedTerminatedPods = {};
    if (!status.succeeded) delete status.succeeded;
    if (!status.failed) delete status.failed;
    if (canonicalJson(status) !== canonicalJson(job.status ?? {})) {
      const updated = this.x.store.mutate(
        'jobs',
        job.metadata.namespace,
        job.metadata.name,
        (o) => {
          o.status = status;
        },
        { subresource: 'status' },
      );
      const done = updated && isFinished(updated);
      if (updated && done) this.handleTTL(updated, done);
    }
  }

  /** Counts terminal pods that still carry the tracking finalizer into `status`, then removes it. */
  private countAndRelease(job: KubeObject, pods: KubeObject[], status: Record<string, any>): void {
    for (const p of pods) {
      const phase = p.status?.phase;
      if (phase !== 'Succeeded' && phase !== 'Failed') continue;
      const fin = (p.metadata.finalizers ?? []) as string[];
      if (!fin.includes(JOB_TRACKING_FINALIZER)) continue;
      if (phase === 'Succeeded') status.succeeded = (status.succeeded ?? 0) + 1;
      else {
        status.failed = (status.failed ?? 0) + 1;
        this.lastFailure.set(job.metadata.uid, this.x.clock.nowMs());
      }
      this.x.store.mutate('pods', p.metadata.namespace, p.metadata.name, (o) => {
        const f = ((o.metadata.finalizers ?? []) as string[]).filter((x) => x !== JOB_TRACKING_FINALIZER);
        if (f.length) o.metadata.finalizers = f;
        else delete o.metadata.finalizers;
      });
    }
  }

  private pastBackoffLimitOnFailure(job: KubeObject, active: KubeObject[], backoffLimit: number): boolean {
    if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
    let restarts = 0;
    for (const p of active) {
      for (const c of [
        ...(p.status?.initContainerStatuses ?? []),
        ...(p.status?.containerStatuses ?? []),
      ] as { restartCount?: number }[]) {
        restarts += c.restartCount ?? 0;
      }
    }
    return backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit;
  }

  private pastActiveDeadline(job: KubeObject, status: Record<string, any>, nowMs: number): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    if (typeof ads !== 'number' || !status.startTime) return false;
    return nowMs - timeMs(status.startTime) >= ads * 1000;
  }

  private createPod(job: KubeObject): KubeObject | undefined {
    const template = (job.spec?.template ?? {}) as Record<string, any>;
    const meta = (template.metadata ?? {}) as Record<string, any>;
    const labels: Record<string, string> = {
      ...(meta.labels ?? {}),
      'batch.kubernetes.io/controller-uid': job.metadata.uid,
      'batch.kubernetes.io/job-name': job.metadata.name,
      'controller-uid': job.metadata.uid,
      'job-name': job.metadata.name,
    };
    try {
      const pod = this.x.store.create('pods', {
        metadata: {
          generateName: `${job.metadata.name}-`,
          namespace: job.metadata.namespace,
          labels,
          ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'Job',
              name: job.metadata.name,
              uid: job.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
          finalizers: [JOB_TRACKING_FINALIZER],
        },
        spec: structuredClone(template.spec ?? {}),
      });
      this.x.events.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
      return pod;
    } catch (err) {
      this.x.events.record(
        job,
        'Warning',
        'FailedCreate',
        `Error creating: ${(err as Error).message}`,
        SOURCE,
      );
      throw err;
    }
  }

  private handleTTL(job: KubeObject, finished: Condition): void {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (typeof ttl !== 'number') return;
    const finishedAt = timeMs(job.status?.completionTime ?? finished.lastTransitionTime);
    const due = finishedAt + ttl * 1000 - this.x.clock.nowMs();
    if (due > 0) {
      this.x.queue().addAfter(keyOf(job), due + 1);
      return;
    }
    this.x.store.delete('jobs', job.metadata.namespace, job.metadata.name);
    this.lastFailure.delete(job.metadata.uid);
  }
}
