/**
 * Helpers for tests that drive the store and controllers in-process: a ready-made cluster and waits on
 * store state (driven by the change stream, with a real-time timeout).
 */
import { Clock } from '../clock.js';
import { PodLogs } from '../logs.js';
import { ObjectStore, type Change, type KubeObject, type Resource } from '../store.js';
import { ImageCatalog } from './catalog.js';
import { startControllers, type Controllers } from './index.js';

export interface TestCluster {
  clock: Clock;
  store: ObjectStore;
  logs: PodLogs;
  images: ImageCatalog;
  controllers: Controllers;
  errors: unknown[];
  stop(): void;
}

export function startTestCluster(opts: { timeScale?: number } = {}): TestCluster {
  const clock = new Clock({ timeScale: opts.timeScale ?? 0.001 });
  const store = new ObjectStore({ now: () => clock.now() });
  const logs = new PodLogs({ now: () => clock.now() });
  const images = new ImageCatalog();
  const errors: unknown[] = [];
  const controllers = startControllers({
    store,
    logs,
    clock,
    images,
    onError: (_c, _k, e) => errors.push(e),
  });
  return { clock, store, logs, images, controllers, errors, stop: () => controllers.stop() };
}

/**
 * Resolves with the first value `check` returns that is not undefined/false, evaluated now and after
 * every store change (and every 20 ms); rejects after `timeoutMs` real ms with `what`.
 */
export function waitUntil<T>(
  store: ObjectStore,
  check: () => T | undefined | false,
  what: string,
  timeoutMs = 10000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (v: T | undefined, err?: Error): void => {
      if (done) return;
      done = true;
      off();
      clearInterval(poll);
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(v as T);
    };
    const test = (): void => {
      if (done) return;
      let v: T | undefined | false;
      try {
        v = check();
      } catch (e) {
        finish(undefined, e as Error);
        return;
      }
      if (v !== undefined && v !== false) finish(v);
    };
    // Checks are coalesced: at most one per turn of the event loop, however many changes arrive.
    let queued = false;
    const off = store.on(() => {
      if (queued) return;
      queued = true;
      setImmediate(() => {
        queued = false;
        test();
      });
    });
    const poll = setInterval(test, 20);
    const timer = setTimeout(() => finish(undefined, new Error(`timed out waiting for ${what}`)), timeoutMs);
    test();
  });
}

/** Waits for an object to satisfy `pred`. */
export function waitForObject(
  store: ObjectStore,
  resource: Resource,
  namespace: string,
  name: string,
  pred: (o: KubeObject) => boolean,
  what = `${resource} ${namespace}/${name}`,
  timeoutMs?: number,
): Promise<KubeObject> {
  return waitUntil(
    store,
    () => {
      const o = store.get(resource, namespace, name);
      return o && pred(o) ? o : undefined;
    },
    what,
    timeoutMs,
  );
}

/** Records every change (for asserting on sequences). */
export function recordChanges(
  store: ObjectStore,
  filter?: (c: Change) => boolean,
): { changes: Change[]; stop: () => void } {
  const changes: Change[] = [];
  const stop = store.on((c) => {
    if (!filter || filter(c)) changes.push(c);
  });
  return { changes, stop };
}

/** Every committed version of one object from now on (transient states included). */
export function recordVersions(
  store: ObjectStore,
  resource: Resource,
  namespace: string,
  name: string,
): { versions: KubeObject[]; stop: () => void } {
  const versions: KubeObject[] = [];
  const stop = store.on((c) => {
    if (
      c.resource === resource &&
      c.object.metadata.namespace === namespace &&
      c.object.metadata.name === name
    ) {
      versions.push(c.object);
    }
  });
  return { versions, stop };
}

export function eventsFor(store: ObjectStore, namespace: string, name: string): KubeObject[] {
  return store
    .list('events', namespace)
    .filter((e) => (e.involvedObject as { name?: string } | undefined)?.name === name)
    .sort((a, b) => {
      const x = BigInt(`0x${a.metadata.name.split('.').pop()}`);
      const y = BigInt(`0x${b.metadata.name.split('.').pop()}`);
      return x < y ? -1 : x > y ? 1 : 0;
    });
}
