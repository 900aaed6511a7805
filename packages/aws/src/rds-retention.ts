import { errorMessage } from '@planner-deploy/core';
import { isCancellation, type RdsContext } from './rds-client.js';
import type { DatabaseRef } from './rds-identifiers.js';
import { deleteSnapshot, listManualSnapshots, newestFirst, type SnapshotInfo } from './rds-snapshots.js';
import { isBackupOf } from './rds-tags.js';

export interface RetentionPlan {
  /** Our snapshots that stay, newest first. */
  keep: SnapshotInfo[];
  /** Our snapshots to delete, newest first. */
  remove: SnapshotInfo[];
  /** Snapshots of the database that are not ours (other tools', people's): never touched. */
  untouched: number;
}

/**
 * Decides which of our older snapshots go so that `retain` remain. Only snapshots that pass `isBackupOf` (our
 * marker tag, our database tag and the snapshot's own database) are candidates; everything else is untouched.
 * The snapshot just taken is always kept and fills one place once it is `available`; while it is still being
 * created (wait: false) `retain` older available ones stay, so `retain` usable snapshots exist even if it
 * fails. Snapshots still in progress are kept (RDS cannot delete them); failed ones of ours are removed.
 */
export function planRetention(
  snapshots: readonly SnapshotInfo[],
  database: DatabaseRef,
  current: SnapshotInfo,
  retain: number,
): RetentionPlan {
  const ours = snapshots.filter((s) => isBackupOf(s, database) && s.id !== current.id).sort(newestFirst);
  let places = retain - (current.status === 'available' ? 1 : 0);
  const keep: SnapshotInfo[] = [];
  const remove: SnapshotInfo[] = [];
  for (const snapshot of ours) {
    if (snapshot.status === 'available') {
      if (places > 0) {
        keep.push(snapshot);
        places--;
      } else {
        remove.push(snapshot);
      }
    } else if (snapshot.status === 'failed') {
      remove.push(snapshot);
    } else {
      keep.push(snapshot);
    }
  }
  return {
    keep,
    remove,
    untouched: snapshots.length - ours.length - (snapshots.some((s) => s.id === current.id) ? 1 : 0),
  };
}

export interface RetentionResult {
  kept: string[];
  deleted: string[];
  failed: Array<{ id: string; message: string }>;
  untouched: number;
}

/** Lists the database's manual snapshots, plans retention and deletes what the plan removes. */
export async function applyRetention(
  context: RdsContext,
  database: DatabaseRef,
  current: SnapshotInfo,
  retain: number,
): Promise<RetentionResult> {
  const snapshots = await listManualSnapshots(context, database);
  const plan = planRetention(snapshots, database, current, retain);
  const result: RetentionResult = {
    kept: [current.id, ...plan.keep.map((s) => s.id)],
    deleted: [],
    failed: [],
    untouched: plan.untouched,
  };
  for (const snapshot of plan.remove) {
    // Checked again right before the delete: nothing but our own snapshot of this database may go.
    if (!isBackupOf(snapshot, database) || snapshot.id === current.id) continue;
    try {
      await deleteSnapshot(context, snapshot.kind, snapshot.id);
      context.logger.info(
        `Deleted old snapshot ${snapshot.id} (${snapshot.createdAt?.toISOString() ?? 'unknown time'}).`,
      );
      result.deleted.push(snapshot.id);
    } catch (error) {
      if (isCancellation(error, context.signal)) throw error;
      result.failed.push({ id: snapshot.id, message: errorMessage(error) });
    }
  }
  return result;
}
