import { ActionFailure, backoffDelay, errorMessage, sleep } from '@planner-deploy/core';
import { errorCode, isCancellation, isTransient, type RdsContext } from './rds-client.js';
import { findSnapshot, type SnapshotInfo } from './rds-snapshots.js';

/** How a wait ended. `cancelled` and `timeout` leave the snapshot running in RDS. */
export type WaitOutcome = 'available' | 'failed' | 'timeout' | 'cancelled';

/** Statuses a snapshot does not come back from: the wait ends and the step fails with the status. */
export const TERMINAL_FAILED_STATUSES: ReadonlySet<string> = new Set([
  'failed',
  'error',
  'deleted',
  'deleting',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
]);

export interface WaitOptions {
  /** Time between the starts of two polls (a fixed cadence, unlike the SDK waiter's growing backoff). */
  pollIntervalMs: number;
  timeoutMs: number;
  /** How many polls in a row may fail transiently (throttling, 5xx, resets) before the wait gives up. */
  maxTransientErrors?: number;
  /** How many polls in a row may not find the snapshot (RDS is eventually consistent) before it is gone. */
  maxMissing?: number;
  /** Base of the jittered backoff after a transient error (default 1 s, capped at 15 s). */
  backoffBaseMs?: number;
  now?: () => number;
}

export interface WaitResult {
  outcome: WaitOutcome;
  /** The last state seen. */
  snapshot: SnapshotInfo;
  polls: number;
  waitedMs: number;
}

/**
 * Polls the snapshot at a fixed cadence until it is `available`, ends in a failed status, the timeout passes
 * or the context's signal aborts. Transient errors (throttling above all) do not end the wait: the next poll
 * backs off, up to `maxTransientErrors` in a row. A cancel returns at once without touching the snapshot.
 */
export async function waitForSnapshot(
  context: RdsContext,
  initial: SnapshotInfo,
  options: WaitOptions,
): Promise<WaitResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const deadline = started + options.timeoutMs;
  const maxTransient = options.maxTransientErrors ?? 20;
  const maxMissing = options.maxMissing ?? 5;
  let snapshot = initial;
  let polls = 0;
  let transientInRow = 0;
  let missingInRow = 0;
  let lastReport = '';
  const result = (outcome: WaitOutcome): WaitResult => ({
    outcome,
    snapshot,
    polls,
    waitedMs: now() - started,
  });

  for (;;) {
    if (context.signal?.aborted) return result('cancelled');
    const pollStarted = now();
    polls++;
    try {
      const current = await findSnapshot(context, initial.kind, initial.id, { retry: false });
      transientInRow = 0;
      if (current === undefined) {
        missingInRow++;
        if (missingInRow >= maxMissing) {
          throw new ActionFailure(
            'Snapshot disappeared',
            `Snapshot "${initial.id}" was not found any more while waiting for it (${missingInRow} polls in a row): it was deleted, or it is being deleted. Re-run the job to take a new one.`,
          );
        }
      } else {
        missingInRow = 0;
        snapshot = current;
        const report = `${current.status}${current.progress !== undefined ? ` (${current.progress}%)` : ''}`;
        if (report !== lastReport) {
          context.logger.info(`Snapshot ${current.id}: ${report}`);
          lastReport = report;
        }
        if (current.status === 'available') return result('available');
        if (TERMINAL_FAILED_STATUSES.has(current.status)) return result('failed');
      }
    } catch (error) {
      if (isCancellation(error, context.signal)) return result('cancelled');
      if (!isTransient(error)) throw error;
      transientInRow++;
      if (transientInRow > maxTransient) {
        throw new ActionFailure(
          'RDS unavailable',
          `Gave up waiting for snapshot "${initial.id}" after ${transientInRow} failed polls in a row (last: ${errorCode(error)}: ${errorMessage(error)}). The snapshot continues in RDS; re-run the job to wait for it again.`,
          { cause: error },
        );
      }
      context.logger.info(
        `Polling snapshot ${initial.id}: ${errorCode(error)} (${errorMessage(error)}); polling again with backoff.`,
      );
    }

    const remaining = deadline - now();
    if (remaining <= 0) return result('timeout');
    const cadence = pollStarted + options.pollIntervalMs - now();
    const delay =
      transientInRow > 0
        ? Math.max(cadence, backoffDelay(transientInRow, options.backoffBaseMs ?? 1000, 15_000))
        : cadence;
    try {
      await sleep(Math.min(Math.max(0, delay), remaining), context.signal);
    } catch (error) {
      if (isCancellation(error, context.signal)) return result('cancelled');
      throw error;
    }
  }
}
