import { randomBytes } from 'node:crypto';
import { spread } from './fault-pattern.js';
import {
  isValidRdsIdentifier,
  mergeTags,
  RdsError,
  type AddClusterOptions,
  type AddInstanceOptions,
  type AddSnapshotOptions,
  type DbCluster,
  type DbInstance,
  type RdsFaults,
  type Snapshot,
  type Tag,
  INSTANCE_ID_RULES,
  MANUAL_SNAPSHOT_QUOTA,
} from './rds-model.js';

/** In-memory RDS: databases, snapshots, tags and faults, on a scaled clock. */
export class RdsState {
  readonly instances = new Map<string, DbInstance>();
  readonly clusters = new Map<string, DbCluster>();
  private readonly snapshotsById = new Map<string, Snapshot>();
  private readonly clusterSnapshotsById = new Map<string, Snapshot>();
  private faults: RdsFaults = {};
  private throttleCount = 0;
  private internalErrorCount = 0;
  private throttledCount = 0;
  /** Manual snapshots allowed per kind (the real quota is 100 per region). */
  snapshotQuota = MANUAL_SNAPSHOT_QUOTA;
  /** Simulated seconds a snapshot takes unless the database says otherwise. */
  snapshotSeconds: number;
  /**
   * Show a database as `backing-up` while one of its manual snapshots is being created, as RDS does
   * (so a second snapshot meanwhile is InvalidDBInstanceState). Off by default.
   */
  backingUpDuringSnapshot = false;

  constructor(
    readonly region: string,
    readonly accountId: string,
    /** Real time = simulated time × timeScale. */
    readonly timeScale: number,
    snapshotSeconds = 60,
    private readonly now: () => number = Date.now,
  ) {
    this.snapshotSeconds = snapshotSeconds;
  }

  addInstance(options: AddInstanceOptions): DbInstance {
    const instance: DbInstance = {
      id: options.id.toLowerCase(),
      status: options.status ?? 'available',
      engine: options.engine ?? 'postgres',
      engineVersion: options.engineVersion ?? '16.4',
      instanceClass: options.instanceClass ?? 'db.t4g.micro',
      createdAt: new Date(this.now() - 86_400_000),
      resourceId: `db-${randomBytes(13).toString('hex').toUpperCase().slice(0, 26)}`,
      allocatedStorage: 20,
      tags: [...(options.tags ?? [])],
      ...(options.clusterId !== undefined ? { clusterId: options.clusterId.toLowerCase() } : {}),
      ...(options.snapshotSeconds !== undefined ? { snapshotSeconds: options.snapshotSeconds } : {}),
    };
    this.instances.set(instance.id, instance);
    return instance;
  }

  addCluster(options: AddClusterOptions): DbCluster {
    const cluster: DbCluster = {
      id: options.id.toLowerCase(),
      status: options.status ?? 'available',
      engine: options.engine ?? 'aurora-postgresql',
      engineVersion: options.engineVersion ?? '16.4',
      members: (options.members ?? []).map((m) => m.toLowerCase()),
      createdAt: new Date(this.now() - 86_400_000),
      resourceId: `cluster-${randomBytes(13).toString('hex').toUpperCase().slice(0, 26)}`,
      allocatedStorage: 1,
      tags: [...(options.tags ?? [])],
      ...(options.snapshotSeconds !== undefined ? { snapshotSeconds: options.snapshotSeconds } : {}),
    };
    this.clusters.set(cluster.id, cluster);
    for (const member of cluster.members) {
      this.addInstance({
        id: member,
        engine: cluster.engine,
        clusterId: cluster.id,
        instanceClass: 'db.r6g.large',
      });
    }
    return cluster;
  }

  setInstanceStatus(id: string, status: string): void {
    this.getInstance(id).status = status;
  }

  setClusterStatus(id: string, status: string): void {
    this.getCluster(id).status = status;
  }

  /** Seeds a snapshot (e.g. automated ones, or another tool's manual ones). */
  addSnapshot(options: AddSnapshotOptions): Snapshot {
    const cluster = options.cluster === true;
    const source = cluster ? this.getCluster(options.sourceId) : this.getInstance(options.sourceId);
    const status = options.status ?? 'available';
    const snapshot: Snapshot = {
      kind: cluster ? 'cluster' : 'instance',
      id: options.id.toLowerCase(),
      sourceId: source.id,
      type: options.type ?? 'manual',
      engine: source.engine,
      engineVersion: source.engineVersion,
      allocatedStorage: source.allocatedStorage,
      createdAt: options.createdAt ?? new Date(this.now()),
      sourceCreatedAt: source.createdAt,
      durationMs: status === 'creating' ? this.snapshotDurationMs(source) : 0,
      outcome: status === 'failed' ? 'failed' : 'available',
      deleted: false,
      tags: [...(options.tags ?? [])],
    };
    if (status === 'creating') snapshot.createdAt = new Date(this.now());
    (cluster ? this.clusterSnapshotsById : this.snapshotsById).set(snapshot.id, snapshot);
    return snapshot;
  }

