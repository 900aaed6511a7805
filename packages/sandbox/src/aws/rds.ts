import { el, queryList, raw, xmlList } from './query.js';
import { RdsError, type DbCluster, type DbInstance, type Snapshot, type Tag } from './rds-model.js';
import type { RdsState } from './rds-state.js';

export const RDS_NAMESPACE = 'http://rds.amazonaws.com/doc/2014-10-31/';

/** Runs one RDS Query action; returns the inner XML of `<ActionResult>` or throws RdsError. */
export function handleRdsAction(state: RdsState, action: string, params: Map<string, string>): string {
  switch (action) {
    case 'DescribeDBInstances':
      return describeInstances(state, params);
    case 'DescribeDBClusters':
      return describeClusters(state, params);
    case 'CreateDBSnapshot': {
      const snapshot = state.createSnapshot(
        'instance',
        required(params, 'DBSnapshotIdentifier'),
        required(params, 'DBInstanceIdentifier'),
        tagsParam(params),
      );
      return raw('DBSnapshot', snapshotXml(state, snapshot));
    }
    case 'CreateDBClusterSnapshot': {
      const snapshot = state.createSnapshot(
        'cluster',
        required(params, 'DBClusterSnapshotIdentifier'),
        required(params, 'DBClusterIdentifier'),
        tagsParam(params),
      );
      return raw('DBClusterSnapshot', clusterSnapshotXml(state, snapshot));
    }
    case 'DescribeDBSnapshots':
      return describeSnapshots(state, params, 'instance');
    case 'DescribeDBClusterSnapshots':
      return describeSnapshots(state, params, 'cluster');
    case 'DeleteDBSnapshot': {
      const snapshot = state.deleteSnapshot('instance', required(params, 'DBSnapshotIdentifier'));
      return raw('DBSnapshot', snapshotXml(state, snapshot));
    }
    case 'DeleteDBClusterSnapshot': {
      const snapshot = state.deleteSnapshot('cluster', required(params, 'DBClusterSnapshotIdentifier'));
      return raw('DBClusterSnapshot', clusterSnapshotXml(state, snapshot));
    }
    case 'AddTagsToResource':
      state.addTags(required(params, 'ResourceName'), tagsParam(params));
      return '';
    case 'ListTagsForResource':
      return tagListXml(state.tagsOf(required(params, 'ResourceName')));
    default:
      throw new RdsError('InvalidAction', `Could not find operation ${action} for version 2014-10-31`);
  }
}

function required(params: Map<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') {
    throw new RdsError('MissingParameter', `The request must contain the parameter ${name}`);
  }
  return value;
}

function tagsParam(params: Map<string, string>): Tag[] {
  return queryList(params, 'Tags').map((item) => {
    const key = item.get('Key');
    if (key === undefined || key === '')
      throw new RdsError('InvalidParameterValue', 'Tag keys must not be empty.');
    return { Key: key, Value: item.get('Value') ?? '' };
  });
}

/** Filters.Filter.N.Name / Values.Value.M → name → accepted values. */
function filtersParam(params: Map<string, string>, allowed: string[]): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (const item of queryList(params, 'Filters')) {
    const name = item.get('Name') ?? '';
    if (!allowed.includes(name)) {
      throw new RdsError('InvalidParameterValue', `Unrecognized filter name: ${name}.`);
    }
    const values = [...item.entries()]
      .filter(([k]) => /^Values\.(?:[A-Za-z]+\.)?\d+$/.test(k))
      .map(([, v]) => v);
    filters.set(name, values);
  }
  return filters;
}

function matches(filters: Map<string, string[]>, name: string, value: string | undefined): boolean {
  const accepted = filters.get(name);
  return accepted === undefined || (value !== undefined && accepted.includes(value));
}

/** MaxRecords (20–100, default 100) and Marker (an offset we hand out). */
function page<T>(params: Map<string, string>, items: T[]): { items: T[]; marker?: string } {
  const maxParam = params.get('MaxRecords');
  const max = maxParam === undefined ? 100 : Number(maxParam);
  if (!Number.isInteger(max) || max < 20 || max > 100) {
    throw new RdsError(
      'InvalidParameterValue',
      `Invalid value ${maxParam ?? ''} for MaxRecords. Must be between 20 and 100`,
    );
  }
  const markerParam = params.get('Marker');
  let start = 0;
  if (markerParam !== undefined && markerParam !== '') {
    const decoded = Buffer.from(markerParam, 'base64url').toString('utf8');
    const m = /^offset:(\d+)$/.exec(decoded);
    if (!m) throw new RdsError('InvalidParameterValue', `Invalid marker: ${markerParam}`);
    start = Number(m[1]);
  }
  const slice = items.slice(start, start + max);
  const next = start + max;
  return next < items.length
    ? { items: slice, marker: Buffer.from(`offset:${next}`).toString('base64url') }
    : { items: slice };
}

