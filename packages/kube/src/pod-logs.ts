import { backoffDelay, errorMessage, formatDuration, sleep, type Logger } from '@planner-deploy/core';
import { describeTransient, isNotFound, isTransient, KubeApiError } from './api-error.js';
import type { Transport } from './transport.js';
import type { Pod } from './types.js';

/** `2026-01-01T00:00:00.5Z` → `2026-01-01T00:00:00.500000000Z`, so timestamps compare as strings. */
export function normalizeTimestamp(time: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(time);
  if (!match) return time;
  const [, seconds, fraction = '', zone] = match;
  if (zone !== 'Z') {
    const ms = Date.parse(time);
    if (Number.isNaN(ms)) return time;
    return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}.${fraction.padEnd(9, '0')}Z`;
  }
  return `${seconds}.${fraction.padEnd(9, '0')}Z`;
}

/** Splits a `timestamps=true` log line into its RFC 3339 time and the text. */
export function splitTimestamp(line: string): { time?: string; text: string } {
  const space = line.indexOf(' ');
  const head = space < 0 ? line : line.slice(0, space);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(head)) return { text: line };
  return { time: normalizeTimestamp(head), text: space < 0 ? '' : line.slice(space + 1) };
}

export interface FollowLogsOptions {
  conn: Pick<Transport, 'lines' | 'request'>;
  namespace: string;
  pod: string;
  container: string;
  /** Every new line, once. */
  onLine: (line: string) => void;
  /** Ends the follow (the caller's run is over). */
  signal: AbortSignal;
  logger?: Logger | undefined;
  /** Called before each attempt; resolves when it is worth trying again (e.g. the pod changed). */
  waitForChange?: (() => Promise<void>) | undefined;
}

/**
 * Follows a container's log like `kubectl logs -f`, but survives what kubectl does not: a container still
 * waiting to start (retried, not an error), a cut stream (followed again from the last timestamp, lines not
 * repeated) and a restart (the new run's lines follow). Returns when the container has terminated and its
 * stream has ended, the pod is gone, or the signal aborts.
 */
export async function followContainerLogs(options: FollowLogsOptions): Promise<void> {
  const { conn, namespace, pod, container, signal } = options;
  const path = `/api/v1/namespaces/${namespace}/pods/${pod}/log`;
  let since: string | undefined;
  let seenAtSince = 0;
  let failures = 0;
  const waitForChange = options.waitForChange ?? (() => sleep(500, signal).catch(() => undefined));

  while (!signal.aborted) {
    try {
      const lines = await conn.lines(path, {
        query: {
          container,
          follow: 'true',
          timestamps: 'true',
          ...(since ? { sinceTime: `${since.slice(0, 19)}Z` } : {}),
        },
        signal,
      });
      let atSince = 0;
      for await (const raw of lines) {
        const { time, text } = splitTimestamp(raw);
        if (time !== undefined && since !== undefined) {
          if (time < since) continue;
          if (time === since && atSince++ < seenAtSince) continue;
        }
        if (time !== undefined) {
          if (time !== since) {
            since = time;
            seenAtSince = 0;
            atSince = 1;
          }
          seenAtSince++;
        }
        failures = 0;
        options.onLine(text);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (isNotFound(error)) return;
      if (error instanceof KubeApiError && error.statusCode === 400) {
        // "waiting to start" (creating, pulling): try again once the pod moves.
        await waitForChange();
        continue;
      }
      if (!isTransient(error)) {
        options.logger?.warning(`Cannot read the log of pod ${pod}: ${errorMessage(error)}`);
        return;
      }
      const delay = backoffDelay(failures++, 250, 5000);
      options.logger?.info(
        `Log of pod ${pod}: ${describeTransient(error)}; following it again in ${formatDuration(delay)} (no line is repeated).`,
      );
      await sleep(delay, signal).catch(() => undefined);
      continue;
    }
    if (signal.aborted) return;
    // The stream ended: the container terminated, the stream was cut, or it is restarting.
    const state = await containerState(conn, namespace, pod, container, signal, options.logger);
    if (state === 'gone' || state === 'terminated') return;
    await waitForChange();
  }
}

async function containerState(
  conn: Pick<Transport, 'request'>,
  namespace: string,
  pod: string,
  container: string,
  signal: AbortSignal,
  logger: Logger | undefined,
): Promise<'gone' | 'terminated' | 'running' | 'waiting' | 'unknown'> {
  try {
    const current = await conn.request<Pod>('GET', `/api/v1/namespaces/${namespace}/pods/${pod}`, { signal });
    const phase = current.status?.phase;
    const status = current.status?.containerStatuses?.find((c) => c.name === container);
    if (status?.state?.running) return 'running';
    if (
      status?.state?.terminated &&
      (phase === 'Succeeded' || phase === 'Failed' || current.spec?.restartPolicy === 'Never')
    ) {
      return 'terminated';
    }
    if (phase === 'Succeeded' || phase === 'Failed') return 'terminated';
    return status?.state?.waiting ? 'waiting' : 'unknown';
  } catch (error) {
    if (isNotFound(error)) return 'gone';
    if (!signal.aborted && isTransient(error)) {
      logger?.info(`Reading pod ${pod}: ${describeTransient(error)}; following its log again.`);
    }
    return 'unknown';
  }
}
