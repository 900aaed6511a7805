/**
 * Controller plumbing: an informer-like cache fed by the store's change stream (so syncs read without
 * deep-copying the store), per-controller work queues that coalesce changes to the same key, and an
 * event recorder that aggregates repeated events the way client-go's EventCorrelator does (count,
 * lastTimestamp).
 */
import type { Clock, ClockHandle } from '../clock.js';
import {
  rfc3339,
  StoreError,
  type Change,
  type KubeObject,
  type ObjectStore,
  type Resource,
} from '../store.js';
import { keyOf } from './util.js';

const WATCHED: Resource[] = ['deployments', 'replicasets', 'pods', 'jobs'];

export class Cache {
  private readonly objects = new Map<Resource, Map<string, KubeObject>>();
  /** resource → controller-owner uid → keys. */
  private readonly owned = new Map<Resource, Map<string, Set<string>>>();

  constructor(store: ObjectStore) {
    for (const r of WATCHED) {
      this.objects.set(r, new Map());
      this.owned.set(r, new Map());
      for (const o of store.list(r)) this.put(r, o);
    }
  }

  apply(change: Change): void {
    if (!this.objects.has(change.resource)) return;
    if (change.type === 'DELETED') this.remove(change.resource, change.object);
    else this.put(change.resource, change.object);
  }

  get(resource: Resource, key: string): KubeObject | undefined {
    return this.objects.get(resource)?.get(key);
  }

  list(resource: Resource, namespace?: string): KubeObject[] {
    const all = [...(this.objects.get(resource)?.values() ?? [])];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** Objects whose controller ownerReference has this uid. */
  ownedBy(resource: Resource, ownerUid: string): KubeObject[] {
    const keys = this.owned.get(resource)?.get(ownerUid);
    if (!keys) return [];
    const out: KubeObject[] = [];
    for (const k of keys) {
      const o = this.objects.get(resource)?.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  private put(resource: Resource, o: KubeObject): void {
    const k = keyOf(o);
    const prev = this.objects.get(resource)!.get(k);
    if (prev) this.unindex(resource, prev);
    this.objects.get(resource)!.set(k, o);
    const owner = o.metadata.ownerReferences?.find((r) => r.controller);
    if (owner) {
      const idx = this.owned.get(resource)!;
      let set = idx.get(owner.uid);
      if (!set) idx.set(owner.uid, (set = new Set()));
      set.add(k);
    }
  }

  private remove(resource: Resource, o: KubeObject): void {
    const k = keyOf(o);
    const prev = this.objects.get(resource)!.get(k);
    if (prev && prev.metadata.uid === o.metadata.uid) {
      this.unindex(resource, prev);
      this.objects.get(resource)!.delete(k);
    }
  }

  private unindex(resource: Resource, o: KubeObject): void {
    const owner = o.metadata.ownerReferences?.find((r) => r.controller);
    if (!owner) return;
    const idx = this.owned.get(resource)!;
    const set = idx.get(owner.uid);
    if (!set) return;
    set.delete(keyOf(o));
    if (set.size === 0) idx.delete(owner.uid);
  }
}

/** Real ms a queue or runner works per turn of the event loop before it yields (keeps the loop responsive). */
export const SLICE_MS = 2;

/**
 * Runs tasks in FIFO order on later turns of the event loop, at most SLICE_MS per turn, so that a burst
 * (hundreds of pods changing at the same simulated instant) never blocks the loop for long.
 */
export class TaskRunner {
  private tasks: (() => void)[] = [];
  private head = 0;
  private scheduled = false;
  private stopped = false;

  constructor(private readonly onError?: (err: unknown) => void) {}

  push(fn: () => void): void {
    if (this.stopped) return;
    this.tasks.push(fn);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.run());
    }
  }

  stop(): void {
    this.stopped = true;
    this.tasks = [];
    this.head = 0;
  }

  private run(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const deadline = performance.now() + SLICE_MS;
    do {
      const fn = this.tasks[this.head++];
      if (!fn) break;
      try {
        fn();
      } catch (err) {
        this.onError?.(err);
      }
    } while (this.head < this.tasks.length && performance.now() < deadline);
    if (this.head >= this.tasks.length) {
      this.tasks = [];
      this.head = 0;
    } else {
      if (this.head > 1024) {
        this.tasks = this.tasks.slice(this.head);
        this.head = 0;
      }
      this.scheduled = true;
      setImmediate(() => this.run());
    }
  }
}

export interface QueueOptions {
  clock: Clock;
  /** Real ms of syncing per turn of the event loop before yielding (default SLICE_MS). */
  sliceMs?: number;
  onError?: (key: string, err: unknown) => void;
}

/**
 * A work queue: `add` marks a key dirty; dirty keys are synced on a later turn of the event loop, each
 * once however many changes arrived. `addAfter` re-adds a key after simulated time (deadlines).
 * A sync that throws is retried with back-off (simulated 100 ms doubling to 10 s).
 */
export class WorkQueue {
  private readonly dirty = new Set<string>();
  private scheduled = false;
  private stopped = false;
  private readonly timers = new Map<string, { at: number; handle: ClockHandle }>();
  private readonly failures = new Map<string, number>();
  private readonly sliceMs: number;

