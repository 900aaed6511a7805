/**
 * Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the columns kubectl
 * shows, computed as pkg/printers/internalversion/printers.go does.
 */
import type { KubeObject, Resource } from './store.js';
import { formatLabelSelector } from './selectors.js';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

const col = (name: string, description: string, priority = 0, type = 'string', format = ''): Column => ({
  name,
  type,
  format,
  description,
  priority,
});

const NAME = col('Name', 'Name must be unique within a namespace.', 0, 'string', 'name');
const AGE = col(
  'Age',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
);

const COLUMNS: Record<Resource, Column[]> = {
  deployments: [
    NAME,
    col('Ready', 'Number of the pod with ready state'),
    col(
      'Up-to-date',
      'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
      0,
      'number',
    ),
    col(
      'Available',
      'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
      0,
      'number',
    ),
    AGE,
    col('Containers', 'Names of each container in the template.', 1),
    col('Images', 'Images referenced by each container in the template.', 1),
    col(
      'Selector',
      'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
      1,
    ),
  ],
  replicasets: [
    NAME,
    col('Desired', 'Replicas is the number of desired replicas.', 0, 'integer'),
    col('Current', 'Replicas is the most recently observed number of replicas.', 0, 'integer'),
    col('Ready', 'The number of ready replicas for this replica set.', 0, 'integer'),
    AGE,
    col('Containers', 'Names of each container in the template.', 1),
    col('Images', 'Images referenced by each container in the template.', 1),
    col('Selector', 'Selector is a label query over pods that should match the replica count.', 1),
  ],
  pods: [
    NAME,
    col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'The aggregate status of the containers in this pod.'),
    col(
      'Restarts',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE,
    col(
      'IP',
      'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
      1,
    ),
    col('Node', 'NodeName is a request to schedule this pod onto a specific node.', 1),
    col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
    col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  jobs: [
    NAME,
    col('Status', 'Status of the job.'),
    col('Completions', 'The desired number of successfully finished pods the job should be run with.'),
    col('Duration', 'Time required to complete the job.'),
    AGE,
    col('Containers', 'Names of each container in the template.', 1),
    col('Images', 'Images referenced by each container in the template.', 1),
    col('Selector', 'A label query over pods that should match the pod count.', 1),
  ],
  namespaces: [NAME, col('Status', 'The status of the namespace'), AGE],
  nodes: [
    NAME,
    col('Status', 'The status of the node'),
    col('Roles', 'The roles of the node'),
    AGE,
    col('Version', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'List of addresses reachable to the node.', 1),
    col('External-IP', 'List of addresses reachable to the node.', 1),
    col(
      'OS-Image',
      'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      1,
    ),
    col(
      'Kernel-Version',
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      1,
    ),
    col(
      'Container-Runtime',
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      1,
    ),
  ],
  configmaps: [NAME, col('Data', 'Data contains the configuration data.', 0, 'integer'), AGE],
  events: [
    col('Last Seen', 'The time since the event was last seen'),
    col('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
    col(
      'Reason',
      'This should be a short, machine understandable string that gives the reason for this event being generated.',
    ),
    col('Object', 'The object that this event is about.'),
    col('Subobject', 'The subobject that this event is about.', 1),
    col('Source', 'The component reporting this event.', 1),
    col('Message', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'The time at which the most recent occurrence of this event was recorded.', 1),
    col('Count', 'The number of times this event has occurred.', 1),
    col('Name', 'The name of this event.', 1),
  ],
};

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function since(ts: string | undefined, now: Date): string {
  if (!ts) return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now.getTime() - t);
}

const containerNames = (tpl: any): string =>
  ((tpl?.spec?.containers ?? []) as any[]).map((c) => c.name).join(',');
const containerImages = (tpl: any): string =>
  ((tpl?.spec?.containers ?? []) as any[]).map((c) => c.image).join(',');

function hasCondition(o: KubeObject, type: string): boolean {
  return ((o.status?.conditions ?? []) as any[]).some((c) => c.type === type && c.status === 'True');
}

function podCells(pod: KubeObject, now: Date): unknown[] {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  let readyContainers = 0;
  let lastRestart = 0;
  const total = (spec.containers ?? []).length;
  let reason: string = status.phase ?? '';
  if (status.reason) reason = status.reason;
  let initializing = false;
  const inits = (status.initContainerStatuses ?? []) as any[];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    restarts += c.restartCount ?? 0;
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (term)
      reason = term.reason
        ? `Init:${term.reason}`
        : term.signal
          ? `Init:Signal:${term.signal}`
          : `Init:ExitCode:${term.exitCode}`;
    else if (wait?.reason && wait.reason !== 'PodInitializing') reason = `Init:${wait.reason}`;
    else reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    initializing = true;
    break;
  }
  const initializedTrue = ((status.conditions ?? []) as any[]).some(
    (c) => c.type === 'Initialized' && c.status === 'True',
  );
  if (!initializing || initializedTrue) {
    restarts = 0;
    let hasRunning = false;
    const statuses = (status.containerStatuses ?? []) as any[];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      const finished = c.lastState?.terminated?.finishedAt;
      if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished) || 0);
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) {
        reason = c.state.terminated.signal
          ? `Signal:${c.state.terminated.signal}`
          : `ExitCode:${c.state.terminated.exitCode}`;
      } else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(pod, 'Ready') ? 'Running' : 'NotReady';
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  const restartsText =
    restarts !== 0 && lastRestart > 0
      ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`
      : String(restarts);
  const gates = (spec.readinessGates ?? []) as any[];
  const gatesText =
    gates.length === 0
      ? '<none>'
      : `${gates.filter((g) => hasCondition(pod, g.conditionType)).length}/${gates.length}`;
  return [
    pod.metadata.name,
    `${readyContainers}/${total}`,
    reason,
    restartsText,
    since(pod.metadata.creationTimestamp, now),
    status.podIP ?? '<none>',
    spec.nodeName ?? '<none>',
    status.nominatedNodeName ?? '<none>',
    gatesText,
  ];
}

function jobCells(job: KubeObject, now: Date): unknown[] {
  const spec = job.spec ?? {};
  const status = job.status ?? {};
  let state = 'Running';
  if (hasCondition(job, 'Complete')) state = 'Complete';
  else if (hasCondition(job, 'Failed')) state = 'Failed';
  else if (job.metadata.deletionTimestamp) state = 'Terminating';
  else if (hasCondition(job, 'SuccessCriteriaMet')) state = 'SuccessCriteriaMet';
  else if (hasCondition(job, 'Suspended')) state = 'Suspended';
  else if (hasCondition(job, 'FailureTarget')) state = 'FailureTarget';
  let completions: string;
  if (spec.completions !== undefined && spec.completions !== null)
    completions = `${status.succeeded ?? 0}/${spec.completions}`;
  else completions = `${status.succeeded ?? 0}/1 of ${spec.parallelism ?? 1}`;
  let duration = '';
  if (status.startTime) {
    const start = Date.parse(status.startTime);
    const end = status.completionTime ? Date.parse(status.completionTime) : now.getTime();
    duration = humanDuration(end - start);
  }
  return [
    job.metadata.name,
    state,
    completions,
    duration,
    since(job.metadata.creationTimestamp, now),
    containerNames(spec.template),
    containerImages(spec.template),
    formatLabelSelector(spec.selector),
  ];
}

function eventCells(ev: KubeObject, now: Date): unknown[] {
  const o = ev as any;
  const last = o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp;
  const first = o.firstTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp;
  const inv = o.involvedObject ?? {};
  const source = o.source?.component
    ? o.source.host
      ? `${o.source.component}, ${o.source.host}`
      : o.source.component
    : (o.reportingComponent ?? '');
  return [
    since(last, now),
    o.type ?? '',
    o.reason ?? '',
    `${String(inv.kind ?? '').toLowerCase()}/${inv.name ?? ''}`,
    inv.fieldPath ?? '',
    source,
    String(o.message ?? '').trim(),
    since(first, now),
    o.count ?? 1,
    o.metadata.name,
  ];
}

/** printers.go printNode: Ready/NotReady/Unknown (+ SchedulingDisabled), roles from node-role labels. */
function nodeCells(node: KubeObject, now: Date): unknown[] {
  const status = node.status ?? {};
  const ready = ((status.conditions ?? []) as any[]).find((c) => c.type === 'Ready');
  const states = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'];
  if (node.spec?.unschedulable) states.push('SchedulingDisabled');
  const roles: string[] = [];
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.push(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.push(v);
  }
  const address = (type: string): string =>
    ((status.addresses ?? []) as any[]).find((a) => a.type === type)?.address ?? '<none>';
  const info = status.nodeInfo ?? {};
  return [
    node.metadata.name,
    states.join(','),
    roles.length ? roles.sort().join(',') : '<none>',
    since(node.metadata.creationTimestamp, now),
    info.kubeletVersion ?? '',
    address('InternalIP'),
    address('ExternalIP'),
    info.osImage || '<unknown>',
    info.kernelVersion || '<unknown>',
    info.containerRuntimeVersion || '<unknown>',
  ];
}

export function tableCells(resource: Resource, o: KubeObject, now: Date): unknown[] {
  const spec = o.spec ?? {};
  const status = o.status ?? {};
  switch (resource) {
    case 'deployments':
      return [
        o.metadata.name,
        `${status.readyReplicas ?? 0}/${spec.replicas ?? 0}`,
        status.updatedReplicas ?? 0,
        status.availableReplicas ?? 0,
        since(o.metadata.creationTimestamp, now),
        containerNames(spec.template),
        containerImages(spec.template),
        formatLabelSelector(spec.selector),
      ];
    case 'replicasets':
      return [
        o.metadata.name,
        spec.replicas ?? 0,
        status.replicas ?? 0,
        status.readyReplicas ?? 0,
        since(o.metadata.creationTimestamp, now),
        containerNames(spec.template),
        containerImages(spec.template),
        formatLabelSelector(spec.selector),
      ];
    case 'pods':
      return podCells(o, now);
    case 'jobs':
      return jobCells(o, now);
    case 'namespaces':
      return [o.metadata.name, status.phase ?? '', since(o.metadata.creationTimestamp, now)];
    case 'events':
      return eventCells(o, now);
    case 'nodes':
      return nodeCells(o, now);
    case 'configmaps': {
      const data = Object.keys((o.data as object | undefined) ?? {}).length;
      return [
        o.metadata.name,
        data + Object.keys((o.binaryData as object | undefined) ?? {}).length,
        since(o.metadata.creationTimestamp, now),
      ];
    }
  }
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** A meta.k8s.io/v1 Table with one row per object. */
export function toTable(
  resource: Resource,
  objects: KubeObject[],
  opts: { now: Date; resourceVersion?: string; includeObject?: IncludeObject; noHeaders?: boolean },
): Record<string, unknown> {
  const include = opts.includeObject ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {},
    columnDefinitions: opts.noHeaders ? null : COLUMNS[resource],
    rows: objects.map((o) => ({
      cells: tableCells(resource, o, opts.now),
      object:
        include === 'None'
          ? null
          : include === 'Object'
            ? o
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

/** Whether the Accept header asks for a Table (kubectl get). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0] ?? '';
  return /(^|;)\s*as=Table(\s*;|$)/.test(first);
}
