import type { DBClusterSnapshot, DBSnapshot, Tag } from '@aws-sdk/client-rds';
import { ActionFailure, ConfigurationError, errorMessage } from '@planner-deploy/core';
import { errorCode, sendOptions, withRetry, type RdsContext } from './rds-client.js';
import type { DatabaseKind, DatabaseRef } from './rds-identifiers.js';

/** A DB instance or DB cluster as far as a backup cares. */
export interface DatabaseInfo extends DatabaseRef {
  /** `available`, `backing-up`, `modifying`, … */
  status: string;
  engine?: string | undefined;
  arn?: string | undefined;
  /** For an instance: the Aurora cluster it is a member of. */
  clusterId?: string | undefined;
}

/** A DB snapshot or DB cluster snapshot. */
export interface SnapshotInfo {
  kind: DatabaseKind;
  id: string;
  arn?: string | undefined;
  /** The DB instance or DB cluster it was taken from. */
  databaseId: string;
  /** `creating`, `available`, `failed`, … */
  status: string;
  /** `manual`, `automated`, `awsbackup`, … */
  type?: string | undefined;
  createdAt?: Date | undefined;
  progress?: number | undefined;
  engine?: string | undefined;
  tags: Record<string, string>;
}

function tagRecord(list: Tag[] | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of list ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  return tags;
}

function tagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function fromDbSnapshot(snapshot: DBSnapshot): SnapshotInfo {
  return {
    kind: 'instance',
    id: snapshot.DBSnapshotIdentifier ?? '',
    arn: snapshot.DBSnapshotArn,
    databaseId: snapshot.DBInstanceIdentifier ?? '',
    status: snapshot.Status ?? 'unknown',
    type: snapshot.SnapshotType,
    createdAt: snapshot.SnapshotCreateTime,
    progress: snapshot.PercentProgress,
    engine: snapshot.Engine,
    tags: tagRecord(snapshot.TagList),
  };
}

export function fromDbClusterSnapshot(snapshot: DBClusterSnapshot): SnapshotInfo {
  return {
    kind: 'cluster',
    id: snapshot.DBClusterSnapshotIdentifier ?? '',
    arn: snapshot.DBClusterSnapshotArn,
    databaseId: snapshot.DBClusterIdentifier ?? '',
    status: snapshot.Status ?? 'unknown',
    type: snapshot.SnapshotType,
    createdAt: snapshot.SnapshotCreateTime,
    progress: snapshot.PercentProgress,
    engine: snapshot.Engine,
    tags: tagRecord(snapshot.TagList),
  };
}

export function describeDatabaseRef(database: DatabaseRef): string {
  return database.kind === 'cluster' ? `DB cluster "${database.id}"` : `DB instance "${database.id}"`;
}

const NOT_FOUND = new Set([
  'DBInstanceNotFoundFault',
  'DBInstanceNotFound',
  'DBClusterNotFoundFault',
  'DBClusterNotFound',
  'DBSnapshotNotFoundFault',
  'DBSnapshotNotFound',
  'DBClusterSnapshotNotFoundFault',
]);
const ALREADY_EXISTS = new Set([
  'DBSnapshotAlreadyExistsFault',
  'DBSnapshotAlreadyExists',
  'DBClusterSnapshotAlreadyExistsFault',
]);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const BAD_CREDENTIALS = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
]);

export function isNotFound(error: unknown): boolean {
  return NOT_FOUND.has(errorCode(error));
}

export function isAlreadyExists(error: unknown): boolean {
  return ALREADY_EXISTS.has(errorCode(error));
}

/** Turns permission and credential errors into errors that say what to fix; others pass through. */
export function explainRdsError(error: unknown, action: string, region: string): unknown {
  const code = errorCode(error);
  if (ACCESS_DENIED.has(code)) {
    return new ConfigurationError(
      `Not allowed to call rds:${action} in ${region}: ${errorMessage(error)}. Grant the deploy role rds:${action} (see examples/iam).`,
      { title: 'RDS access denied', cause: error },
    );
  }
  if (BAD_CREDENTIALS.has(code)) {
    return new ConfigurationError(
      `No valid AWS credentials for RDS in ${region}: ${errorMessage(error)}. Configure credentials first (e.g. aws-actions/configure-aws-credentials).`,
      { title: 'AWS credentials', cause: error },
    );
  }
  return error;
}