  /** Merges faults in; setting `throttle` restarts its pattern (the next request is the first throttled). */
  setFaults(faults: RdsFaults): void {
    this.faults = { ...this.faults, ...faults };
    if (faults.throttle !== undefined) this.throttleCount = 0;
    if (faults.internalError !== undefined) this.internalErrorCount = 0;
  }

  /** Requests answered with Throttling so far. */
  get throttled(): number {
    return this.throttledCount;
  }

  /** Decides whether this request is throttled: evenly spread by the configured share, the first one included. */
  shouldThrottle(): boolean {
    const throttle = spread(this.faults.throttle, this.throttleCount++);
    if (throttle) this.throttledCount++;
    return throttle;
  }

  /** Decides whether this request fails with 500 InternalFailure. */
  shouldFailInternally(): boolean {
    return spread(this.faults.internalError, this.internalErrorCount++);
  }

  /** All DB snapshots (not DB cluster snapshots), oldest first, deleted ones excluded. */
  get snapshots(): Snapshot[] {
    return [...this.snapshotsById.values()].filter((s) => !s.deleted);
  }

  get clusterSnapshots(): Snapshot[] {
    return [...this.clusterSnapshotsById.values()].filter((s) => !s.deleted);
  }

  getInstance(id: string): DbInstance {
    const instance = this.instances.get(id.toLowerCase());
    if (!instance) throw new RdsError('DBInstanceNotFound', `DBInstance ${id} not found.`, 404);
    return instance;
  }

  getCluster(id: string): DbCluster {
    const cluster = this.clusters.get(id.toLowerCase());
    if (!cluster) throw new RdsError('DBClusterNotFoundFault', `DBCluster ${id} not found.`, 404);
    return cluster;
  }

  getSnapshot(id: string): Snapshot {
    const snapshot = this.snapshotsById.get(id.toLowerCase());
    if (!snapshot || snapshot.deleted)
      throw new RdsError('DBSnapshotNotFound', `DBSnapshot not found: ${id}`, 404);
    return snapshot;
  }

  getClusterSnapshot(id: string): Snapshot {
    const snapshot = this.clusterSnapshotsById.get(id.toLowerCase());
    if (!snapshot || snapshot.deleted) {
      throw new RdsError('DBClusterSnapshotNotFoundFault', `DBClusterSnapshot ${id} not found.`, 404);
    }
    return snapshot;
  }

  /** The status DescribeDBInstances shows: the set one, or `backing-up` during a snapshot (if enabled). */
  instanceStatus(id: string): string {
    const instance = this.getInstance(id);
    return this.backingUp(instance.id, this.snapshotsById) ? 'backing-up' : instance.status;
  }

  clusterStatus(id: string): string {
    const cluster = this.getCluster(id);
    return this.backingUp(cluster.id, this.clusterSnapshotsById) ? 'backing-up' : cluster.status;
  }

  private backingUp(sourceId: string, store: Map<string, Snapshot>): boolean {
    if (!this.backingUpDuringSnapshot) return false;
    for (const s of store.values()) {
      if (s.sourceId === sourceId && s.type === 'manual' && this.status(s) === 'creating') return true;
    }
    return false;
  }

  /** `creating`, then `available` (or `failed`) once the simulated duration has passed. */
  status(snapshot: Snapshot): string {
    if (snapshot.deleted) return 'deleted';
    const done = this.now() - snapshot.createdAt.getTime() >= snapshot.durationMs;
    return done ? snapshot.outcome : 'creating';
  }

  /** PercentProgress: grows with time; a failed snapshot stops where it broke. */
  progress(snapshot: Snapshot): number {
    if (snapshot.durationMs <= 0) return snapshot.outcome === 'failed' ? 0 : 100;
    const share = (this.now() - snapshot.createdAt.getTime()) / snapshot.durationMs;
    if (share >= 1) return snapshot.outcome === 'failed' ? 57 : 100;
    return Math.max(0, Math.floor(share * 100));
  }

