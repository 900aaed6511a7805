/**
 * EKS on Fargate: the Fargate profiles of the cluster, the admission webhook that marks a pod a profile
 * selects (schedulerName fargate-scheduler, the `eks.amazonaws.com/fargate-profile` annotation), and the
 * two schedulers a Fargate-only cluster has:
 *
 * - fargate-scheduler: after a provisioning delay (on the Clock), creates the pod's own Node
 *   (`fargate-ip-10-0-x-y.<region>.compute.internal`, labelled `eks.amazonaws.com/compute-type: fargate`
 *   and tainted with it), binds the pod to it with the `CapacityProvisioned` annotation, and warns
 *   `LoggingDisabled` at once when there is no `aws-logging` ConfigMap in `aws-observability`;
 * - default-scheduler: sees only fargate nodes, all tainted, so a pod no profile selected stays Pending
 *   with `PodScheduled=False/Unschedulable` and a FailedScheduling event naming the taint. The webhook only
 *   acts when a pod is created: a profile added later does not rescue a Pending pod (as on EKS).
 *
 * The kubelet calls `place()` for every pod without a node and runs the containers once it is bound.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, ClockHandle } from '../clock.js';
import { rfc3339, type KubeObject, type ObjectStore, type Resource } from '../store.js';
import { EventRecorder, type EventSource } from './runtime.js';

export const FARGATE_SCHEDULER = 'fargate-scheduler';
export const FARGATE_PROFILE_ANNOTATION = 'eks.amazonaws.com/fargate-profile';
export const COMPUTE_TYPE_LABEL = 'eks.amazonaws.com/compute-type';
export const CAPACITY_ANNOTATION = 'CapacityProvisioned';
export const LOGGING_NAMESPACE = 'aws-observability';
export const LOGGING_CONFIGMAP = 'aws-logging';
/** Simulated ms from a pod's creation to its fargate node (real EKS: 30–60 s). */
export const DEFAULT_PROVISIONING_MS = 30_000;

/** One selector of a Fargate profile, as the EKS API returns it. */
export interface FargateSelector {
  /** A namespace, or a pattern with `*` and `?`. */
  namespace: string;
  /** Every label must be on the pod (values may use `*` and `?`). */
  labels?: Record<string, string>;
}

export interface FargateProfileSpec {
  name: string;
  selectors: FargateSelector[];
  subnets?: string[];
  podExecutionRoleArn?: string;
  tags?: Record<string, string>;
}

export interface FargateOptions {
  profiles: FargateProfileSpec[];
  /** Region in the node names and topology labels (default us-east-1). */
  region?: string;
  /** Simulated ms from creation to the pod's own node (default 30 s). */
  provisioningMs?: number;
}

/** What the kubelet needs from a scheduler that decides which node a pod runs on. */
export interface PodPlacement {
  /**
   * Takes a pod without a node. Returns false when the pod is left to the default one-node scheduling;
   * otherwise calls `bind` (outside the call) with the bound pod and its node once it may run — never, for
   * a pod that stays Pending.
   */
  place(pod: KubeObject, bind: (pod: KubeObject, node: { name: string; ip: string }) => void): boolean;
  /** The pod is gone: cancel what was pending for it and remove its node. */
  release(pod: KubeObject): void;
}

const FARGATE_SOURCE = { component: FARGATE_SCHEDULER };
const DEFAULT_SCHEDULER = { component: 'default-scheduler' };
const KUBELET_VERSION = 'v1.32.3-eks-473151a';

