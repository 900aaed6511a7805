/**
 * WATCH streams (kubernetes-api.md §5): replay from a resourceVersion or synthetic ADDED events for
 * `resourceVersion=0`, then live changes; BOOKMARK with allowWatchBookmarks; 410 Expired as an ERROR
 * event; closes after timeoutSeconds. Objects leaving or entering a selector become DELETED/ADDED.
 */
import type { ServerResponse } from 'node:http';
import type { Faults } from './faults.js';
import { RESOURCES, apiVersionOf } from './resources.js';
import { matchesFields, matchesLabels, type FieldRequirement, type LabelRequirement } from './selectors.js';
import { StoreError, type Change, type KubeObject, type ObjectStore, type Resource } from './store.js';
import { statusBody } from './http-util.js';
import { toTable } from './tables.js';

export interface WatchRequest {
  resource: Resource;
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  resourceVersion?: string;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number;
  table: boolean;
}

/**
 * One store subscription shared by all watch streams of a server: each change is copied once and each
 * event line serialized once, however many watches receive it. Watches only read the objects.
 */
export class ChangeHub {
  private readonly listeners = new Set<(change: Change, line: (type: string) => string) => void>();
  private readonly off: () => void;

  constructor(store: ObjectStore) {
    this.off = store.on(
      (change) => {
        if (this.listeners.size === 0) return;
        const lines = new Map<string, string>();
        const line = (type: string): string => {
          let l = lines.get(type);
          if (l === undefined) {
            l = `${JSON.stringify({ type, object: change.object })}\n`;
            lines.set(type, l);
          }
          return l;
        };
        for (const l of [...this.listeners]) l(change, line);
      },
      { readOnly: true },
    );
  }

  on(listener: (change: Change, line: (type: string) => string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.off();
    this.listeners.clear();
  }
}

export interface WatchContext {
  store: ObjectStore;
  hub: ChangeHub;
  faults: Faults;
  now: () => Date;
  bookmarkIntervalMs: number;
  /** Open streams, so stop() can end them. */
  streams: Set<ServerResponse>;
}

export function serveWatch(ctx: WatchContext, w: WatchRequest, res: ServerResponse): void {
  const { store } = ctx;
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  ctx.streams.add(res);

  let lastSentRv = 0;
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  const cleanups: (() => void)[] = [];

  const finish = (): void => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t);
    for (const c of cleanups) c();
    ctx.streams.delete(res);
    if (!res.writableEnded) res.end();
  };
  res.on('close', finish);

  const write = (type: string, object: unknown): void => {
    if (closed) return;
    res.write(`${JSON.stringify({ type, object })}\n`);
  };

  const sendObject = (
    type: 'ADDED' | 'MODIFIED' | 'DELETED',
    o: KubeObject,
    line?: (type: string) => string,
  ): void => {
    lastSentRv = Math.max(lastSentRv, Number(o.metadata.resourceVersion) || 0);
    if (w.table) write(type, toTable(w.resource, [o], { now: ctx.now(), includeObject: 'Object' }));
    else if (line && !closed) res.write(line(type));
    else write(type, o);
  };

  const requestedRv = w.resourceVersion ?? '';
  if (ctx.faults.takeExpiredWatch(w.resource)) {
    write(
      'ERROR',
      statusBody(
        410,
        `too old resource version: ${requestedRv || 0} (${store.currentResourceVersion()})`,
        'Expired',
      ),
    );
    finish();
    return;
  }

  const inView = new Set<string>();
  const matches = (o: KubeObject): boolean =>
    (!w.namespace || !RESOURCES[w.resource].namespaced || o.metadata.namespace === w.namespace) &&
    matchesLabels(w.labels, o.metadata.labels) &&
    matchesFields(w.fields, o);

  const deliver = (c: Change, line?: (type: string) => string): void => {
    if (c.resource !== w.resource) return;
    const o = c.object;
    const uid = o.metadata.uid;
    const ok = matches(o);
    if (c.type === 'DELETED') {
      if (ok || inView.has(uid)) sendObject('DELETED', o, line);
      inView.delete(uid);
      return;
    }
    if (ok) {
      sendObject(c.type === 'ADDED' || !inView.has(uid) ? 'ADDED' : 'MODIFIED', o, line);
      inView.add(uid);
    } else if (inView.has(uid)) {
      sendObject('DELETED', o, line);
      inView.delete(uid);
    }
  };

  // Everything below runs in one tick: no change can slip between the snapshot/replay and the subscription.
  if (requestedRv === '' || requestedRv === '0') {
    for (const o of store.list(w.resource, w.namespace)) {
      if (!matches(o)) continue;
      inView.add(o.metadata.uid);
      sendObject('ADDED', o);
    }
    lastSentRv = Math.max(lastSentRv, Number(store.currentResourceVersion()));
  } else {
    const since = Number(requestedRv);
    if (!Number.isFinite(since) || !/^\d+$/.test(requestedRv)) {
      write('ERROR', statusBody(400, `invalid resource version: ${requestedRv}`, 'BadRequest'));
      finish();
      return;
    }
    let replay: Change[];
    try {
      replay = store.changesSince(since);
    } catch (e) {
      if (e instanceof StoreError && e.code === 410) {
        write('ERROR', statusBody(410, e.message, 'Expired'));
        finish();
        return;
      }
      throw e;
    }
    // Objects that currently match and were not created after `since` were in view at `since`.
    const createdAfter = new Set(replay.filter((c) => c.type === 'ADDED').map((c) => c.object.metadata.uid));
    for (const o of store.list(w.resource, w.namespace)) {
      if (matches(o) && !createdAfter.has(o.metadata.uid)) inView.add(o.metadata.uid);
    }
    for (const c of replay) {
      if (c.resource === w.resource && c.type === 'MODIFIED' && !createdAfter.has(c.object.metadata.uid)) {
        // An object modified since `since` that matched then: approximate by "matches in any replayed version".
        if (matches(c.object)) inView.add(c.object.metadata.uid);
      }
    }
    lastSentRv = since;
    for (const c of replay) deliver(c);
  }
  cleanups.push(ctx.hub.on(deliver));

  if (w.allowWatchBookmarks && !w.table) {
    const kind = RESOURCES[w.resource].kind;
    const apiVersion = apiVersionOf(RESOURCES[w.resource]);
    const bookmark = (): void => {
      const rv = Number(store.currentResourceVersion());
      if (rv <= lastSentRv) return;
      lastSentRv = rv;
      write('BOOKMARK', { kind, apiVersion, metadata: { resourceVersion: String(rv) } });
    };
    timers.push(setInterval(bookmark, ctx.bookmarkIntervalMs).unref()); // clearTimeout clears intervals too
    if (w.timeoutSeconds && w.timeoutSeconds > 0) {
      timers.push(
        setTimeout(() => {
          bookmark();
          finish();
        }, w.timeoutSeconds * 1000).unref(),
      );
    }
  } else if (w.timeoutSeconds && w.timeoutSeconds > 0) {
    timers.push(setTimeout(finish, w.timeoutSeconds * 1000).unref());
  }
  const cut = ctx.faults.watchCutSeconds();
  if (cut) {
    timers.push(
      setTimeout(() => {
        ctx.faults.noteWatchCut();
        finish();
      }, cut * 1000).unref(),
    );
  }
}
