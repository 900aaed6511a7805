/**
 * The ReplicaSet controller (pkg/controller/replicaset): keeps `spec.replicas` active pods owned by the
 * ReplicaSet, deleting the least valuable first (unscheduled < pending < not ready < ready, newer before
 * older), and reports replicas / fullyLabeledReplicas / readyReplicas / availableReplicas
 * (ready for `minReadySeconds`) / observedGeneration.
 */
import type { Clock } from '../clock.js';
import { canonicalJson, type KubeObject, type ObjectStore } from '../store.js';
import { labelSelectorMatches } from '../selectors.js';
import type { Cache, EventRecorder, WorkQueue } from './runtime.js';
import { controllerRef, getCondition, rsReplicas, splitKey, timeMs, type Condition } from './util.js';

const SOURCE = { component: 'replicaset-controller' };

export interface ReplicaSetDeps {
  store: ObjectStore;
  clock: Clock;
  cache: Cache;
  events: EventRecorder;
  queue: () => WorkQueue;
}

export function isPodActive(p: KubeObject): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata.deletionTimestamp;
}

export function isPodReady(p: KubeObject): boolean {
  return getCondition(p.status, 'Ready')?.status === 'True';
}

/** Ready for at least minReadySeconds at `nowMs`. */
export function isPodAvailable(p: KubeObject, minReadySeconds: number, nowMs: number): boolean {
  const c: Condition | undefined = getCondition(p.status, 'Ready');
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  return timeMs(c.lastTransitionTime) + minReadySeconds * 1000 <= nowMs;
}

/** Lower rank = deleted first (controller.ActivePods ordering, simplified). */
function deletionRank(p: KubeObject): number[] {
  const scheduled = p.spec?.nodeName ? 1 : 0;
  const phase = p.status?.phase === 'Pending' ? 0 : p.status?.phase === 'Unknown' ? 1 : 2;
  const ready = isPodReady(p) ? 1 : 0;
  const restarts = ((p.status?.containerStatuses ?? []) as { restartCount?: number }[]).reduce(
    (m, c) => Math.max(m, c.restartCount ?? 0),
    0,
  );
  // Newer first: negate the creation time.
  return [scheduled, phase, ready, -restarts, -timeMs(p.metadata.creationTimestamp)];
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

export class ReplicaSetController {
  constructor(private readonly d: ReplicaSetDeps) {}

  sync(key: string): void {
    const rs = this.d.cache.get('replicasets', key);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const [ns] = splitKey(key);
    const pods = this.d.cache
      .ownedBy('pods', rs.metadata.uid)
      .filter(
        (p) => p.metadata.namespace === ns && labelSelectorMatches(rs.spec?.selector, p.metadata.labels),
      );
    const active = pods.filter(isPodActive);
    const want = rsReplicas(rs);
    const diff = active.length - want;
    if (diff < 0) {
      for (let i = 0; i < -diff; i++) this.createPod(rs);
    } else if (diff > 0) {
      const victims = [...active]
        .sort((a, b) => compareRanks(deletionRank(a), deletionRank(b)))
        .slice(0, diff);
      for (const p of victims) {
        if (this.d.store.delete('pods', p.metadata.namespace, p.metadata.name)) {
          this.d.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, SOURCE);
        }
      }
    }
    this.updateStatus(rs);
  }

  private createPod(rs: KubeObject): void {
    const template = (rs.spec?.template ?? {}) as Record<string, any>;
    const meta = (template.metadata ?? {}) as Record<string, any>;
    const pod = this.d.store.create('pods', {
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        labels: { ...(meta.labels ?? {}) },
        ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
        ownerReferences: [controllerRef(rs)],
      },
      spec: structuredClone(template.spec ?? {}),
    });
    this.d.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
  }

  private updateStatus(rs: KubeObject): void {
    // Re-read: the pods created/deleted above changed the cache.
    const current = this.d.cache.get('replicasets', `${rs.metadata.namespace}/${rs.metadata.name}`) ?? rs;
    const pods = this.d.cache
      .ownedBy('pods', rs.metadata.uid)
      .filter((p) => labelSelectorMatches(rs.spec?.selector, p.metadata.labels))
      .filter(isPodActive);
    const nowMs = this.d.clock.nowMs();
    const minReady = Number(rs.spec?.minReadySeconds ?? 0);
    const templateLabels = (rs.spec?.template?.metadata?.labels ?? {}) as Record<string, string>;
    const fullyLabeled = pods.filter((p) =>
      Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
    ).length;
    const ready = pods.filter(isPodReady);
    const available = pods.filter((p) => isPodAvailable(p, minReady, nowMs));
    if (minReady > 0 && ready.length > available.length) {
      // Re-check when the next ready pod becomes available.
      let next = Infinity;
      for (const p of ready) {
        const at = timeMs(getCondition(p.status, 'Ready')?.lastTransitionTime) + minReady * 1000;
        if (at > nowMs) next = Math.min(next, at);
      }
      if (next < Infinity)
        this.d.queue().addAfter(`${rs.metadata.namespace}/${rs.metadata.name}`, next - nowMs + 1);
    }
    const status: Record<string, unknown> = { replicas: pods.length };
    if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
    if (ready.length) status.readyReplicas = ready.length;
    if (available.length) status.availableReplicas = available.length;
    status.observedGeneration = current.metadata.generation ?? 1;
    const failure = (current.status?.conditions ?? []) as Condition[];
    if (failure.length) status.conditions = structuredClone(failure);
    if (canonicalJson(status) === canonicalJson(current.status ?? {})) return;
    this.d.store.mutate(
      'replicasets',
      current.metadata.namespace,
      current.metadata.name,
      (o) => {
        o.status = status;
      },
      { subresource: 'status' },
    );
  }
}