function tagListXml(tags: Tag[]): string {
  return xmlList(
    'TagList',
    'Tag',
    tags.map((t) => el('Key', t.Key) + el('Value', t.Value)),
  );
}

function describeInstances(state: RdsState, params: Map<string, string>): string {
  const filters = filtersParam(params, ['db-instance-id', 'db-cluster-id', 'dbi-resource-id', 'engine']);
  const id = params.get('DBInstanceIdentifier');
  let instances = id !== undefined ? [state.getInstance(id)] : [...state.instances.values()];
  instances = instances.filter(
    (i) =>
      matches(filters, 'db-instance-id', i.id) &&
      matches(filters, 'db-cluster-id', i.clusterId) &&
      matches(filters, 'dbi-resource-id', i.resourceId) &&
      matches(filters, 'engine', i.engine),
  );
  const { items, marker } = page(params, instances);
  return (
    xmlList(
      'DBInstances',
      'DBInstance',
      items.map((i) => instanceXml(state, i)),
    ) + el('Marker', marker)
  );
}

function instanceXml(state: RdsState, i: DbInstance): string {
  const port = i.engine.includes('mysql') || i.engine.includes('maria') ? 3306 : 5432;
  return (
    el('DBInstanceIdentifier', i.id) +
    el('DBInstanceClass', i.instanceClass) +
    el('Engine', i.engine) +
    el('DBInstanceStatus', state.instanceStatus(i.id)) +
    el('MasterUsername', 'planner') +
    raw(
      'Endpoint',
      el('Address', `${i.id}.c0sandbox0000.${state.region}.rds.amazonaws.com`) +
        el('Port', port) +
        el('HostedZoneId', 'Z2R2ITUGPM61AM'),
    ) +
    el('AllocatedStorage', i.allocatedStorage) +
    el('InstanceCreateTime', i.createdAt) +
    el('BackupRetentionPeriod', 7) +
    el('AvailabilityZone', `${state.region}a`) +
    el('MultiAZ', false) +
    el('EngineVersion', i.engineVersion) +
    el('DBClusterIdentifier', i.clusterId) +
    el('StorageType', 'gp3') +
    el('StorageEncrypted', true) +
    el('DbiResourceId', i.resourceId) +
    el('DBInstanceArn', state.arn('db', i.id)) +
    tagListXml(i.tags)
  );
}

function describeClusters(state: RdsState, params: Map<string, string>): string {
  const filters = filtersParam(params, ['db-cluster-id', 'engine']);
  const id = params.get('DBClusterIdentifier');
  let clusters = id !== undefined ? [state.getCluster(id)] : [...state.clusters.values()];
  clusters = clusters.filter(
    (c) => matches(filters, 'db-cluster-id', c.id) && matches(filters, 'engine', c.engine),
  );
  const { items, marker } = page(params, clusters);
  return (
    xmlList(
      'DBClusters',
      'DBCluster',
      items.map((c) => clusterXml(state, c)),
    ) + el('Marker', marker)
  );
}

function clusterXml(state: RdsState, c: DbCluster): string {
  return (
    el('AllocatedStorage', c.allocatedStorage) +
    xmlList(
      'AvailabilityZones',
      'AvailabilityZone',
      ['a', 'b', 'c'].map((z) => `${state.region}${z}`),
    ) +
    el('BackupRetentionPeriod', 7) +
    el('DBClusterIdentifier', c.id) +
    el('Status', state.clusterStatus(c.id)) +
    el('Endpoint', `${c.id}.cluster-c0sandbox0000.${state.region}.rds.amazonaws.com`) +
    el('ReaderEndpoint', `${c.id}.cluster-ro-c0sandbox0000.${state.region}.rds.amazonaws.com`) +
    el('MultiAZ', c.members.length > 1) +
    el('Engine', c.engine) +
    el('EngineVersion', c.engineVersion) +
    el('Port', c.engine.includes('mysql') ? 3306 : 5432) +
    el('MasterUsername', 'planner') +
    xmlList(
      'DBClusterMembers',
      'DBClusterMember',
      c.members.map(
        (m, index) =>
          el('DBInstanceIdentifier', m) + el('IsClusterWriter', index === 0) + el('PromotionTier', 1),
      ),
    ) +
    el('StorageEncrypted', true) +
    el('DbClusterResourceId', c.resourceId) +
    el('DBClusterArn', state.arn('cluster', c.id)) +
    el('ClusterCreateTime', c.createdAt) +
    tagListXml(c.tags)
  );
}

