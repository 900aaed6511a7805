import { backoffDelay, errorMessage, formatDuration, sleep, type Logger } from '@planner-deploy/core';
import { describeTransient, isGone, isTransient, KubeApiError } from './api-error.js';
import type { KubeList, KubeObject, KubeStatus, WatchEventType } from './types.js';
import type { QueryValue, Transport } from './transport.js';

export interface ListWatchOptions<T extends KubeObject> {
  conn: Pick<Transport, 'request' | 'watch'>;
  /** Collection path, e.g. `/apis/apps/v1/namespaces/prod/deployments`. */
  path: string;
  /** labelSelector / fieldSelector. */
  query?: Record<string, QueryValue>;
  /** Called with the full state after every (re)list. */
  onList: (items: T[]) => void;
  /** Called for every ADDED/MODIFIED/DELETED event. */
  onEvent: (type: Exclude<WatchEventType, 'BOOKMARK' | 'ERROR'>, object: T) => void;
  /** Ends the loop (normally: when the caller has its answer). */
  signal: AbortSignal;
  /** Epoch ms: no retry waits past it. */
  deadline: number;
  logger: Logger;
  /** For the log: `deployments in prod`. */
  what: string;
  random?: () => number;
  /**
   * Skip the LIST: WATCH from resourceVersion "0", whose synthetic ADDED events are the current state
   * (one request instead of two). `onList([])` is called first, and again whenever the state restarts
   * (after a 410), so the caller clears what it had. Use it only where "none yet" is not a verdict (pods);
   * a server that refuses such a watch with 410 gets a LIST instead.
   */
  watchFromZero?: boolean;
}

/**
 * client-go's reflector, reduced to what a rollout needs: LIST, then WATCH from the list's resourceVersion;
 * re-watch at once from the last seen RV when the server closes the stream; re-LIST on 410 Gone; retry
 * transient failures (5xx, 429 with Retry-After, resets) with jittered backoff. Returns when `signal` aborts;
 * throws a non-transient error (403, 404) or a transient one that would outlast the deadline.
 */
export async function listWatch<T extends KubeObject>(options: ListWatchOptions<T>): Promise<void> {
  const { conn, signal } = options;
  const random = options.random ?? Math.random;
  let resourceVersion: string | undefined;
  let failures = 0;
  let watchFromZero = options.watchFromZero === true;

  const pause = async (error: unknown): Promise<void> => {
    const retryAfter = error instanceof KubeApiError ? error.retryAfterMs : undefined;
    const delay = retryAfter ?? backoffDelay(failures, 250, 5000, random);
    failures++;
    if (Date.now() + delay >= options.deadline) throw error;
    options.logger.info(
      `Watching ${options.what}: ${describeTransient(error)}; failure ${failures} in a row, retrying in ${formatDuration(delay)}.`,
    );
    await sleep(delay, signal).catch(() => undefined);
  };

  while (!signal.aborted) {
    if (resourceVersion === undefined && watchFromZero) {
      options.onList([]);
      resourceVersion = '0';
    }
    if (resourceVersion === undefined) {
      try {
        const list: KubeList<T> = await conn.request('GET', options.path, {
          query: { ...options.query },
          signal,
        });
        resourceVersion = list.metadata.resourceVersion ?? '0';
        failures = 0;
        options.onList(list.items);
      } catch (error) {
        if (signal.aborted) return;
        if (!isTransient(error)) throw error;
        await pause(error);
        continue;
      }
    }
    try {
      const remaining = Math.max(1, Math.floor((options.deadline - Date.now()) / 1000));
      const timeoutSeconds = Math.min(300 + Math.floor(random() * 300), remaining + 5);
      const events = await conn.watch<T | KubeStatus>(options.path, {
        query: { ...options.query, allowWatchBookmarks: 'true', resourceVersion, timeoutSeconds },
        signal,
        timeoutMs: (timeoutSeconds + 30) * 1000,
      });
      for await (const event of events) {
        if (signal.aborted) return;
        if (event.type === 'ERROR') {
          const status = event.object as KubeStatus;
          throw new KubeApiError(status.code ?? 500, status.message ?? 'watch error', {
            reason: status.reason,
            status,
          });
        }
        const object = event.object as T;
        if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
        failures = 0;
        if (event.type === 'BOOKMARK') continue;
        options.onEvent(event.type, object);
      }
      // A clean close (timeoutSeconds, a proxy, a restart): watch again from where we were.
      if (!signal.aborted) {
        options.logger.info(
          `Watching ${options.what}: the server closed the watch; reconnecting from resourceVersion ${resourceVersion}.`,
        );
      }
    } catch (error) {
      if (signal.aborted) return;
      if (isGone(error)) {
        if (resourceVersion === '0') watchFromZero = false;
        options.logger.info(
          `Watching ${options.what}: watch expired (HTTP 410 Gone: ${errorMessage(error)}); listing again.`,
        );
        resourceVersion = undefined;
        // A server that answers 410 to every watch must not turn this into a busy loop.
        if (failures > 0) await pause(error);
        else failures++;
        continue;
      }
      if (!isTransient(error)) throw error;
      await pause(error);
    }
  }
}
