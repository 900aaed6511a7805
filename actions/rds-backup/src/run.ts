import { CancelledError, errorMessage, type Logger } from '@planner-deploy/action-kit';
import {
  TERMINAL_FAILED_STATUSES,
  applyRetention,
  createRdsContext,
  describeDatabaseRef,
  ensureSnapshot,
  isCancellation,
  waitForSnapshot,
  type DatabaseRef,
  type EnsuredSnapshot,
  type RetentionResult,
  type SnapshotInfo,
} from '@planner-deploy/aws/rds';
import type { Inputs } from './inputs.js';

/** How the step ended: `started` = wait: false, the snapshot is still being created. */
export type BackupOutcome = 'available' | 'started' | 'failed' | 'timeout' | 'cancelled';

export interface BackupResult {
  database: DatabaseRef;
  region: string;
  snapshot: SnapshotInfo;
  origin: EnsuredSnapshot['origin'];
  outcome: BackupOutcome;
  durationMs: number;
  timeoutMs: number;
  /** The retain input, when set. */
  retain?: number | undefined;
  retention?: RetentionResult | undefined;
  /** Set when retention could not even list the snapshots. */
  retentionError?: string | undefined;
}

export interface BackupOptions {
  /** Explicit RDS endpoint (tests); otherwise the SDK honours AWS_ENDPOINT_URL_RDS. */
  endpoint?: string;
  now?: () => number;
}

/** Ensures the snapshot (reuse, adopt or create), waits for it, then applies retention. */
export async function backupDatabase(
  inputs: Inputs,
  logger: Logger,
  signal: AbortSignal,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const now = options.now ?? Date.now;
  const { database, region } = inputs;
  const snapshotId = inputs['snapshot-identifier'];
  const context = await createRdsContext({ region, logger, signal, endpoint: options.endpoint });
  logger.info(
    inputs['snapshot-identifier-derived']
      ? `Snapshot identifier ${snapshotId}: derived from the prefix, repository, database, commit and run id, so a re-run of this job finds the same snapshot.`
      : `Snapshot identifier ${snapshotId} (from the snapshot-identifier input).`,
  );
  try {
    const started = now();
    const ensured = await logger
      .group(`Snapshot ${snapshotId} of the ${describeDatabaseRef(database)} (${region})`, () =>
        ensureSnapshot(context, { database, snapshotId, tags: inputs.tags }),
      )
      .catch((error: unknown) => {
        if (!isCancellation(error, signal)) throw error;
        throw new CancelledError(
          `Cancelled while starting snapshot ${snapshotId}. If RDS had already accepted it, it continues there; a re-run of the job reuses it rather than taking a second one.`,
        );
      });

    let snapshot = ensured.snapshot;
    let outcome: BackupOutcome;
    if (snapshot.status === 'available') outcome = 'available';
    else if (TERMINAL_FAILED_STATUSES.has(snapshot.status)) outcome = 'failed';
    else if (!inputs.wait) outcome = 'started';
    else {
      const waited = await logger.group(`Waiting for ${snapshot.id} to be available`, () =>
        waitForSnapshot(context, snapshot, {
          pollIntervalMs: inputs['poll-interval'],
          timeoutMs: inputs.timeout,
          now,
        }),
      );
      snapshot = waited.snapshot;
      outcome = waited.outcome;
    }

    const result: BackupResult = {
      database,
      region,
      snapshot,
      origin: ensured.origin,
      outcome,
      durationMs: now() - started,
      timeoutMs: inputs.timeout,
      retain: inputs.retain,
    };
    if (inputs.retain !== undefined && (outcome === 'available' || outcome === 'started')) {
      const retain = inputs.retain;
      await logger.group(
        `Retention: keep the newest ${retain} of this action's snapshots of ${database.id}`,
        async () => {
          try {
            result.retention = await applyRetention(context, database, snapshot, retain);
            for (const failure of result.retention.failed) {
              logger.warning(`Could not delete old snapshot ${failure.id}: ${failure.message}`, {
                title: 'Retention incomplete',
              });
            }
          } catch (error) {
            if (isCancellation(error, signal)) throw error;
            result.retentionError = errorMessage(error);
            logger.warning(`Retention skipped: ${result.retentionError}`, { title: 'Retention incomplete' });
          }
        },
      );
    }
    return result;
  } finally {
    context.client.destroy();
  }
}
