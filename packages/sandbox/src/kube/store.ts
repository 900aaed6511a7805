/**
 * The sandbox's etcd + registry: objects by resource, one global resourceVersion counter, defaulting,
 * validation, generation rules, garbage collection of dependents, and a bounded change history that
 * watches replay from. The HTTP server and the controllers both work on this store.
 */
import { randomUUID } from 'node:crypto';
import { applyDefaults } from './defaults.js';
import { RESOURCES, qualifiedKind, qualifiedName, apiVersionOf } from './resources.js';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from './selectors.js';
import { validateObject, type Cause } from './validation.js';

export type Resource =
  'namespaces' | 'deployments' | 'replicasets' | 'pods' | 'jobs' | 'events' | 'nodes' | 'configmaps';

/**
 * A mutating admission hook: changes an object being created after defaulting and before validation, as a
 * mutating webhook does (EKS's Fargate webhook sets a selected pod's scheduler and profile annotation).
 */
export type AdmissionHook = (resource: Resource, obj: KubeObject) => void;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  generateName?: string;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: any;
  status?: any;
  [k: string]: unknown;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  resource: Resource;
  type: ChangeType;
  object: KubeObject;
}

/** Extra Status fields: `details` and, for 422, `causes`. */
export interface StoreErrorDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: Cause[];
  retryAfterSeconds?: number;
}

/** An API error: 400 BadRequest, 404 NotFound, 409 AlreadyExists/Conflict, 410 Expired, 422 Invalid. */
export class StoreError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StoreErrorDetails,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface StoreOptions {
  /** Clock for creationTimestamp/deletionTimestamp (the sandbox's scaled clock). Default: real time. */
  now?: () => Date;
  /** How many changes watches can replay; an older resourceVersion gets 410 Expired. Default 20000. */
  historyWindow?: number;
}

export interface WriteOptions {
  /** `?dryRun=All`: run defaulting and validation, return the result, persist nothing. */
  dryRun?: boolean;
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** `2026-11-27T17:56:37Z`: metav1.Time marshals at second precision. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}

/** JSON with object keys sorted: equality and hashing independent of key order. */
export function canonicalJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const entries = Object.keys(v)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** Deep copy of JSON data (objects, arrays, primitives); several times faster than structuredClone. */
function clone<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x: unknown) => clone(x)) as T;
  const out: Record<string, unknown> = {};
  for (const k in v) {
    if (Object.prototype.hasOwnProperty.call(v, k)) out[k] = clone((v as Record<string, unknown>)[k]);
  }
  return out as T;
}