  constructor(
    private readonly sync: (key: string) => void,
    private readonly opts: QueueOptions,
  ) {
    this.sliceMs = opts.sliceMs ?? SLICE_MS;
  }

  add(key: string): void {
    if (this.stopped) return;
    this.dirty.add(key);
    this.schedule();
  }

  /** Syncs `key` after `simulatedMs`; an earlier pending timer for the key wins. */
  addAfter(key: string, simulatedMs: number): void {
    if (this.stopped) return;
    const at = this.opts.clock.nowMs() + simulatedMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.opts.clock.clearTimeout(existing.handle);
    const handle = this.opts.clock.setTimeout(
      () => {
        this.timers.delete(key);
        this.add(key);
      },
      Math.max(0, simulatedMs),
    );
    this.timers.set(key, { at, handle });
  }

  forget(key: string): void {
    const t = this.timers.get(key);
    if (t) this.opts.clock.clearTimeout(t.handle);
    this.timers.delete(key);
    this.failures.delete(key);
  }

  stop(): void {
    this.stopped = true;
    this.dirty.clear();
    for (const t of this.timers.values()) this.opts.clock.clearTimeout(t.handle);
    this.timers.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const deadline = performance.now() + this.sliceMs;
    let first = true;
    while (this.dirty.size > 0 && (first || performance.now() < deadline)) {
      first = false;
      const key = this.dirty.values().next().value as string;
      this.dirty.delete(key);
      try {
        this.sync(key);
        this.failures.delete(key);
      } catch (err) {
        const count = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, count);
        this.opts.onError?.(key, err);
        const conflict = err instanceof StoreError && err.code === 409;
        this.addAfter(key, Math.min(conflict ? 1000 : 10000, (conflict ? 10 : 100) * 2 ** (count - 1)));
      }
    }
    if (this.dirty.size > 0) this.schedule();
  }
}

export interface EventSource {
  component: string;
  host?: string;
}

interface AggregatedEvent {
  name: string;
  namespace: string;
}

/** client-go's EventSourceObjectSpamFilter: a burst of 25 events per source and object, then 1 per 5 min. */
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 300_000;

/**
 * Records core/v1 Events in the store, aggregating identical ones (count, lastTimestamp) and dropping
 * what client-go's spam filter drops.
 */
export class EventRecorder {
  private readonly seen = new Map<string, AggregatedEvent>();
  /** Spam-filter token buckets: object uid → source → bucket. */
  private readonly buckets = new Map<string, Map<string, { tokens: number; at: number }>>();
  private readonly byUid = new Map<string, string[]>();
  private seq = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
  ) {}

  record(
    obj: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: EventSource,
    fieldPath?: string,
  ): void {
    const ns = obj.metadata.namespace ?? 'default';
    if (!this.allow(obj.metadata.uid, `${source.component}/${source.host ?? ''}`)) return;
    const aggKey = [obj.metadata.uid, fieldPath ?? '', type, reason, message, source.component].join(
      '\u0000',
    );
    const now = rfc3339(this.clock.now());
    const prior = this.seen.get(aggKey);
    if (prior) {
      const updated = this.store.mutate('events', prior.namespace, prior.name, (e) => {
        e.count = ((e.count as number | undefined) ?? 1) + 1;
        e.lastTimestamp = now;
      });
      if (updated) return;
      this.seen.delete(aggKey);
    }
    const nanos = BigInt(Math.floor(this.clock.nowMs())) * 1000000n + BigInt(this.seq++ % 1000000);
    const name = `${obj.metadata.name}.${nanos.toString(16)}`;
    const involvedObject: Record<string, unknown> = {
      kind: obj.kind,
      namespace: ns,
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: obj.metadata.resourceVersion,
    };
    if (fieldPath) involvedObject.fieldPath = fieldPath;
    try {
      this.store.create('events', {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: ns },
        involvedObject,
        reason,
        message,
        source: source.host
          ? { component: source.component, host: source.host }
          : { component: source.component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: source.component,
        reportingInstance: source.host ?? '',
      });
      this.seen.set(aggKey, { name, namespace: ns });
      const keys = this.byUid.get(obj.metadata.uid);
      if (keys) keys.push(aggKey);
      else this.byUid.set(obj.metadata.uid, [aggKey]);
    } catch {
      // Events are best effort (e.g. the namespace is gone).
    }
  }

  private allow(uid: string, source: string): boolean {
    const now = this.clock.nowMs();
    let perObject = this.buckets.get(uid);
    if (!perObject) this.buckets.set(uid, (perObject = new Map()));
    let b = perObject.get(source);
    if (!b) {
      b = { tokens: SPAM_BURST, at: now };
      perObject.set(source, b);
    }
    const refill = Math.floor((now - b.at) / SPAM_REFILL_MS);
    if (refill > 0) {
      b.tokens = Math.min(SPAM_BURST, b.tokens + refill);
      b.at += refill * SPAM_REFILL_MS;
    }
    if (b.tokens <= 0) return false;
    b.tokens--;
    return true;
  }

  /** Forgets aggregation state of a deleted object. */
  forget(uid: string): void {
    this.buckets.delete(uid);
    for (const k of this.byUid.get(uid) ?? []) this.seen.delete(k);
    this.byUid.delete(uid);
  }
}
