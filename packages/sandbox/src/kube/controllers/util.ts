/**
 * Pure helpers shared by the controllers: template hashing and naming, intOrString fenceposts,
 * owner references, conditions and semantic equality.
 */
import type { KubeObject, OwnerReference } from '../store.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
/** Deployment annotations that are never copied onto a ReplicaSet (deployment_util.go skipCopyAnnotation). */
export const SKIP_COPY_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

// ---------------------------------------------------------------------------------------------------
// Hashing

/** FNV-1a, 32 bits, over bytes. */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SAFE_DIGITS = '456789bcdf';

/** apimachinery rand.SafeEncodeString for a decimal string: digit d → "456789bcdf"[d]. */
export function safeEncodeDecimal(n: number): string {
  return String(n >>> 0)
    .split('')
    .map((d) => SAFE_DIGITS[Number(d)]!)
    .join('');
}

/**
 * Semantic normal form: nulls, undefined, empty objects and empty arrays are dropped (Go's
 * Semantic.DeepEqual treats nil and empty alike), object keys sorted.
 */
export function normalize(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    return v.map((x) => normalize(x) ?? null);
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalize((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v;
}

export function semanticJson(v: unknown): string {
  return JSON.stringify(normalize(v) ?? null);
}

/**
 * controller.ComputeHash: FNV-32a over the canonical JSON of the pod template, then the collision
 * count as 8 little-endian bytes when set, encoded with the safe alphabet.
 */
export function computeTemplateHash(template: unknown, collisionCount?: number): string {
  const bytes = new TextEncoder().encode(semanticJson(template));
  let h = fnv32a(bytes);
  if (collisionCount !== undefined && collisionCount !== null) {
    const extra = new Uint8Array(8);
    let c = BigInt.asUintN(64, BigInt(collisionCount));
    for (let i = 0; i < 8; i++) {
      extra[i] = Number(c & 0xffn);
      c >>= 8n;
    }
    h = fnv32a(extra, h);
  }
  return safeEncodeDecimal(h);
}

/** Template equality ignoring the pod-template-hash label (deployment_util.go EqualIgnoreHash). */
export function templatesEqualIgnoringHash(a: unknown, b: unknown): boolean {
  return templateForm(a) === templateForm(b);
}

/** The semantic form of a pod template without the pod-template-hash label (compare with ===). */
export function templateForm(t: unknown): string {
  return semanticJson(stripHash(t));
}

function stripHash(t: unknown): unknown {
  if (!t || typeof t !== 'object') return t;
  const copy = structuredClone(t) as {
    metadata?: { labels?: Record<string, string>; creationTimestamp?: unknown };
  };
  if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH];
  if (copy.metadata) delete copy.metadata.creationTimestamp;
  return copy;
}

// ---------------------------------------------------------------------------------------------------
// intOrString

/**
 * intstr.GetScaledValueFromIntOrPercent: an int as is; "N%" scaled by total, rounded up or down.
 * Throws on anything else.
 */
export function scaledValue(v: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return Math.trunc(v);
  const m = /^(\d+)%$/.exec(v.trim());
  if (!m) {
    if (/^\d+$/.test(v.trim())) return Number(v.trim());
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: "${v}"`);
  }
  const pct = Number(m[1]);
  const exact = (pct * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export interface Fenceposts {
  surge: number;
  unavailable: number;
}

/** deployment_util.go ResolveFenceposts: surge rounds up, unavailable down; both 0 → unavailable 1. */
export function resolveFenceposts(
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
  desired: number,
): Fenceposts {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

// ---------------------------------------------------------------------------------------------------
// Objects

export function keyOf(o: { metadata: { namespace?: string; name: string } }): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

export function controllerOf(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function isControlledBy(o: KubeObject, owner: KubeObject): boolean {
  return controllerOf(o)?.uid === owner.metadata.uid;
}

export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function revisionOf(o: KubeObject): number {
  const v = o.metadata.annotations?.[REVISION];
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isInteger(n) ? n : 0;
}

export function timeMs(ts: unknown): number {
  if (typeof ts !== 'string') return 0;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? 0 : t;
}

/** controller.ReplicaSetsByCreationTimestamp (then name); equal timestamps fall back to the revision. */
export function byCreation(a: KubeObject, b: KubeObject): number {
  const d = timeMs(a.metadata.creationTimestamp) - timeMs(b.metadata.creationTimestamp);
  if (d !== 0) return d;
  const r = revisionOf(a) - revisionOf(b);
  if (r !== 0) return r;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

export function rsReplicas(rs: KubeObject): number {
  return typeof rs.spec?.replicas === 'number' ? rs.spec.replicas : 1;
}

export function statusNum(o: KubeObject, field: string): number {
  const v = o.status?.[field];
  return typeof v === 'number' ? v : 0;
}

// ---------------------------------------------------------------------------------------------------
// Conditions

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
}

export function getCondition(
  status: { conditions?: Condition[] } | undefined,
  type: string,
): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * deployment_util.go SetDeploymentCondition: unchanged when status and reason are the same; the
 * transition time is kept when only the reason changes. The condition moves to the end.
 */
export function setCondition(status: { conditions?: Condition[] }, cond: Condition): void {
  const current = getCondition(status, cond.type);
  if (current && current.status === cond.status && current.reason === cond.reason) return;
  const next = { ...cond };
  if (current && current.status === cond.status && current.lastTransitionTime)
    next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

export function removeCondition(status: { conditions?: Condition[] }, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}

/** Drops zero numbers and empty values the way Go's omitempty does for the listed fields. */
export function omitZero(o: Record<string, unknown>, fields: string[]): void {
  for (const f of fields) if (o[f] === 0 || o[f] === undefined) delete o[f];
}

export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