async function callWithRetry<T>(context: RdsContext, action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await withRetry(context, `rds:${action}`, run);
  } catch (error) {
    throw explainRdsError(error, action, context.region);
  }
}
const call = callWithRetry;

async function callOnce<T>(context: RdsContext, action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw explainRdsError(error, action, context.region);
  }
}

/** The database's status; a missing database is a ConfigurationError naming it and the region. */
export async function describeDatabase(context: RdsContext, database: DatabaseRef): Promise<DatabaseInfo> {
  const { sdk, client } = context;
  try {
    if (database.kind === 'cluster') {
      const result = await call(context, 'DescribeDBClusters', () =>
        client.send(
          new sdk.DescribeDBClustersCommand({ DBClusterIdentifier: database.id }),
          sendOptions(context),
        ),
      );
      const cluster = result.DBClusters?.[0];
      if (!cluster) throw notFound(context, database);
      return {
        ...database,
        status: cluster.Status ?? 'unknown',
        engine: cluster.Engine,
        arn: cluster.DBClusterArn,
      };
    }
    const result = await call(context, 'DescribeDBInstances', () =>
      client.send(
        new sdk.DescribeDBInstancesCommand({ DBInstanceIdentifier: database.id }),
        sendOptions(context),
      ),
    );
    const instance = result.DBInstances?.[0];
    if (!instance) throw notFound(context, database);
    return {
      ...database,
      status: instance.DBInstanceStatus ?? 'unknown',
      engine: instance.Engine,
      arn: instance.DBInstanceArn,
      clusterId: instance.DBClusterIdentifier,
    };
  } catch (error) {
    if (isNotFound(error)) throw notFound(context, database, error);
    throw error;
  }
}

function notFound(context: RdsContext, database: DatabaseRef, cause?: unknown): ConfigurationError {
  const input = database.kind === 'cluster' ? 'db-cluster-identifier' : 'db-instance-identifier';
  const other =
    database.kind === 'cluster'
      ? ' (for a DB instance use db-instance-identifier)'
      : ' (for an Aurora cluster use db-cluster-identifier)';
  return new ConfigurationError(
    `The ${describeDatabaseRef(database)} was not found in ${context.region}. Check the ${input} and region inputs${other}, and that the credentials belong to the database's account.`,
    { title: 'Database not found', cause },
  );
}

/**
 * The snapshot with this identifier, or undefined when there is none. `retry: false` makes one attempt of
 * our own (the SDK still retries), for a poll loop that keeps its own cadence.
 */
export async function findSnapshot(
  context: RdsContext,
  kind: DatabaseKind,
  id: string,
  options: { retry?: boolean } = {},
): Promise<SnapshotInfo | undefined> {
  const { sdk, client } = context;
  const call = options.retry === false ? callOnce : callWithRetry;
  try {
    if (kind === 'cluster') {
      const result = await call(context, 'DescribeDBClusterSnapshots', () =>
        client.send(
          new sdk.DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }),
          sendOptions(context),
        ),
      );
      const found = result.DBClusterSnapshots?.[0];
      return found ? fromDbClusterSnapshot(found) : undefined;
    }
    const result = await call(context, 'DescribeDBSnapshots', () =>
      client.send(new sdk.DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }), sendOptions(context)),
    );
    const found = result.DBSnapshots?.[0];
    return found ? fromDbSnapshot(found) : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Starts a snapshot. An AlreadyExists fault is thrown as is, for the caller to adopt the other one. */
export async function startSnapshot(
  context: RdsContext,
  database: DatabaseRef,
  id: string,
  tags: Record<string, string>,
): Promise<SnapshotInfo> {
  const { sdk, client } = context;
  try {
    if (database.kind === 'cluster') {
      const result = await call(context, 'CreateDBClusterSnapshot', () =>
        client.send(
          new sdk.CreateDBClusterSnapshotCommand({
            DBClusterSnapshotIdentifier: id,
            DBClusterIdentifier: database.id,
            Tags: tagList(tags),
          }),
          sendOptions(context),
        ),
      );
      if (!result.DBClusterSnapshot) throw new Error('CreateDBClusterSnapshot returned no snapshot');
      return fromDbClusterSnapshot(result.DBClusterSnapshot);
    }
    const result = await call(context, 'CreateDBSnapshot', () =>
      client.send(
        new sdk.CreateDBSnapshotCommand({
          DBSnapshotIdentifier: id,
          DBInstanceIdentifier: database.id,
          Tags: tagList(tags),
        }),
        sendOptions(context),
      ),
    );
    if (!result.DBSnapshot) throw new Error('CreateDBSnapshot returned no snapshot');
    return fromDbSnapshot(result.DBSnapshot);
  } catch (error) {
    throw explainCreateError(error, database, id);
  }
}

