import { ActionFailure, ConfigurationError } from '@planner-deploy/core';
import type { RdsContext } from './rds-client.js';
import type { DatabaseRef } from './rds-identifiers.js';
import {
  describeDatabase,
  describeDatabaseRef,
  findSnapshot,
  isAlreadyExists,
  startSnapshot,
  type DatabaseInfo,
  type SnapshotInfo,
} from './rds-snapshots.js';

export interface EnsureSnapshotOptions {
  database: DatabaseRef;
  snapshotId: string;
  /** Tags of a new snapshot (a reused one keeps its own). */
  tags: Record<string, string>;
}

export interface EnsuredSnapshot {
  snapshot: SnapshotInfo;
  /** `created` by this call; `reused` because it existed (a re-run); `adopted` after losing a create race. */
  origin: 'created' | 'reused' | 'adopted';
  /** The database as checked before creating (absent when an existing snapshot was reused). */
  database?: DatabaseInfo | undefined;
}

/**
 * Makes sure a snapshot with this identifier of this database exists, never a second one: an existing one is
 * reused (a re-run of the job), a create that loses a race (`…AlreadyExists`) adopts the winner's. A new one is
 * only started when the database is `available`; a snapshot of another database with our identifier is an error.
 */
export async function ensureSnapshot(
  context: RdsContext,
  options: EnsureSnapshotOptions,
): Promise<EnsuredSnapshot> {
  const { database, snapshotId } = options;
  const existing = await findSnapshot(context, database.kind, snapshotId);
  if (existing) {
    checkBelongs(existing, database);
    context.logger.info(
      `Snapshot ${existing.id} already exists (${existing.status}); reusing it instead of taking a second one.`,
    );
    return { snapshot: existing, origin: 'reused' };
  }

  const info = await describeDatabase(context, database);
  if (database.kind === 'instance' && info.clusterId) {
    throw new ConfigurationError(
      `The DB instance "${database.id}" is a member of the Aurora cluster "${info.clusterId}": Aurora is backed up per cluster. Set db-cluster-identifier: ${info.clusterId} instead of db-instance-identifier.`,
      { title: 'Invalid input: db-instance-identifier' },
    );
  }
  if (!SNAPSHOT_READY_STATUSES.has(info.status)) {
    throw new ActionFailure(
      'Database not available',
      `The ${describeDatabaseRef(database)} is "${info.status}", not "available", so RDS cannot snapshot it now. ${statusAdvice(info.status)}`,
    );
  }

  try {
    const snapshot = await startSnapshot(context, database, snapshotId, options.tags);
    context.logger.info(`Started snapshot ${snapshot.id} of the ${describeDatabaseRef(database)}.`);
    return { snapshot, origin: 'created', database: info };
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    // Another attempt or job created it between our lookup and our create: wait for theirs.
    const winner = await findSnapshot(context, database.kind, snapshotId);
    if (!winner) throw error;
    checkBelongs(winner, database);
    context.logger.info(`Snapshot ${winner.id} was created concurrently by another run; adopting it.`);
    return { snapshot: winner, origin: 'adopted', database: info };
  }
}

/**
 * Database statuses RDS takes a snapshot in: `available`, and `storage-optimization` (after a storage change the
 * database is fully operational; only further storage changes wait).
 */
export const SNAPSHOT_READY_STATUSES: ReadonlySet<string> = new Set(['available', 'storage-optimization']);

function checkBelongs(snapshot: SnapshotInfo, database: DatabaseRef): void {
  if (snapshot.databaseId.toLowerCase() === database.id.toLowerCase()) return;
  const kind = snapshot.kind === 'cluster' ? 'DB cluster' : 'DB instance';
  throw new ConfigurationError(
    `A snapshot named "${snapshot.id}" already exists, but it is of the ${kind} "${snapshot.databaseId}", not of the ${describeDatabaseRef(database)}. Set another snapshot-identifier (or snapshot-prefix) for this database.`,
    { title: 'Snapshot identifier taken' },
  );
}

/** What to do about a database that is not available. */
export function statusAdvice(status: string): string {
  switch (status) {
    case 'backing-up':
      return 'A backup is in progress (automated or another snapshot): wait for it to finish and re-run the job.';
    case 'modifying':
    case 'upgrading':
    case 'maintenance':
    case 'configuring-enhanced-monitoring':
    case 'renaming':
    case 'rebooting':
    case 'starting':
    case 'creating':
      return 'It is changing state: wait until it is available again and re-run the job.';
    case 'stopped':
    case 'stopping':
      return 'Start the database (RDS cannot snapshot a stopped instance) and re-run the job.';
    default:
      return 'Check it in the RDS console; once it is available, re-run the job.';
  }
}