/** `*` and `?` as EKS profile selectors take them. */
function globMatch(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

export function selectorMatches(
  selector: FargateSelector,
  namespace: string,
  labels: Record<string, string>,
): boolean {
  if (!globMatch(selector.namespace, namespace)) return false;
  return Object.entries(selector.labels ?? {}).every(
    ([k, v]) => labels[k] !== undefined && globMatch(v, labels[k]),
  );
}

/**
 * The profile that takes a pod: one of its selectors matches. When several profiles match, a pod's
 * `eks.amazonaws.com/fargate-profile` label picks one of them; otherwise EKS picks any — here the first by
 * name, so runs repeat.
 */
export function profileFor(
  profiles: FargateProfileSpec[],
  namespace: string,
  labels: Record<string, string>,
): FargateProfileSpec | undefined {
  const matching = profiles
    .filter((p) => p.selectors.some((s) => selectorMatches(s, namespace, labels)))
    .sort((a, b) => a.name.localeCompare(b.name));
  return matching.find((p) => p.name === labels[FARGATE_PROFILE_ANNOTATION]) ?? matching[0];
}

export interface FargateDeps {
  store: ObjectStore;
  clock: Clock;
  events: EventRecorder;
}

type Bind = (pod: KubeObject, node: { name: string; ip: string }) => void;

interface Pending {
  pod: KubeObject;
  bind: Bind;
  timer?: ClockHandle | undefined;
  node?: string;
}

export class FargateScheduler implements PodPlacement {
  private options: FargateOptions | undefined;
  private removeAdmission: (() => void) | undefined;
  private readonly pending = new Map<string, Pending>();
  private ipCounter = 0;

  constructor(private readonly d: FargateDeps) {}

  /** Whether the cluster is EKS on Fargate. */
  get enabled(): boolean {
    return this.options !== undefined;
  }

  /** The profiles now (copies). */
  profiles(): FargateProfileSpec[] {
    return structuredClone(this.options?.profiles ?? []);
  }

  get region(): string {
    return this.options?.region ?? 'us-east-1';
  }

  /** Makes the cluster Fargate-only (or changes its profiles): pods created from now on are placed by it. */
  enable(options: FargateOptions): void {
    this.options = structuredClone(options);
    this.removeAdmission ??= this.d.store.addAdmission((resource, obj) => this.admit(resource, obj));
  }

  addProfile(profile: FargateProfileSpec): void {
    if (!this.options) throw new Error('Fargate is not enabled on this sandbox');
    this.options.profiles = [...this.options.profiles.filter((p) => p.name !== profile.name), profile];
  }

  stop(): void {
    this.removeAdmission?.();
    this.removeAdmission = undefined;
    for (const p of this.pending.values()) if (p.timer) this.d.clock.clearTimeout(p.timer);
    this.pending.clear();
  }

  /** The Fargate mutating webhook: runs when a pod is created. */
  private admit(resource: Resource, pod: KubeObject): void {
    if (resource !== 'pods' || !this.options || pod.spec?.nodeName) return;
    const schedulerName = pod.spec?.schedulerName;
    if (schedulerName !== undefined && schedulerName !== 'default-scheduler') return;
    const ns = pod.metadata.namespace ?? 'default';
    const profile = profileFor(this.options.profiles, ns, pod.metadata.labels ?? {});
    if (!profile) return;
    pod.spec.schedulerName = FARGATE_SCHEDULER;
    pod.metadata.annotations = {
      ...(pod.metadata.annotations ?? {}),
      [FARGATE_PROFILE_ANNOTATION]: profile.name,
    };
  }

  place(pod: KubeObject, bind: Bind): boolean {
    if (!this.options) return false;
    const uid = pod.metadata.uid;
    if (this.pending.has(uid)) return true;
    const entry: Pending = { pod, bind };
    this.pending.set(uid, entry);
    if (pod.spec?.schedulerName !== FARGATE_SCHEDULER) {
      this.unschedulable(entry);
      return true;
    }
    const logging = this.loggingConfigMap();
    if (!logging) {
      this.d.events.record(
        pod,
        'Warning',
        'LoggingDisabled',
        `Disabled logging because ${LOGGING_CONFIGMAP} configmap was not found. configmap "${LOGGING_CONFIGMAP}" not found`,
        FARGATE_SOURCE,
      );
    }
    entry.timer = this.d.clock.setTimeout(
      () => this.provisioned(entry),
      this.options.provisioningMs ?? DEFAULT_PROVISIONING_MS,
    );
    return true;
  }

  release(pod: KubeObject): void {
    const uid = pod.metadata.uid;
    const entry = this.pending.get(uid);
    if (!entry) return;
    if (entry.timer) this.d.clock.clearTimeout(entry.timer);
    this.pending.delete(uid);
    const nodeName =
      entry.node ?? (pod.spec?.schedulerName === FARGATE_SCHEDULER ? pod.spec?.nodeName : undefined);
    if (nodeName) {
      this.d.store.delete('nodes', undefined, nodeName);
      this.refreshUnschedulable();
    }
    this.d.events.forget(uid);
  }

  private loggingConfigMap(): KubeObject | undefined {
    return this.d.store.get('configmaps', LOGGING_NAMESPACE, LOGGING_CONFIGMAP);
  }

  private provisioned(entry: Pending): void {
    entry.timer = undefined;
    const uid = entry.pod.metadata.uid;
    const ns = entry.pod.metadata.namespace ?? 'default';
    const current = this.d.store.get('pods', ns, entry.pod.metadata.name);
    if (current?.metadata.uid !== uid) return;
    const { name, ip } = this.createNode();
    entry.node = name;
    const logging = this.loggingConfigMap()
      ? 'LoggingEnabled'
      : 'LoggingDisabled: LOGGING_CONFIGMAP_NOT_FOUND';
    const bound = this.d.store.mutate('pods', ns, current.metadata.name, (p) => {
      p.spec.nodeName = name;
      p.metadata.annotations = {
        ...(p.metadata.annotations ?? {}),
        [CAPACITY_ANNOTATION]: capacityFor(p),
        Logging: logging,
      };
    });
    if (!bound) return;
    this.d.events.record(
      bound,
      'Normal',
      'Scheduled',
      `Successfully assigned ${ns}/${bound.metadata.name} to ${name}`,
      FARGATE_SOURCE,
    );
    entry.bind(bound, { name, ip });
    this.refreshUnschedulable();
  }

  private createNode(): { name: string; ip: string } {
    const n = this.ipCounter++;
    const ip = `10.0.${1 + (Math.floor(n / 250) % 200)}.${(n % 250) + 4}`;
    const dashed = ip.replace(/\./g, '-');
    const region = this.region;
    const zone = `${region}${n % 2 === 0 ? 'a' : 'b'}`;
    const name = `fargate-ip-${dashed}.${region}.compute.internal`;
    const internalDns = `ip-${dashed}.${region}.compute.internal`;
    const resources = {
      cpu: '2',
      'ephemeral-storage': '30787492Ki',
      'hugepages-1Gi': '0',
      'hugepages-2Mi': '0',
      memory: '3944480Ki',
      pods: '1',
    };
    const now = rfc3339(this.d.clock.now());
    const condition = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
      reason,
      message,
    });
    this.d.store.create('nodes', {
      metadata: {
        name,
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          [COMPUTE_TYPE_LABEL]: 'fargate',
          'failure-domain.beta.kubernetes.io/region': region,
          'failure-domain.beta.kubernetes.io/zone': zone,
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': internalDns,
          'kubernetes.io/os': 'linux',
          'topology.k8s.aws/zone-id': `use1-az${(n % 2) + 1}`,
          'topology.kubernetes.io/region': region,
          'topology.kubernetes.io/zone': zone,
        },
        annotations: {
          'node.alpha.kubernetes.io/ttl': '0',
          'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        },
      },
      spec: {
        providerID: `aws:///${zone}/${randomBytes(16).toString('hex')}/${name}`,
        taints: [{ key: COMPUTE_TYPE_LABEL, value: 'fargate', effect: 'NoSchedule' }],
      },
      status: {
        capacity: resources,
        allocatable: resources,
        conditions: [
          condition(
            'MemoryPressure',
            'False',
            'KubeletHasSufficientMemory',
            'kubelet has sufficient memory available',
          ),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          condition(
            'PIDPressure',
            'False',
            'KubeletHasSufficientPID',
            'kubelet has sufficient PID available',
          ),
          condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
        ],
        addresses: [
          { type: 'InternalIP', address: ip },
          { type: 'InternalDNS', address: internalDns },
          { type: 'Hostname', address: internalDns },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: randomBytes(16).toString('hex'),
          systemUUID: randomUUID(),
          bootID: randomUUID(),
          kernelVersion: '5.10.234-225.910.amzn2.x86_64',
          osImage: 'Amazon Linux 2',
          containerRuntimeVersion: 'containerd://1.7.27',
          kubeletVersion: KUBELET_VERSION,
          kubeProxyVersion: KUBELET_VERSION,
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    });
    return { name, ip };
  }

  /** What the default scheduler says of a pod it cannot place: only tainted fargate nodes exist. */
  private unschedulableMessage(): string {
    const n = this.d.store.list('nodes').length;
    if (n === 0) return 'no nodes available to schedule pods';
    return `0/${n} nodes are available: ${n} node(s) had untolerated taint {${COMPUTE_TYPE_LABEL}: fargate}. preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`;
  }

  private unschedulable(entry: Pending): void {
    const ns = entry.pod.metadata.namespace ?? 'default';
    const message = this.unschedulableMessage();
    const updated = this.d.store.mutate(
      'pods',
      ns,
      entry.pod.metadata.name,
      (p) => {
        const at = rfc3339(this.d.clock.now());
        const prior = ((p.status?.conditions ?? []) as Record<string, unknown>[]).find(
          (c) => c.type === 'PodScheduled',
        );
        p.status = {
          ...(p.status ?? {}),
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              lastProbeTime: null,
              lastTransitionTime: (prior?.lastTransitionTime as string | undefined) ?? at,
              reason: 'Unschedulable',
              message,
            },
          ],
        };
      },
      { subresource: 'status' },
    );
    if (!updated) return;
    entry.pod = updated;
    this.d.events.record(updated, 'Warning', 'FailedScheduling', message, DEFAULT_SCHEDULER);
  }

  /** The default scheduler tries its Pending pods again when nodes come and go (the message counts them). */
  private refreshUnschedulable(): void {
    for (const entry of this.pending.values()) {
      if (entry.pod.spec?.schedulerName !== FARGATE_SCHEDULER) this.unschedulable(entry);
    }
  }
}

