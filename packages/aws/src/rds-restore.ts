import type { SnapshotInfo } from './rds-snapshots.js';

/**
 * The aws CLI commands that restore a snapshot into a new database (RDS restores never overwrite the existing
 * one). For a DB cluster snapshot the cluster needs an instance added before it serves connections.
 */
export function restoreCommands(
  snapshot: Pick<SnapshotInfo, 'kind' | 'id' | 'engine'>,
  region: string,
): string[] {
  if (snapshot.kind === 'cluster') {
    const engine = snapshot.engine ?? '<engine>';
    return [
      `aws rds restore-db-cluster-from-snapshot --region ${region} --db-cluster-identifier <new-cluster-id> --snapshot-identifier ${snapshot.id} --engine ${engine}`,
      `aws rds create-db-instance --region ${region} --db-cluster-identifier <new-cluster-id> --db-instance-identifier <new-cluster-id>-1 --db-instance-class <instance-class> --engine ${engine}`,
    ];
  }
  return [
    `aws rds restore-db-instance-from-db-snapshot --region ${region} --db-instance-identifier <new-instance-id> --db-snapshot-identifier ${snapshot.id}`,
  ];
}