function describeSnapshots(
  state: RdsState,
  params: Map<string, string>,
  kind: 'instance' | 'cluster',
): string {
  const cluster = kind === 'cluster';
  const idParam = params.get(cluster ? 'DBClusterSnapshotIdentifier' : 'DBSnapshotIdentifier');
  const sourceParam = params.get(cluster ? 'DBClusterIdentifier' : 'DBInstanceIdentifier');
  const typeParam = params.get('SnapshotType');
  if (
    typeParam !== undefined &&
    !['automated', 'manual', 'shared', 'public', 'awsbackup'].includes(typeParam)
  ) {
    throw new RdsError('InvalidParameterValue', `Invalid snapshot type: ${typeParam}`);
  }
  const filters = filtersParam(
    params,
    cluster
      ? ['db-cluster-id', 'db-cluster-snapshot-id', 'snapshot-type', 'engine']
      : ['db-instance-id', 'db-snapshot-id', 'dbi-resource-id', 'snapshot-type', 'engine'],
  );
  let snapshots: Snapshot[];
  if (idParam !== undefined) {
    // Naming a snapshot that does not exist is an error, unlike filtering by database.
    snapshots = [cluster ? state.getClusterSnapshot(idParam) : state.getSnapshot(idParam)];
  } else {
    snapshots = cluster ? state.clusterSnapshots : state.snapshots;
  }
  const sourceId = sourceParam?.toLowerCase();
  snapshots = snapshots.filter((s) => {
    if (sourceId !== undefined && s.sourceId !== sourceId) return false;
    if (typeParam !== undefined ? s.type !== typeParam : false) return false;
    const resourceId = cluster ? undefined : state.instances.get(s.sourceId)?.resourceId;
    return cluster
      ? matches(filters, 'db-cluster-id', s.sourceId) &&
          matches(filters, 'db-cluster-snapshot-id', s.id) &&
          matches(filters, 'snapshot-type', s.type) &&
          matches(filters, 'engine', s.engine)
      : matches(filters, 'db-instance-id', s.sourceId) &&
          matches(filters, 'db-snapshot-id', s.id) &&
          matches(filters, 'dbi-resource-id', resourceId) &&
          matches(filters, 'snapshot-type', s.type) &&
          matches(filters, 'engine', s.engine);
  });
  const { items, marker } = page(params, snapshots);
  return (
    (cluster
      ? xmlList(
          'DBClusterSnapshots',
          'DBClusterSnapshot',
          items.map((s) => clusterSnapshotXml(state, s)),
        )
      : xmlList(
          'DBSnapshots',
          'DBSnapshot',
          items.map((s) => snapshotXml(state, s)),
        )) + el('Marker', marker)
  );
}

function snapshotXml(state: RdsState, s: Snapshot): string {
  const instance = state.instances.get(s.sourceId);
  return (
    el('DBSnapshotIdentifier', s.id) +
    el('DBInstanceIdentifier', s.sourceId) +
    el('SnapshotCreateTime', s.createdAt) +
    el('Engine', s.engine) +
    el('AllocatedStorage', s.allocatedStorage) +
    el('Status', state.status(s)) +
    el('Port', s.engine.includes('mysql') ? 3306 : 5432) +
    el('AvailabilityZone', `${state.region}a`) +
    el('VpcId', 'vpc-0sandbox') +
    el('InstanceCreateTime', s.sourceCreatedAt) +
    el('MasterUsername', 'planner') +
    el('EngineVersion', s.engineVersion) +
    el('LicenseModel', s.engine.startsWith('postgres') ? 'postgresql-license' : 'general-public-license') +
    el('SnapshotType', s.type) +
    el('PercentProgress', state.progress(s)) +
    el('StorageType', 'gp3') +
    el('Encrypted', true) +
    el('DBSnapshotArn', state.arn('snapshot', s.id)) +
    el('IAMDatabaseAuthenticationEnabled', false) +
    el('DbiResourceId', instance?.resourceId) +
    tagListXml(s.tags) +
    el('OriginalSnapshotCreateTime', s.createdAt) +
    el('SnapshotTarget', 'region')
  );
}

function clusterSnapshotXml(state: RdsState, s: Snapshot): string {
  const cluster = state.clusters.get(s.sourceId);
  return (
    xmlList(
      'AvailabilityZones',
      'AvailabilityZone',
      ['a', 'b', 'c'].map((z) => `${state.region}${z}`),
    ) +
    el('DBClusterSnapshotIdentifier', s.id) +
    el('DBClusterIdentifier', s.sourceId) +
    el('SnapshotCreateTime', s.createdAt) +
    el('Engine', s.engine) +
    el('EngineMode', 'provisioned') +
    el('AllocatedStorage', s.allocatedStorage) +
    el('Status', state.status(s)) +
    el('Port', 0) +
    el('VpcId', 'vpc-0sandbox') +
    el('ClusterCreateTime', s.sourceCreatedAt) +
    el('MasterUsername', 'planner') +
    el('EngineVersion', s.engineVersion) +
    el('LicenseModel', s.engine.startsWith('aurora-postgresql') ? 'postgresql-license' : 'amazon-aurora') +
    el('SnapshotType', s.type) +
    el('PercentProgress', state.progress(s)) +
    el('StorageEncrypted', true) +
    el('DBClusterSnapshotArn', state.arn('cluster-snapshot', s.id)) +
    el('IAMDatabaseAuthenticationEnabled', false) +
    tagListXml(s.tags) +
    el('DbClusterResourceId', cluster?.resourceId)
  );
}