/** Parses a CPU quantity to cores (250m, 1, 0.5). */
function cores(q: unknown): number {
  const s = typeof q === 'string' || typeof q === 'number' ? String(q) : '';
  if (!s) return 0;
  if (s.endsWith('m')) return Number(s.slice(0, -1)) / 1000 || 0;
  return Number(s) || 0;
}

const MEMORY_UNITS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** Parses a memory quantity to bytes (512Mi, 1Gi, 500M). */
function bytes(q: unknown): number {
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(typeof q === 'string' || typeof q === 'number' ? String(q) : '');
  if (!m) return 0;
  return Number(m[1]) * (MEMORY_UNITS[m[2] ?? ''] ?? 1) || 0;
}

/** Fargate's vCPU sizes with their memory range (GB). */
const FARGATE_SIZES: { vcpu: number; memory: number[] }[] = [
  { vcpu: 0.25, memory: [0.5, 1, 2] },
  { vcpu: 0.5, memory: [1, 2, 3, 4] },
  { vcpu: 1, memory: [2, 3, 4, 5, 6, 7, 8] },
  { vcpu: 2, memory: Array.from({ length: 13 }, (_, i) => i + 4) },
  { vcpu: 4, memory: Array.from({ length: 23 }, (_, i) => i + 8) },
];