function explainCreateError(error: unknown, database: DatabaseRef, id: string): unknown {
  const code = errorCode(error);
  if (
    code === 'InvalidDBInstanceStateFault' ||
    code === 'InvalidDBInstanceState' ||
    code === 'InvalidDBClusterStateFault'
  ) {
    return new ActionFailure(
      'Database not available',
      `RDS refused to snapshot the ${describeDatabaseRef(database)}: ${errorMessage(error)} Wait until it is available (a backup or modification in progress ends by itself) and re-run the job.`,
      { cause: error },
    );
  }
  if (code === 'SnapshotQuotaExceededFault' || code === 'SnapshotQuotaExceeded') {
    return new ActionFailure(
      'Snapshot quota exceeded',
      `RDS refused to create snapshot "${id}": ${errorMessage(error)} The region's manual snapshot quota (100 by default) is used up. Delete old manual snapshots, set the retain input so this action deletes its own old ones, or ask AWS for a higher quota.`,
      { cause: error },
    );
  }
  if (code === 'InvalidParameterValue' || code === 'InvalidParameterCombination') {
    return new ConfigurationError(`RDS refused to create snapshot "${id}": ${errorMessage(error)}`, {
      title: 'Invalid snapshot request',
      cause: error,
    });
  }
  return error;
}

/** Every manual snapshot of the database (all pages), newest first. */
export async function listManualSnapshots(
  context: RdsContext,
  database: DatabaseRef,
): Promise<SnapshotInfo[]> {
  const { sdk, client } = context;
  const snapshots: SnapshotInfo[] = [];
  let marker: string | undefined;
  do {
    if (database.kind === 'cluster') {
      const result = await call(context, 'DescribeDBClusterSnapshots', () =>
        client.send(
          new sdk.DescribeDBClusterSnapshotsCommand({
            DBClusterIdentifier: database.id,
            SnapshotType: 'manual',
            MaxRecords: 100,
            ...(marker ? { Marker: marker } : {}),
          }),
          sendOptions(context),
        ),
      );
      snapshots.push(...(result.DBClusterSnapshots ?? []).map(fromDbClusterSnapshot));
      marker = result.Marker;
    } else {
      const result = await call(context, 'DescribeDBSnapshots', () =>
        client.send(
          new sdk.DescribeDBSnapshotsCommand({
            DBInstanceIdentifier: database.id,
            SnapshotType: 'manual',
            MaxRecords: 100,
            ...(marker ? { Marker: marker } : {}),
          }),
          sendOptions(context),
        ),
      );
      snapshots.push(...(result.DBSnapshots ?? []).map(fromDbSnapshot));
      marker = result.Marker;
    }
  } while (marker);
  return snapshots.sort(newestFirst);
}

/** Orders snapshots newest first; a snapshot without a creation time (still starting) counts as newest. */
export function newestFirst(a: SnapshotInfo, b: SnapshotInfo): number {
  const at = a.createdAt?.getTime() ?? Number.POSITIVE_INFINITY;
  const bt = b.createdAt?.getTime() ?? Number.POSITIVE_INFINITY;
  if (at !== bt) return bt > at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Deletes a manual snapshot. */
export async function deleteSnapshot(context: RdsContext, kind: DatabaseKind, id: string): Promise<void> {
  const { sdk, client } = context;
  if (kind === 'cluster') {
    await call(context, 'DeleteDBClusterSnapshot', () =>
      client.send(
        new sdk.DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: id }),
        sendOptions(context),
      ),
    );
    return;
  }
  await call(context, 'DeleteDBSnapshot', () =>
    client.send(new sdk.DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }), sendOptions(context)),
  );
}