/** Deep equality of JSON data, where a key holding undefined counts as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let na = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    na++;
    if (!jsonEqual(ao[k], bo[k])) return false;
  }
  let nb = 0;
  for (const k in bo) if (bo[k] !== undefined) nb++;
  return na === nb;
}

interface HistoryEntry {
  rv: number;
  change: Change;
}

export class ObjectStore {
  private readonly objects = new Map<Resource, Map<string, KubeObject>>();
  private readonly listeners = new Map<(change: Change) => void, { readOnly: boolean }>();
  private readonly history: HistoryEntry[] = [];
  private readonly historyWindow: number;
  private readonly now: () => Date;
  private rv = 0;
  /** Highest RV dropped from the history: watches from an RV below it get 410. */
  private trimmedThrough = 0;
  private readonly pending: Change[] = [];
  private emitting = false;
  private readonly admission: AdmissionHook[] = [];

  constructor(options: StoreOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.historyWindow = options.historyWindow ?? 20000;
    for (const r of Object.keys(RESOURCES) as Resource[]) this.objects.set(r, new Map());
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.create('namespaces', { metadata: { name: ns } });
    }
  }

  /** Adds a mutating admission hook for creates; returns its removal. */
  addAdmission(hook: AdmissionHook): () => void {
    this.admission.push(hook);
    return () => {
      const i = this.admission.indexOf(hook);
      if (i >= 0) this.admission.splice(i, 1);
    };
  }

  currentResourceVersion(): string {
    return String(this.rv);
  }

  get(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.bucket(resource).get(this.key(resource, namespace, name));
    return o ? clone(o) : undefined;
  }

  list(
    resource: Resource,
    namespace?: string,
    opts: { labelSelector?: string; fieldSelector?: string } = {},
  ): KubeObject[] {
    let labels, fields;
    try {
      labels = parseLabelSelector(opts.labelSelector);
      fields = parseFieldSelector(opts.fieldSelector);
    } catch (e) {
      if (e instanceof SelectorError) throw new StoreError(400, 'BadRequest', e.message);
      throw e;
    }
    const out: KubeObject[] = [];
    const keys = [...this.bucket(resource).keys()].sort();
    for (const k of keys) {
      const o = this.bucket(resource).get(k)!;
      if (namespace && RESOURCES[resource].namespaced && o.metadata.namespace !== namespace) continue;
      if (!matchesLabels(labels, o.metadata.labels)) continue;
      if (!matchesFields(fields, o)) continue;
      out.push(clone(o));
    }
    return out;
  }

  create(
    resource: Resource,
    obj: Omit<Partial<KubeObject>, 'metadata'> & { metadata: Partial<ObjectMeta> },
    opts: WriteOptions = {},
  ): KubeObject {
    const info = RESOURCES[resource];
    const o = clone(obj) as KubeObject;
    o.apiVersion = apiVersionOf(info);
    o.kind = info.kind;
    const meta = o.metadata;
    if (!info.namespaced) delete meta.namespace;
    else meta.namespace ||= 'default';
    if (!meta.name && meta.generateName) {
      for (let i = 0; i < 20; i++) {
        const candidate = `${meta.generateName}${randomSuffix()}`;
        if (!this.bucket(resource).has(this.key(resource, meta.namespace, candidate))) {
          meta.name = candidate;
          break;
        }
      }
    }
    if (meta.name && this.bucket(resource).has(this.key(resource, meta.namespace, meta.name))) {
      throw new StoreError(409, 'AlreadyExists', `${qualifiedName(info)} "${meta.name}" already exists`, {
        name: meta.name,
        group: info.group,
        kind: info.resource,
      });
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.now());
    delete meta.deletionTimestamp;
    delete (meta as Partial<ObjectMeta>).resourceVersion;
    if (resource === 'deployments' || resource === 'replicasets' || resource === 'jobs') meta.generation = 1;
    else delete meta.generation;
    applyDefaults(resource, o);
    for (const hook of this.admission) hook(resource, o);
    this.validate(resource, o);
    if (opts.dryRun) return clone(o);
    return this.commit(resource, 'ADDED', o);
  }

  update(
    resource: Resource,
    obj: KubeObject,
    opts: { subresource?: 'status' } & WriteOptions = {},
  ): KubeObject {
    const info = RESOURCES[resource];
    const ns = info.namespaced ? obj.metadata?.namespace || 'default' : undefined;
    const name = obj.metadata?.name;
    const stored = this.bucket(resource).get(this.key(resource, ns, name));
    if (!stored) throw this.notFound(resource, name);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== stored.metadata.resourceVersion) {
      throw this.conflict(resource, name);
    }
    return this.write(resource, stored, clone(obj), opts);
  }

  mutate(
    resource: Resource,
    namespace: string | undefined,
    name: string,
    fn: (obj: KubeObject) => void,
    opts: { subresource?: 'status' } & WriteOptions = {},
  ): KubeObject | undefined {
    const stored = this.bucket(resource).get(this.key(resource, namespace, name));
    if (!stored) return undefined;
    const draft = clone(stored);
    fn(draft);
    return this.write(resource, stored, draft, opts);
  }

  delete(
    resource: Resource,
    namespace: string | undefined,
    name: string,
    opts: WriteOptions = {},
  ): KubeObject | undefined {
    const k = this.key(resource, namespace, name);
    const stored = this.bucket(resource).get(k);
    if (!stored) return undefined;
    if (opts.dryRun) return clone(stored);
    this.bucket(resource).delete(k);
    const gone = clone(stored);
    gone.metadata.deletionTimestamp ??= rfc3339(this.now());
    const result = this.commit(resource, 'DELETED', gone, false);
    if (resource === 'namespaces') {
      for (const r of Object.keys(RESOURCES) as Resource[]) {
        if (!RESOURCES[r].namespaced) continue;
        for (const o of [...this.bucket(r).values()]) {
          if (o.metadata.namespace === name) this.delete(r, name, o.metadata.name);
        }
      }
    } else {
      this.collectDependents(stored.metadata.uid);
    }
    return result;
  }

  /**
   * Subscribes to every committed change. Each listener gets its own copy of the object, unless it
   * promises not to modify it (`readOnly`), then it shares the stored history snapshot (cheaper).
   */
  on(listener: (change: Change) => void, opts: { readOnly?: boolean } = {}): () => void {
    this.listeners.set(listener, { readOnly: opts.readOnly ?? false });
    return () => this.listeners.delete(listener);
  }

  /**
   * The committed changes with resourceVersion > `since`, oldest first, for watch replay.
   * Throws StoreError 410 Expired when some of them have left the history window.
   */
  changesSince(since: number): Change[] {
    if (since < this.trimmedThrough) {
      throw new StoreError(410, 'Expired', `too old resource version: ${since} (${this.trimmedThrough + 1})`);
    }
    // The history is sorted by RV: binary search for the first entry after `since`.
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.rv <= since) lo = mid + 1;
      else hi = mid;
    }
    return this.history
      .slice(lo)
      .map((h) => ({ resource: h.change.resource, type: h.change.type, object: clone(h.change.object) }));
  }

  /** Oldest resourceVersion a watch can still start from. */
  oldestResourceVersion(): string {
    return String(this.trimmedThrough);
  }

  private write(
    resource: Resource,
    stored: KubeObject,
    next: KubeObject,
    opts: { subresource?: 'status' } & WriteOptions,
  ): KubeObject {
    const info = RESOURCES[resource];
    let o: KubeObject;
    if (opts.subresource === 'status') {
      // Status strategy: only status (and annotations) change; spec and labels stay as stored.
      o = clone(stored);
      o.status = next.status;
      if (next.metadata?.annotations !== undefined) o.metadata.annotations = next.metadata.annotations;
      else delete o.metadata.annotations;
      if (o.metadata.annotations && Object.keys(o.metadata.annotations).length === 0)
        delete o.metadata.annotations;
    } else {
      o = next;
      o.metadata ??= {} as ObjectMeta;
    }
    o.apiVersion = apiVersionOf(info);
    o.kind = info.kind;
    const m = o.metadata;
    m.name = stored.metadata.name;
    if (info.namespaced) m.namespace = stored.metadata.namespace;
    else delete m.namespace;
    m.uid = stored.metadata.uid;
    m.creationTimestamp = stored.metadata.creationTimestamp;
    if (stored.metadata.deletionTimestamp) m.deletionTimestamp = stored.metadata.deletionTimestamp;
    if (stored.metadata.generateName !== undefined) m.generateName = stored.metadata.generateName;
    m.resourceVersion = stored.metadata.resourceVersion;
    if (stored.metadata.generation !== undefined) m.generation = stored.metadata.generation;
    else delete m.generation;
    for (const f of ['labels', 'annotations'] as const) {
      if (m[f] && Object.keys(m[f]).length === 0) delete m[f];
    }
    if (opts.subresource !== 'status') {
      applyDefaults(resource, o);
      this.validate(resource, o, stored);
      if (m.generation !== undefined) {
        const specChanged = !jsonEqual(o.spec, stored.spec);
        const annotationsChanged =
          resource === 'deployments' && !jsonEqual(m.annotations ?? {}, stored.metadata.annotations ?? {});
        if (specChanged || annotationsChanged) m.generation = (stored.metadata.generation ?? 0) + 1;
      }
    }
    if (jsonEqual(o, stored)) return clone(stored);
    if (opts.dryRun) return clone(o);
    return this.commit(resource, 'MODIFIED', o);
  }

  private validate(resource: Resource, o: KubeObject, old?: KubeObject): void {
    const causes = validateObject(resource, o, old);
    if (causes.length === 0) return;
    const info = RESOURCES[resource];
    const text = causes.map((c) => `${c.field}: ${c.message}`);
    const joined = text.length === 1 ? text[0]! : `[${text.join(', ')}]`;
    throw new StoreError(
      422,
      'Invalid',
      `${qualifiedKind(info)} "${o.metadata.name ?? ''}" is invalid: ${joined}`,
      {
        name: o.metadata.name,
        group: info.group,
        kind: info.kind,
        causes,
      },
    );
  }

  private commit(resource: Resource, type: ChangeType, o: KubeObject, store = true): KubeObject {
    this.rv += 1;
    o.metadata.resourceVersion = String(this.rv);
    if (store) this.bucket(resource).set(this.key(resource, o.metadata.namespace, o.metadata.name), o);
    const snapshot = clone(o);
    this.history.push({ rv: this.rv, change: { resource, type, object: snapshot } });
    if (this.history.length > this.historyWindow) {
      const dropped = this.history.splice(0, this.history.length - this.historyWindow);
      this.trimmedThrough = dropped[dropped.length - 1]!.rv;
    }
    this.emit({ resource, type, object: snapshot });
    return clone(o);
  }

  /** Listeners run synchronously; a change made inside a listener is delivered after the current one. */
  private emit(change: Change): void {
    this.pending.push(change);
    if (this.emitting) return;
    this.emitting = true;
    try {
      while (this.pending.length > 0) {
        const c = this.pending.shift()!;
        for (const [l, { readOnly }] of [...this.listeners]) {
          try {
            l(readOnly ? c : { resource: c.resource, type: c.type, object: clone(c.object) });
          } catch (e) {
            console.error('sandbox store listener failed:', e);
          }
        }
      }
    } finally {
      this.emitting = false;
    }
  }

  private collectDependents(ownerUid: string): void {
    for (const r of Object.keys(RESOURCES) as Resource[]) {
      for (const o of [...this.bucket(r).values()]) {
        if (o.metadata.ownerReferences?.some((ref) => ref.uid === ownerUid)) {
          this.delete(r, o.metadata.namespace, o.metadata.name);
        }
      }
    }
  }

  private bucket(resource: Resource): Map<string, KubeObject> {
    const b = this.objects.get(resource);
    if (!b)
      throw new StoreError(
        404,
        'NotFound',
        `the server could not find the requested resource (${String(resource)})`,
      );
    return b;
  }

  private key(resource: Resource, namespace: string | undefined, name: string): string {
    return RESOURCES[resource].namespaced ? `${namespace || 'default'}/${name}` : name;
  }

  notFound(resource: Resource, name: string): StoreError {
    const info = RESOURCES[resource];
    return new StoreError(404, 'NotFound', `${qualifiedName(info)} "${name}" not found`, {
      name,
      group: info.group,
      kind: info.resource,
    });
  }

  conflict(resource: Resource, name: string): StoreError {
    const info = RESOURCES[resource];
    return new StoreError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedName(info)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: info.group, kind: info.resource },
    );
  }
}
