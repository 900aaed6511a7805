/** RDS's resources, errors and identifier rules, as the sandbox models them. */
/** An error the RDS endpoint answers with: the wire code (what the SDK maps to an exception class) and HTTP status. */
export class RdsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface Tag {
  Key: string;
  Value: string;
}

export interface DbInstance {
  id: string;
  status: string;
  engine: string;
  engineVersion: string;
  instanceClass: string;
  clusterId?: string;
  createdAt: Date;
  resourceId: string;
  allocatedStorage: number;
  /** Simulated seconds a snapshot of this database takes; the sandbox default when unset. */
  snapshotSeconds?: number;
  tags: Tag[];
}

export interface DbCluster {
  id: string;
  status: string;
  engine: string;
  engineVersion: string;
  members: string[];
  createdAt: Date;
  resourceId: string;
  allocatedStorage: number;
  snapshotSeconds?: number;
  tags: Tag[];
}

export type SnapshotType = 'manual' | 'automated';

/** A DB snapshot or a DB cluster snapshot; `kind` says which. */
export interface Snapshot {
  kind: 'instance' | 'cluster';
  id: string;
  /** The DB instance or DB cluster it was taken from. */
  sourceId: string;
  type: SnapshotType;
  engine: string;
  engineVersion: string;
  allocatedStorage: number;
  createdAt: Date;
  sourceCreatedAt: Date;
  /** Real milliseconds from createdAt until the snapshot leaves `creating`; 0 = already done. */
  durationMs: number;
  /** The status once creation is over. */
  outcome: 'available' | 'failed';
  deleted: boolean;
  tags: Tag[];
}

export interface RdsFaults {
  /** Share of RDS requests (0..1) answered with `Throttling`, spread evenly (0.5 = every other request). */
  throttle?: number;
  /** The next snapshot created ends `failed` instead of `available`. */
  nextSnapshotFails?: boolean;
  /** Share of RDS requests (0..1) answered 500 InternalFailure, spread evenly like `throttle`. */
  internalError?: number;
}

export interface AddInstanceOptions {
  id: string;
  status?: string;
  engine?: string;
  engineVersion?: string;
  instanceClass?: string;
  clusterId?: string;
  snapshotSeconds?: number;
  tags?: Tag[];
}

export interface AddClusterOptions {
  id: string;
  status?: string;
  engine?: string;
  engineVersion?: string;
  /** DB instances to create as members of the cluster (identifiers). */
  members?: string[];
  snapshotSeconds?: number;
  tags?: Tag[];
}

export interface AddSnapshotOptions {
  id: string;
  /** The DB instance (or, with `cluster: true`, the DB cluster) the snapshot belongs to. */
  sourceId: string;
  cluster?: boolean;
  type?: SnapshotType;
  status?: 'available' | 'creating' | 'failed';
  createdAt?: Date;
  tags?: Tag[];
}

export const MANUAL_SNAPSHOT_QUOTA = 100;

export const INSTANCE_ID_RULES =
  'Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.';

/** The letters/digits/hyphens rule of RDS identifiers, with a maximum length. */
export function isValidRdsIdentifier(id: string, maxLength: number): boolean {
  return (
    id.length >= 1 &&
    id.length <= maxLength &&
    /^[A-Za-z][A-Za-z0-9-]*$/.test(id) &&
    !id.endsWith('-') &&
    !id.includes('--')
  );
}

/** Adds tags; a key that exists gets the new value. */
export function mergeTags(current: Tag[], added: Tag[]): Tag[] {
  const byKey = new Map(current.map((t) => [t.Key, t.Value]));
  for (const t of added) byKey.set(t.Key, t.Value);
  return [...byKey].map(([Key, Value]) => ({ Key, Value }));
}
