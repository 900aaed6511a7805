/**
 * The Deployment controller (pkg/controller/deployment): ReplicaSet per pod template (hash-named),
 * revisions and revision history, rolling update within maxSurge/maxUnavailable, Recreate, proportional
 * scaling, pause, revisionHistoryLimit, and status with the Available and Progressing conditions
 * (including ProgressDeadlineExceeded on the Clock).
 */
import type { Clock } from '../clock.js';
import { canonicalJson, rfc3339, StoreError, type KubeObject, type ObjectStore } from '../store.js';
import type { Cache, EventRecorder, WorkQueue } from './runtime.js';
import { isPodActive } from './replicaset.js';
import {
  byCreation,
  CHANGE_CAUSE,
  computeTemplateHash,
  controllerRef,
  DESIRED_REPLICAS,
  getCondition,
  isControlledBy,
  keyOf,
  MAX_REPLICAS,
  POD_TEMPLATE_HASH,
  removeCondition,
  resolveFenceposts,
  REVISION,
  REVISION_HISTORY,
  revisionOf,
  rsReplicas,
  setCondition,
  SKIP_COPY_ANNOTATIONS,
  statusNum,
  templateForm,
  templatesEqualIgnoringHash,
  timeMs,
  type Condition,
} from './util.js';

void CHANGE_CAUSE; // copied like any other deployment annotation (not in the skip set)

const SOURCE = { component: 'deployment-controller' };
const MAX_REV_HISTORY_CHARS = 2000;
const NO_DEADLINE = 2147483647;

export const Reasons = {
  NewRS: 'NewReplicaSetCreated',
  FoundNewRS: 'FoundNewReplicaSet',
  RSUpdated: 'ReplicaSetUpdated',
  NewRSAvailable: 'NewReplicaSetAvailable',
  TimedOut: 'ProgressDeadlineExceeded',
  Paused: 'DeploymentPaused',
  Resumed: 'DeploymentResumed',
  FailedRSCreate: 'ReplicaSetCreateError',
  MinAvailable: 'MinimumReplicasAvailable',
  MinUnavailable: 'MinimumReplicasUnavailable',
} as const;

// ---------------------------------------------------------------------------------------------------
// Deployment arithmetic (deployment_util.go)

export function desiredReplicas(d: KubeObject): number {
  return typeof d.spec?.replicas === 'number' ? d.spec.replicas : 1;
}

export function isRolling(d: KubeObject): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

export function fenceposts(d: KubeObject): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return resolveFenceposts(ru.maxSurge ?? '25%', ru.maxUnavailable ?? '25%', desiredReplicas(d));
}

export function maxSurge(d: KubeObject): number {
  return isRolling(d) ? fenceposts(d).surge : 0;
}

export function maxUnavailable(d: KubeObject): number {
  const replicas = desiredReplicas(d);
  if (!isRolling(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicas);
}

function hasProgressDeadline(d: KubeObject): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return typeof p === 'number' && p !== NO_DEADLINE;
}

function sumSpec(rss: KubeObject[]): number {
  return rss.reduce((n, rs) => n + rsReplicas(rs), 0);
}

function sumStatus(rss: KubeObject[], field: string): number {
  return rss.reduce((n, rs) => n + statusNum(rs, field), 0);
}

function active(rss: KubeObject[]): KubeObject[] {
  return rss.filter((rs) => rsReplicas(rs) > 0);
}

/** DeploymentComplete: every replica updated and available, nothing old left, generation observed. */
export function deploymentComplete(d: KubeObject, status: Record<string, any>): boolean {
  const r = desiredReplicas(d);
  return (
    (status.updatedReplicas ?? 0) === r &&
    (status.replicas ?? 0) === r &&
    (status.availableReplicas ?? 0) === r &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 1)
  );
}