/**
 * The `CapacityProvisioned` annotation: the smallest Fargate size that holds the pod's requests (the larger
 * of the app containers' sum and the largest init container) plus 256 MB for the node's own components.
 */
export function capacityFor(pod: KubeObject): string {
  const sum = (cs: Record<string, any>[] | undefined, f: (r: Record<string, any>) => number) =>
    (cs ?? []).reduce((t, c) => t + f(c.resources?.requests ?? {}), 0);
  const max = (cs: Record<string, any>[] | undefined, f: (r: Record<string, any>) => number) =>
    Math.max(0, ...(cs ?? []).map((c) => f(c.resources?.requests ?? {})));
  const spec = pod.spec ?? {};
  const cpu = Math.max(
    sum(spec.containers, (r) => cores(r.cpu)),
    max(spec.initContainers, (r) => cores(r.cpu)),
  );
  const memGb =
    Math.max(
      sum(spec.containers, (r) => bytes(r.memory)),
      max(spec.initContainers, (r) => bytes(r.memory)),
    ) /
      2 ** 30 +
    0.25;
  for (const size of FARGATE_SIZES) {
    if (size.vcpu < cpu) continue;
    const memory = size.memory.find((m) => m >= memGb);
    if (memory !== undefined) return `${size.vcpu}vCPU ${memory}GB`;
  }
  return '4vCPU 30GB';
}

/**
 * The kubelet's recorder: a Fargate pod's kubelet events name its own node as their host (kubelet,
 * fargate-ip-…), as each node's kubelet does; every other pod's stay as they were (sandbox-node).
 */
export class NodeEventRecorder extends EventRecorder {
  override record(
    obj: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: EventSource,
    fieldPath?: string,
  ): void {
    const node = obj.spec?.nodeName as string | undefined;
    const onFargate = obj.spec?.schedulerName === FARGATE_SCHEDULER && node;
    const from = source.component === 'kubelet' && onFargate ? { ...source, host: node } : source;
    super.record(obj, type, reason, message, from, fieldPath);
  }
}
