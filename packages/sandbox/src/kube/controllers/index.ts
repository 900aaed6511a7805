/**
 * The sandbox's controller manager: deployment, replicaset and job controllers, the TTL-after-finished
 * controller, the default scheduler and a simulated kubelet, all event-driven from the store's change
 * stream with timers on the sandbox Clock.
 */
import type { Clock, ClockHandle } from '../clock.js';
import type { PodLogs } from '../logs.js';
import type { Change, ObjectStore } from '../store.js';
import type { ImageCatalog } from './catalog.js';
import { DeploymentController } from './deployment.js';
import { FargateScheduler, NodeEventRecorder } from './fargate.js';
import { JobController } from './job.js';
import { Kubelet } from './kubelet.js';
import { ReplicaSetController } from './replicaset.js';
import { Cache, EventRecorder, WorkQueue } from './runtime.js';
import { controllerOf, keyOf } from './util.js';

export {
  ImageCatalog,
  parseImage,
  parseBehaviour,
  DEFAULT_BEHAVIOUR,
  DEFAULT_RUN_TO_COMPLETION,
} from './catalog.js';
export type { ImageBehaviour, ParsedImage, CatalogConfig, ContainerRef } from './catalog.js';
export { NODE_NAME, NODE_IP } from './kubelet.js';
export {
  FargateScheduler,
  profileFor,
  selectorMatches,
  capacityFor,
  FARGATE_SCHEDULER,
  FARGATE_PROFILE_ANNOTATION,
  COMPUTE_TYPE_LABEL,
  CAPACITY_ANNOTATION,
  LOGGING_NAMESPACE,
  LOGGING_CONFIGMAP,
  DEFAULT_PROVISIONING_MS,
} from './fargate.js';
export type { FargateOptions, FargateProfileSpec, FargateSelector, PodPlacement } from './fargate.js';
export { computeTemplateHash, resolveFenceposts, scaledValue } from './util.js';

export interface ControllerContext {
  store: ObjectStore;
  logs: PodLogs;
  clock: Clock;
  images: ImageCatalog;
  /** Events older than this (simulated ms since lastTimestamp) are deleted, like the API server's --event-ttl. Default 1 h. */
  eventTtlMs?: number;
  /** Called when a sync fails (it is retried with back-off). Default: print when SANDBOX_DEBUG is set. */
  onError?: (controller: string, key: string, err: unknown) => void;
}

export interface Controllers {
  /** EKS on Fargate: off until `enable()` (see fargate.ts); a plain one-node cluster meanwhile. */
  fargate: FargateScheduler;
  stop(): void;
}

export function startControllers(ctx: ControllerContext): Controllers {
  const { store, clock } = ctx;
  const cache = new Cache(store);
  const events = new EventRecorder(store, clock);
  const report =
    ctx.onError ??
    ((controller: string, key: string, err: unknown) => {
      if (process.env.SANDBOX_DEBUG)
        console.error(`sandbox ${controller} controller: sync ${key} failed:`, err);
    });

  const deployments: WorkQueue = new WorkQueue((k) => deploymentController.sync(k), {
    clock,
    onError: (k, e) => report('deployment', k, e),
  });
  const replicaSets: WorkQueue = new WorkQueue((k) => rsController.sync(k), {
    clock,
    onError: (k, e) => report('replicaset', k, e),
  });
  const jobs: WorkQueue = new WorkQueue((k) => jobController.sync(k), {
    clock,
    onError: (k, e) => report('job', k, e),
  });
  const deploymentController = new DeploymentController({
    store,
    clock,
    cache,
    events,
    queue: () => deployments,
  });
  const rsController = new ReplicaSetController({ store, clock, cache, events, queue: () => replicaSets });
  const jobController = new JobController({ store, clock, cache, events, queue: () => jobs });
  const fargate = new FargateScheduler({ store, clock, events });
  const kubelet = new Kubelet({
    store,
    logs: ctx.logs,
    clock,
    images: ctx.images,
    events: new NodeEventRecorder(store, clock),
    placement: fargate,
    onError: (e) => report('kubelet', '', e),
  });

  const ownerKey = (change: Change, kind: string): string | undefined => {
    const ref = controllerOf(change.object);
    if (!ref || ref.kind !== kind) return undefined;
    return `${change.object.metadata.namespace ?? ''}/${ref.name}`;
  };

  // The controllers never modify what they are handed: they subscribe read-only where the store supports
  // it (the shared snapshot instead of a copy per listener; older stores ignore the option).
  const on: (listener: (change: Change) => void, opts?: { readOnly?: boolean }) => () => void =
    store.on.bind(store);
  const subscribe = on;
  const off = subscribe(
    (change) => {
      cache.apply(change);
      if (change.type === 'DELETED' && change.resource !== 'events' && change.resource !== 'pods') {
        events.forget(change.object.metadata.uid);
      }
      switch (change.resource) {
        case 'deployments':
          deployments.add(keyOf(change.object));
          break;
        case 'replicasets': {
          replicaSets.add(keyOf(change.object));
          const owner = ownerKey(change, 'Deployment');
          if (owner) deployments.add(owner);
          break;
        }
        case 'pods': {
          kubelet.onChange(change);
          const rs = ownerKey(change, 'ReplicaSet');
          if (rs) replicaSets.add(rs);
          const job = ownerKey(change, 'Job');
          if (job) jobs.add(job);
          break;
        }
        case 'jobs':
          jobs.add(keyOf(change.object));
          break;
        case 'events':
        case 'namespaces':
        case 'nodes':
        case 'configmaps':
          break;
      }
    },
    { readOnly: true },
  );

  for (const d of cache.list('deployments')) deployments.add(keyOf(d));
  for (const rs of cache.list('replicasets')) replicaSets.add(keyOf(rs));
  for (const j of cache.list('jobs')) jobs.add(keyOf(j));
  kubelet.start(cache.list('pods'));

  // The API server's event TTL: sweep every tenth of the TTL.
  const ttl = ctx.eventTtlMs ?? 3_600_000;
  let sweepTimer: ClockHandle | undefined;
  const sweep = (): void => {
    const cutoff = clock.nowMs() - ttl;
    for (const e of store.list('events')) {
      const stamp = typeof e.lastTimestamp === 'string' ? e.lastTimestamp : e.metadata.creationTimestamp;
      const last = Date.parse(stamp);
      if (!Number.isNaN(last) && last < cutoff) store.delete('events', e.metadata.namespace, e.metadata.name);
    }
    sweepTimer = clock.setTimeout(sweep, ttl / 10);
  };
  sweepTimer = clock.setTimeout(sweep, ttl / 10);

  return {
    fargate,
    stop(): void {
      fargate.stop();
      clock.clearTimeout(sweepTimer);
      off();
      deployments.stop();
      replicaSets.stop();
      jobs.stop();
      kubelet.stop();
    },
  };
}