  createSnapshot(kind: 'instance' | 'cluster', id: string, sourceId: string, tags: Tag[]): Snapshot {
    const cluster = kind === 'cluster';
    const maxLength = cluster ? 63 : 255;
    const param = cluster ? 'DBClusterSnapshotIdentifier' : 'DBSnapshotIdentifier';
    if (!isValidRdsIdentifier(id, maxLength)) {
      throw new RdsError(
        'InvalidParameterValue',
        `The parameter ${param} is not a valid identifier. ${INSTANCE_ID_RULES}` +
          (id.length > maxLength ? ` It must contain from 1 to ${maxLength} characters.` : ''),
      );
    }
    // RDS stores both kinds of snapshot identifier in lower case.
    const storedId = id.toLowerCase();
    const store = cluster ? this.clusterSnapshotsById : this.snapshotsById;
    const existing = store.get(storedId);
    if (existing && !existing.deleted) {
      throw cluster
        ? new RdsError(
            'DBClusterSnapshotAlreadyExistsFault',
            `Cannot create the cluster snapshot because one with the identifier ${storedId} already exists.`,
          )
        : new RdsError(
            'DBSnapshotAlreadyExists',
            `Cannot create the snapshot because a snapshot with the identifier ${storedId} already exists.`,
          );
    }
    const source = cluster ? this.getCluster(sourceId) : this.getInstance(sourceId);
    const sourceStatus = cluster ? this.clusterStatus(source.id) : this.instanceStatus(source.id);
    if (sourceStatus !== 'available' && sourceStatus !== 'storage-optimization') {
      throw cluster
        ? new RdsError(
            'InvalidDBClusterStateFault',
            `Cannot create a snapshot because the DB cluster ${source.id} is not currently in the available state.`,
          )
        : new RdsError(
            'InvalidDBInstanceState',
            `Cannot create a snapshot because the database instance ${source.id} is not currently in the available state.`,
          );
    }
    const manual = [...store.values()].filter((s) => !s.deleted && s.type === 'manual').length;
    if (manual >= this.snapshotQuota) {
      throw new RdsError(
        'SnapshotQuotaExceeded',
        'Cannot create more than ' + String(this.snapshotQuota) + ' manual snapshots',
      );
    }
    const fails = this.faults.nextSnapshotFails === true;
    if (fails) this.faults = { ...this.faults, nextSnapshotFails: false };
    const snapshot: Snapshot = {
      kind,
      id: storedId,
      sourceId: source.id,
      type: 'manual',
      engine: source.engine,
      engineVersion: source.engineVersion,
      allocatedStorage: source.allocatedStorage,
      createdAt: new Date(this.now()),
      sourceCreatedAt: source.createdAt,
      durationMs: this.snapshotDurationMs(source),
      outcome: fails ? 'failed' : 'available',
      deleted: false,
      tags: mergeTags([], tags),
    };
    store.set(storedId, snapshot);
    return snapshot;
  }

  deleteSnapshot(kind: 'instance' | 'cluster', id: string): Snapshot {
    const snapshot = kind === 'cluster' ? this.getClusterSnapshot(id) : this.getSnapshot(id);
    if (snapshot.type !== 'manual') {
      throw kind === 'cluster'
        ? new RdsError('InvalidDBClusterSnapshotStateFault', 'Only manual snapshots may be deleted.')
        : new RdsError('InvalidDBSnapshotState', 'Only manual snapshots may be deleted.');
    }
    if (this.status(snapshot) === 'creating') {
      throw kind === 'cluster'
        ? new RdsError(
            'InvalidDBClusterSnapshotStateFault',
            `Cannot delete the cluster snapshot ${snapshot.id} because it is not in the available state.`,
          )
        : new RdsError(
            'InvalidDBSnapshotState',
            `Cannot delete the snapshot ${snapshot.id} because it is not in the available state.`,
          );
    }
    snapshot.deleted = true;
    return snapshot;
  }

  arn(kind: 'db' | 'cluster' | 'snapshot' | 'cluster-snapshot', id: string): string {
    return `arn:aws:rds:${this.region}:${this.accountId}:${kind}:${id}`;
  }

  /** The tag list a resource ARN names (throws the real not-found error for the resource kind). */
  tagsOf(arn: string): Tag[] {
    const m = /^arn:aws[a-z-]*:rds:([^:]*):(\d{12}):(db|cluster|snapshot|cluster-snapshot):(.+)$/.exec(arn);
    if (!m || m[1] !== this.region || m[2] !== this.accountId) {
      throw new RdsError(
        'InvalidParameterValue',
        `The specified resource name does not match an RDS resource in this region.`,
      );
    }
    const id = m[4]!;
    const kind = m[3]!;
    switch (kind) {
      case 'db':
        return this.getInstance(id).tags;
      case 'cluster':
        return this.getCluster(id).tags;
      case 'snapshot':
        return this.getSnapshot(id).tags;
      default:
        return this.getClusterSnapshot(id).tags;
    }
  }

  addTags(arn: string, tags: Tag[]): void {
    const current = this.tagsOf(arn);
    const merged = mergeTags(current, tags);
    current.splice(0, current.length, ...merged);
  }

  private snapshotDurationMs(source: { snapshotSeconds?: number }): number {
    return (source.snapshotSeconds ?? this.snapshotSeconds) * 1000 * this.timeScale;
  }
}