function deploymentProgressing(d: KubeObject, next: Record<string, any>): boolean {
  const cur = (d.status ?? {}) as Record<string, any>;
  const oldOld = (cur.replicas ?? 0) - (cur.updatedReplicas ?? 0);
  const newOld = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (cur.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (next.readyReplicas ?? 0) > (cur.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (cur.availableReplicas ?? 0)
  );
}

// ---------------------------------------------------------------------------------------------------

export interface DeploymentDeps {
  store: ObjectStore;
  clock: Clock;
  cache: Cache;
  events: EventRecorder;
  queue: () => WorkQueue;
}

interface State {
  d: KubeObject;
}

export class DeploymentController {
  constructor(private readonly x: DeploymentDeps) {}

  sync(key: string): void {
    const cached = this.x.cache.get('deployments', key);
    if (!cached) {
      this.x.queue().forget(key);
      return;
    }
    const s: State = { d: cached };
    const rsList = this.replicaSetsOf(s.d);
    if (s.d.metadata.deletionTimestamp) {
      this.syncStatusOnly(s, rsList);
      return;
    }
    this.checkPausedConditions(s);
    if (s.d.spec?.paused) {
      this.syncScaleOnly(s, rsList);
      return;
    }
    if (this.isScalingEvent(s, rsList)) {
      this.syncScaleOnly(s, this.replicaSetsOf(s.d));
      return;
    }
    if (isRolling(s.d)) this.rolloutRolling(s, this.replicaSetsOf(s.d));
    else this.rolloutRecreate(s, this.replicaSetsOf(s.d));
  }

  private replicaSetsOf(d: KubeObject): KubeObject[] {
    return this.x.cache
      .ownedBy('replicasets', d.metadata.uid)
      .filter(
        (rs) =>
          rs.metadata.namespace === d.metadata.namespace &&
          isControlledBy(rs, d) &&
          !rs.metadata.deletionTimestamp,
      );
  }

  // -------------------------------------------------------------------------------------------------
  // Writes

  /** UpdateStatus: status and annotations, no generation bump. */
  private writeStatus(s: State, status: Record<string, any>, annotations?: Record<string, string>): void {
    const updated = this.x.store.mutate(
      'deployments',
      s.d.metadata.namespace,
      s.d.metadata.name,
      (o) => {
        o.status = status;
        if (annotations) o.metadata.annotations = annotations;
      },
      { subresource: 'status' },
    );
    if (updated) s.d = updated;
  }

  private now(): string {
    return rfc3339(this.x.clock.now());
  }

  private condition(type: string, status: Condition['status'], reason: string, message: string): Condition {
    const now = this.now();
    return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
  }

  /** Sets size and the desired/max-replicas annotations; records ScalingReplicaSet on a size change. */
  private scaleReplicaSet(rs: KubeObject, newScale: number, d: KubeObject, op?: 'up' | 'down'): KubeObject {
    const desired = String(desiredReplicas(d));
    const max = String(desiredReplicas(d) + maxSurge(d));
    const ann = rs.metadata.annotations ?? {};
    const sizeChange = rsReplicas(rs) !== newScale;
    const annChange = ann[DESIRED_REPLICAS] !== desired || ann[MAX_REPLICAS] !== max;
    if (!sizeChange && !annChange) return rs;
    const from = rsReplicas(rs);
    const updated = this.x.store.mutate('replicasets', rs.metadata.namespace, rs.metadata.name, (o) => {
      o.spec.replicas = newScale;
      o.metadata.annotations = {
        ...(o.metadata.annotations ?? {}),
        [DESIRED_REPLICAS]: desired,
        [MAX_REPLICAS]: max,
      };
    });
    if (!updated) return rs;
    if (sizeChange) {
      const dir = op ?? (newScale > from ? 'up' : 'down');
      this.x.events.record(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${dir} replica set ${rs.metadata.name} from ${from} to ${newScale}`,
        SOURCE,
      );
    }
    return updated;
  }

  // -------------------------------------------------------------------------------------------------
  // New ReplicaSet and revisions (sync.go)

  /** Semantic form of a template, memoised per object uid and generation (templates only change with it). */
  private readonly templateForms = new Map<string, string>();

  private templateForm(o: KubeObject): string {
    const key = `${o.metadata.uid}/${o.metadata.generation ?? 0}`;
    let form = this.templateForms.get(key);
    if (form === undefined) {
      form = templateForm(o.spec?.template);
      if (this.templateForms.size > 20000) this.templateForms.clear();
      this.templateForms.set(key, form);
    }
    return form;
  }

  private findNewAndOld(d: KubeObject, rsList: KubeObject[]): { newRS?: KubeObject; old: KubeObject[] } {
    const sorted = [...rsList].sort(byCreation);
    const want = this.templateForm(d);
    const newRS = sorted.find((rs) => this.templateForm(rs) === want);
    return { newRS, old: sorted.filter((rs) => rs !== newRS) };
  }

  /** Copies annotations and moves the revision; true when the RS changed. */
  private setNewRSAnnotations(d: KubeObject, rs: KubeObject, newRevision: number, exists: boolean): boolean {
    let changed = false;
    const ann = (rs.metadata.annotations ??= {});
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
      if (SKIP_COPY_ANNOTATIONS.has(k)) continue;
      if (ann[k] !== v) {
        ann[k] = v;
        changed = true;
      }
    }
    const oldRevision = ann[REVISION];
    const oldRevisionNum = oldRevision === undefined ? 0 : Number(oldRevision);
    if (oldRevision !== undefined && !Number.isInteger(oldRevisionNum)) return false;
    if (oldRevisionNum < newRevision) {
      ann[REVISION] = String(newRevision);
      changed = true;
      if (oldRevision !== undefined) {
        const history = ann[REVISION_HISTORY];
        if (!history) ann[REVISION_HISTORY] = oldRevision;
        else {
          const parts = history.split(',');
          let total = history.length + oldRevision.length + 1;
          let start = 0;
          while (total > MAX_REV_HISTORY_CHARS && start < parts.length) {
            total -= parts[start]!.length + 1;
            start++;
          }
          if (total <= MAX_REV_HISTORY_CHARS)
            ann[REVISION_HISTORY] = [...parts.slice(start), oldRevision].join(',');
        }
      }
    }
    if (!exists) {
      ann[DESIRED_REPLICAS] = String(desiredReplicas(d));
      ann[MAX_REPLICAS] = String(desiredReplicas(d) + maxSurge(d));
      changed = true;
    }
    return changed;
  }

  private getAllReplicaSetsAndSyncRevision(
    s: State,
    rsList: KubeObject[],
    create: boolean,
  ): { newRS?: KubeObject; old: KubeObject[] } {
    const { newRS: existing, old } = this.findNewAndOld(s.d, rsList);
    const newRS = this.getNewReplicaSet(s, existing, old, create);
    return { newRS, old };
  }

  private getNewReplicaSet(
    s: State,
    existing: KubeObject | undefined,
    old: KubeObject[],
    create: boolean,
  ): KubeObject | undefined {
    const maxOld = old.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
    const newRevision = maxOld + 1;
    const d = s.d;
    if (existing) {
      const copy = structuredClone(existing);
      const annChanged = this.setNewRSAnnotations(d, copy, newRevision, true);
      const minReady = d.spec?.minReadySeconds ?? 0;
      const minReadyChanged = (copy.spec?.minReadySeconds ?? 0) !== minReady;
      if (annChanged || minReadyChanged) {
        const updated = this.x.store.mutate(
          'replicasets',
          copy.metadata.namespace,
          copy.metadata.name,
          (o) => {
            o.metadata.annotations = copy.metadata.annotations;
            if (minReady) o.spec.minReadySeconds = minReady;
            else delete o.spec.minReadySeconds;
          },
        );
        return updated ?? existing;
      }
      const annotations = { ...(d.metadata.annotations ?? {}) };
      const rev = copy.metadata.annotations?.[REVISION];
      let needsUpdate = false;
      if (rev !== undefined && annotations[REVISION] !== rev) {
        annotations[REVISION] = rev;
        needsUpdate = true;
      }
      const status = structuredClone((d.status ?? {}) as Record<string, any>);
      if (hasProgressDeadline(d) && !getCondition(status, 'Progressing')) {
        setCondition(
          status,
          this.condition(
            'Progressing',
            'True',
            Reasons.FoundNewRS,
            `Found new replica set "${copy.metadata.name}"`,
          ),
        );
        needsUpdate = true;
      }
      if (needsUpdate) this.writeStatus(s, status, annotations);
      return existing;
    }
    if (!create) return undefined;

    const template = structuredClone(d.spec?.template ?? {}) as Record<string, any>;
    const collisionCount =
      typeof d.status?.collisionCount === 'number' ? (d.status.collisionCount as number) : undefined;
    const hash = computeTemplateHash(d.spec?.template, collisionCount);
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const selector = structuredClone(d.spec?.selector ?? {}) as Record<string, any>;
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [controllerRef(d)],
        labels: { ...template.metadata.labels },
      } as KubeObject['metadata'],
      spec: {
        replicas: 0,
        selector,
        template,
        ...(d.spec?.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}),
      },
    };
    rs.spec.replicas = this.newRSNewReplicas(d, [...old, rs], rs);
    this.setNewRSAnnotations(d, rs, newRevision, false);
    let created: KubeObject;
    let alreadyExisted = false;
    try {
      created = this.x.store.create('replicasets', rs);
    } catch (err) {
      if (err instanceof StoreError && err.code === 409) {
        const other = this.x.store.get('replicasets', rs.metadata.namespace, rs.metadata.name);
        if (
          other &&
          isControlledBy(other, d) &&
          templatesEqualIgnoringHash(other.spec?.template, d.spec?.template)
        ) {
          created = other;
          alreadyExisted = true;
        } else {
          // A hash collision: bump collisionCount and retry on the next sync.
          const status = structuredClone((d.status ?? {}) as Record<string, any>);
          status.collisionCount = (collisionCount ?? 0) + 1;
          this.writeStatus(s, status);
          this.x.queue().add(keyOf(d));
          return undefined;
        }
      } else {
        const msg = `Failed to create new replica set "${rs.metadata.name}": ${(err as Error).message}`;
        if (hasProgressDeadline(d)) {
          const status = structuredClone((d.status ?? {}) as Record<string, any>);
          setCondition(status, this.condition('Progressing', 'False', Reasons.FailedRSCreate, msg));
          this.writeStatus(s, status);
        }
        this.x.events.record(d, 'Warning', Reasons.FailedRSCreate, msg, SOURCE);
        throw err;
      }
    }
    const n = rsReplicas(created);
    if (!alreadyExisted && n > 0) {
      this.x.events.record(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${created.metadata.name} from 0 to ${n}`,
        SOURCE,
      );
    }
    const annotations = { ...(s.d.metadata.annotations ?? {}) };
    let needsUpdate = false;
    if (annotations[REVISION] !== String(newRevision)) {
      annotations[REVISION] = String(newRevision);
      needsUpdate = true;
    }
    const status = structuredClone((s.d.status ?? {}) as Record<string, any>);
    if (!alreadyExisted && hasProgressDeadline(d)) {
      setCondition(
        status,
        this.condition(
          'Progressing',
          'True',
          Reasons.NewRS,
          `Created new replica set "${created.metadata.name}"`,
        ),
      );
      needsUpdate = true;
    }
    if (needsUpdate) this.writeStatus(s, status, annotations);
    return created;
  }

  /** NewRSNewReplicas: how big the new RS may be now. */
  private newRSNewReplicas(d: KubeObject, all: KubeObject[], newRS: KubeObject): number {
    const replicas = desiredReplicas(d);
    if (!isRolling(d)) return replicas;
    const maxTotal = replicas + maxSurge(d);
    const current = sumSpec(all);
    if (current >= maxTotal) return rsReplicas(newRS);
    const up = Math.min(maxTotal - current, replicas - rsReplicas(newRS));
    return rsReplicas(newRS) + up;
  }

  // -------------------------------------------------------------------------------------------------
  // Rolling (rolling.go)

  private rolloutRolling(s: State, rsList: KubeObject[]): void {
    const { newRS, old } = this.getAllReplicaSetsAndSyncRevision(s, rsList, true);
    if (!newRS) return;
    const all = [...old, newRS];
    if (this.reconcileNewReplicaSet(s.d, all, newRS)) {
      this.syncRolloutStatus(s);
      return;
    }
    if (this.reconcileOldReplicaSets(s.d, active(old), newRS)) {
      this.syncRolloutStatus(s);
      return;
    }
    if (deploymentComplete(s.d, s.d.status ?? {})) this.cleanup(s.d, old);
    this.syncRolloutStatus(s);
  }

  private reconcileNewReplicaSet(d: KubeObject, all: KubeObject[], newRS: KubeObject): boolean {
    const replicas = desiredReplicas(d);
    const cur = rsReplicas(newRS);
    if (cur === replicas) return false;
    // "Scaled" means the size changed (an annotation-only update does not count).
    if (cur > replicas) return rsReplicas(this.scaleReplicaSet(newRS, replicas, d)) !== cur;
    const next = this.newRSNewReplicas(d, all, newRS);
    return rsReplicas(this.scaleReplicaSet(newRS, next, d)) !== cur;
  }

  private reconcileOldReplicaSets(d: KubeObject, oldActive: KubeObject[], newRS: KubeObject): boolean {
    const oldCount = sumSpec(oldActive);
    if (oldCount === 0) return false;
    const allCount = oldCount + rsReplicas(newRS);
    const minAvailable = desiredReplicas(d) - maxUnavailable(d);
    // A ReplicaSet whose size was just lowered may still report the pods it is about to delete as
    // available: count at most its size, so a quick resync never scales below minAvailable.
    const availOf = (rs: KubeObject): number => Math.min(statusNum(rs, 'availableReplicas'), rsReplicas(rs));
    const newUnavailable = rsReplicas(newRS) - availOf(newRS);
    const maxScaledDown = allCount - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Unhealthy old replicas first, so they do not block the rollout.
    const olds = [...oldActive].sort(byCreation);
    let cleaned = 0;
    for (let i = 0; i < olds.length; i++) {
      if (cleaned >= maxScaledDown) break;
      const rs = olds[i]!;
      const spec = rsReplicas(rs);
      const avail = availOf(rs);
      if (spec === 0 || avail >= spec) continue;
      const down = Math.min(maxScaledDown - cleaned, spec - avail);
      olds[i] = this.scaleReplicaSet(rs, spec - down, d);
      cleaned += down;
    }
    // Then healthy ones, as far as maxUnavailable allows.
    const availableNow = [...olds, newRS].reduce((n, rs) => n + availOf(rs), 0);
    let scaled = 0;
    if (availableNow > minAvailable) {
      const budget = availableNow - minAvailable;
      for (const rs of olds) {
        if (scaled >= budget) break;
        const spec = rsReplicas(rs);
        if (spec === 0) continue;
        const down = Math.min(spec, budget - scaled);
        this.scaleReplicaSet(rs, spec - down, d);
        scaled += down;
      }
    }
    return cleaned + scaled > 0;
  }

  // -------------------------------------------------------------------------------------------------
  // Recreate (recreate.go)

  private rolloutRecreate(s: State, rsList: KubeObject[]): void {
    let { newRS, old } = this.getAllReplicaSetsAndSyncRevision(s, rsList, false);
    let scaledDown = false;
    for (const rs of active(old)) {
      if (rsReplicas(this.scaleReplicaSet(rs, 0, s.d)) === 0) scaledDown = true;
    }
    if (scaledDown) {
      this.syncRolloutStatus(s);
      return;
    }
    if (this.oldPodsRunning(newRS, old)) {
      this.syncRolloutStatus(s);
      return;
    }
    if (!newRS) {
      ({ newRS, old } = this.getAllReplicaSetsAndSyncRevision(s, this.replicaSetsOf(s.d), true));
      if (!newRS) return;
    }
    if (rsReplicas(newRS) !== desiredReplicas(s.d)) this.scaleReplicaSet(newRS, desiredReplicas(s.d), s.d);
    if (deploymentComplete(s.d, s.d.status ?? {})) this.cleanup(s.d, old);
    this.syncRolloutStatus(s);
  }

  private oldPodsRunning(newRS: KubeObject | undefined, old: KubeObject[]): boolean {
    if (sumStatus(old, 'replicas') > 0) return true;
    for (const rs of old) {
      if (newRS && rs.metadata.uid === newRS.metadata.uid) continue;
      if (this.x.cache.ownedBy('pods', rs.metadata.uid).some(isPodActive)) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------------
  // Paused / scaling (sync.go)

  private checkPausedConditions(s: State): void {
    const d = s.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === Reasons.TimedOut) return;
    const pausedExists = cond?.reason === Reasons.Paused;
    const status = structuredClone((d.status ?? {}) as Record<string, any>);
    if (d.spec?.paused && !pausedExists) {
      setCondition(status, this.condition('Progressing', 'Unknown', Reasons.Paused, 'Deployment is paused'));
    } else if (!d.spec?.paused && pausedExists) {
      setCondition(
        status,
        this.condition('Progressing', 'Unknown', Reasons.Resumed, 'Deployment is resumed'),
      );
    } else return;
    this.writeStatus(s, status);
  }

  private isScalingEvent(s: State, rsList: KubeObject[]): boolean {
    const { newRS, old } = this.getAllReplicaSetsAndSyncRevision(s, rsList, false);
    const all = newRS ? [...old, newRS] : old;
    for (const rs of active(all)) {
      const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
      if (desired === undefined) continue;
      if (Number(desired) !== desiredReplicas(s.d)) return true;
    }
    return false;
  }

  private syncScaleOnly(s: State, rsList: KubeObject[]): void {
    const { newRS, old } = this.getAllReplicaSetsAndSyncRevision(s, rsList, false);
    this.scale(s.d, newRS, old);
    if (s.d.spec?.paused) this.cleanup(s.d, old);
    this.syncDeploymentStatus(s);
  }

  private scale(d: KubeObject, newRS: KubeObject | undefined, old: KubeObject[]): void {
    const replicas = desiredReplicas(d);
    // One active (or, with none active, the newest) RS takes the whole size.
    const all = newRS ? [...old, newRS] : [...old];
    if (all.length === 0) return;
    const act = active(all);
    let only: KubeObject | undefined;
    if (act.length === 0) only = newRS ?? [...old].sort(byCreation).reverse()[0];
    else if (act.length === 1) only = act[0];
    if (only) {
      if (rsReplicas(only) !== replicas) this.scaleReplicaSet(only, replicas, d);
      return;
    }
    // A saturated new RS: the old ones go to zero.
    if (
      newRS &&
      rsReplicas(newRS) === replicas &&
      newRS.metadata.annotations?.[DESIRED_REPLICAS] === String(replicas) &&
      statusNum(newRS, 'availableReplicas') === replicas
    ) {
      for (const rs of active(old)) this.scaleReplicaSet(rs, 0, d);
      return;
    }
    if (!isRolling(d)) return;
    // Proportional scaling of every active RS.
    const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowed - sumSpec(act);
    let op: 'up' | 'down' | undefined;
    const sorted = [...act];
    if (toAdd > 0) {
      op = 'up';
      // Larger first; on equal size, newer first.
      sorted.sort((a, b) => rsReplicas(b) - rsReplicas(a) || byCreation(b, a));
    } else if (toAdd < 0) {
      op = 'down';
      // Larger first; on equal size, older first.
      sorted.sort((a, b) => rsReplicas(b) - rsReplicas(a) || byCreation(a, b));
    }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of sorted) {
      if (toAdd === 0) {
        sizes.set(rs.metadata.name, rsReplicas(rs));
        continue;
      }
      const p = this.proportion(rs, d, toAdd, added);
      sizes.set(rs.metadata.name, rsReplicas(rs) + p);
      added += p;
    }
    sorted.forEach((rs, i) => {
      let size = sizes.get(rs.metadata.name)!;
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + (toAdd - added));
      this.scaleReplicaSet(rs, size, d, op);
    });
  }

  private proportion(rs: KubeObject, d: KubeObject, toAdd: number, added: number): number {
    if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    let fraction: number;
    if (desiredReplicas(d) === 0) fraction = -rsReplicas(rs);
    else {
      const maxNow = desiredReplicas(d) + maxSurge(d);
      let before = Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? 0);
      if (!before) before = statusNum(d, 'replicas');
      fraction = before ? Math.round((rsReplicas(rs) * maxNow) / before) - rsReplicas(rs) : 0;
    }
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  /** revisionHistoryLimit: delete the oldest old RSs with nothing left in them. */
  private cleanup(d: KubeObject, old: KubeObject[]): void {
    const limit = d.spec?.revisionHistoryLimit;
    if (typeof limit !== 'number') return;
    const alive = old.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = alive.length - limit;
    if (diff <= 0) return;
    const sorted = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (let i = 0; i < diff; i++) {
      const rs = sorted[i]!;
      if (statusNum(rs, 'replicas') !== 0 || rsReplicas(rs) !== 0) continue;
      if ((rs.metadata.generation ?? 1) > statusNum(rs, 'observedGeneration')) continue;
      this.x.store.delete('replicasets', rs.metadata.namespace, rs.metadata.name);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Status (sync.go calculateStatus, progress.go)

  private calculateStatus(
    d: KubeObject,
    all: KubeObject[],
    newRS: KubeObject | undefined,
  ): Record<string, any> {
    const available = sumStatus(all, 'availableReplicas');
    const total = sumSpec(all);
    const status: Record<string, any> = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: sumStatus(all, 'replicas'),
      updatedReplicas: newRS ? statusNum(newRS, 'replicas') : 0,
      readyReplicas: sumStatus(all, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    for (const f of [
      'replicas',
      'updatedReplicas',
      'readyReplicas',
      'availableReplicas',
      'unavailableReplicas',
    ]) {
      if (status[f] === 0) delete status[f];
    }
    const conditions = (d.status?.conditions ?? []) as Condition[];
    if (conditions.length) status.conditions = structuredClone(conditions);
    if (typeof d.status?.collisionCount === 'number') status.collisionCount = d.status.collisionCount;
    if (available >= desiredReplicas(d) - maxUnavailable(d)) {
      setCondition(
        status,
        this.condition('Available', 'True', Reasons.MinAvailable, 'Deployment has minimum availability.'),
      );
    } else {
      setCondition(
        status,
        this.condition(
          'Available',
          'False',
          Reasons.MinUnavailable,
          'Deployment does not have minimum availability.',
        ),
      );
    }
    return status;
  }

  /** The current RSs from the cache (after this sync's writes). */
  private currentSets(d: KubeObject): { newRS?: KubeObject; all: KubeObject[] } {
    const rss = this.replicaSetsOf(d);
    const { newRS } = this.findNewAndOld(d, rss);
    return { newRS, all: rss };
  }

  private syncDeploymentStatus(s: State): void {
    const { newRS, all } = this.currentSets(s.d);
    const status = this.calculateStatus(s.d, all, newRS);
    if (canonicalJson(status) !== canonicalJson(s.d.status ?? {})) this.writeStatus(s, status);
  }

  private syncRolloutStatus(s: State): void {
    const d = s.d;
    const { newRS, all } = this.currentSets(d);
    const status = this.calculateStatus(d, all, newRS);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const complete =
      (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === Reasons.NewRSAvailable;
    if (hasProgressDeadline(d) && !complete) {
      const rsName = newRS?.metadata.name;
      if (deploymentComplete(d, status)) {
        const msg = rsName
          ? `ReplicaSet "${rsName}" has successfully progressed.`
          : `Deployment "${d.metadata.name}" has successfully progressed.`;
        setCondition(status, this.condition('Progressing', 'True', Reasons.NewRSAvailable, msg));
      } else if (deploymentProgressing(d, status)) {
        const msg = rsName
          ? `ReplicaSet "${rsName}" is progressing.`
          : `Deployment "${d.metadata.name}" is progressing.`;
        const cond = this.condition('Progressing', 'True', Reasons.RSUpdated, msg);
        if (current?.status === 'True' && current.lastTransitionTime)
          cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
        status.conditions = [...(status.conditions ?? []), cond];
      } else if (this.timedOut(d, current)) {
        const msg = rsName
          ? `ReplicaSet "${rsName}" has timed out progressing.`
          : `Deployment "${d.metadata.name}" has timed out progressing.`;
        setCondition(status, this.condition('Progressing', 'False', Reasons.TimedOut, msg));
      }
    }
    if (canonicalJson(status) !== canonicalJson(d.status ?? {})) this.writeStatus(s, status);
    this.requeueStuck(s.d, status);
  }

  private timedOut(d: KubeObject, cond: Condition | undefined): boolean {
    if (!hasProgressDeadline(d) || !cond) return false;
    if (cond.reason === Reasons.TimedOut) return true;
    if (cond.reason === Reasons.NewRSAvailable) return false;
    const from = timeMs(cond.lastUpdateTime);
    return from + d.spec.progressDeadlineSeconds * 1000 < this.x.clock.nowMs();
  }

  private requeueStuck(d: KubeObject, status: Record<string, any>): void {
    const cond = getCondition(d.status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond) return;
    if (deploymentComplete(d, status) || cond.reason === Reasons.TimedOut) return;
    const after = timeMs(cond.lastUpdateTime) + d.spec.progressDeadlineSeconds * 1000 - this.x.clock.nowMs();
    this.x.queue().addAfter(keyOf(d), Math.max(0, after) + 1);
  }

  private syncStatusOnly(s: State, rsList: KubeObject[]): void {
    this.getAllReplicaSetsAndSyncRevision(s, rsList, false);
    this.syncDeploymentStatus(s);
  }
}
