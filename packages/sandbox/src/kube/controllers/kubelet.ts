/**
 * The default scheduler and a simulated kubelet on one node. Every pod is bound to the node, then each
 * container goes through the kubelet's steps, timed on the Clock, with the Events and container states
 * a real node reports:
 *
 *   Scheduled → (volumes) → Pulling → Pulled → Created → Started → running → ready | exit | crash
 *
 * Failures: InvalidImageName; ErrImagePull ↔ ImagePullBackOff (back-off 10 s doubling to 5 min);
 * CreateContainerConfigError for a missing secret/configmap in env/envFrom; FailedMount (stuck in
 * ContainerCreating) for a missing secret/configmap volume; CrashLoopBackOff after the second exit
 * (first restart immediate, then 10 s, 20 s, 40 s … 5 min) with `lastState.terminated`; OOMKilled.
 * What a container does comes from the ImageCatalog at the moment of each step.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, ClockHandle } from '../clock.js';
import type { PodLogs } from '../logs.js';
import { canonicalJson, rfc3339, type Change, type KubeObject, type ObjectStore } from '../store.js';
import { invalidImageMessage, parseImage, type ImageBehaviour, type ImageCatalog } from './catalog.js';
import type { PodPlacement } from './fargate.js';
import { TaskRunner, type EventRecorder } from './runtime.js';
import { keyOf } from './util.js';

export const NODE_NAME = 'sandbox-node';
export const NODE_IP = '172.18.0.2';
const SCHEDULER = { component: 'default-scheduler' };
const KUBELET = { component: 'kubelet', host: NODE_NAME };

const BACKOFF_INITIAL = 10_000;
const BACKOFF_MAX = 300_000;
/** Simulated ms between ErrImagePull and the ImagePullBackOff that follows it. */
const PULL_ERROR_TO_BACKOFF = 1000;

type Waiting = { reason: string; message?: string };
type Running = { startedAt: string };
type Terminated = {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
};
type State = { waiting: Waiting } | { running: Running } | { terminated: Terminated };

interface ContainerRt {
  name: string;
  /** An init container: runs to completion, in order, before the app containers start. */
  init: boolean;
  /** Event fieldPath: spec.containers{name} or spec.initContainers{name}. */
  field: string;
  image: string;
  spec: Record<string, any>;
  state: State;
  lastState: { terminated?: Terminated };
  ready: boolean;
  started: boolean;
  restartCount: number;
  /** Runs so far (the first run has restartCount 0). */
  runs: number;
  containerID?: string;
  imageID: string;
  timers: ClockHandle[];
  /** Consecutive failures for the current back-off (pull, config, crash). */
  backoffStep: number;
  /** Terminated for good (no restart under the pod's restartPolicy). */
  done: boolean;
  /** Bumped on every run so stale timers do nothing. */
  token: number;
}

interface PodRt {
  key: string;
  uid: string;
  namespace: string;
  name: string;
  pod: KubeObject;
  restartPolicy: string;
  containers: ContainerRt[];
  initContainers: ContainerRt[];
  podIP?: string;
  /** The node's IP when a placement bound the pod to a node of its own (Fargate). */
  hostIP?: string;
  startTime?: string;
  sandboxReady: boolean;
  transitions: Map<string, { status: string; at: string }>;
  timers: ClockHandle[];
  mountFailures: number;
  flushQueued: boolean;
  gone: boolean;
}

export interface KubeletDeps {
  store: ObjectStore;
  logs: PodLogs;
  clock: Clock;
  images: ImageCatalog;
  events: EventRecorder;
  /** Decides the node of a pod instead of binding it to the one sandbox node (EKS on Fargate). */
  placement?: PodPlacement;
  onError?: (err: unknown) => void;
}

export class Kubelet {
  private readonly pods = new Map<string, PodRt>();
  private readonly pulled = new Set<string>();
  private ipCounter = 2;
  private stopped = false;
  /** Every step and status write goes through a time-sliced runner (bursts stay off the event loop). */
  private readonly runner: TaskRunner;

  constructor(private readonly d: KubeletDeps) {
    this.runner = new TaskRunner(d.onError);
  }

  /** Adopts the pods that exist at start. */
  start(existing: KubeObject[]): void {
    for (const p of existing) this.admit(p);
  }

  stop(): void {
    this.stopped = true;
    this.runner.stop();
    for (const rt of this.pods.values()) this.cancelAll(rt);
    this.pods.clear();
  }

  onChange(change: Change): void {
    if (change.resource !== 'pods' || this.stopped) return;
    const pod = change.object;
    if (change.type === 'DELETED') {
      this.d.placement?.release(pod);
      const rt = this.pods.get(pod.metadata.uid);
      if (!rt) return;
      rt.gone = true;
      this.cancelAll(rt);
      for (const c of [...rt.initContainers, ...rt.containers]) {
        if (!('running' in c.state)) continue;
        this.d.events.record(rt.pod, 'Normal', 'Killing', `Stopping container ${c.name}`, KUBELET, c.field);
        this.d.logs.endContainer(rt.namespace, rt.name, c.name);
      }
      this.d.logs.removePod(rt.namespace, rt.name);
      this.d.events.forget(rt.uid);
      this.pods.delete(rt.uid);
      return;
    }
    if (change.type === 'ADDED') this.admit(pod);
    else {
      const rt = this.pods.get(pod.metadata.uid);
      if (rt) rt.pod = pod;
    }
  }

  // -------------------------------------------------------------------------------------------------

  private admit(pod: KubeObject): void {
    if (this.pods.has(pod.metadata.uid)) return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const spec = pod.spec ?? {};
    const hasInit = Array.isArray(spec.initContainers) && spec.initContainers.length > 0;
    const toRt = (c: Record<string, any>, init: boolean): ContainerRt => ({
      name: String(c.name),
      init,
      field: `spec.${init ? 'initContainers' : 'containers'}{${String(c.name)}}`,
      image: String(c.image ?? ''),
      spec: c,
      state: { waiting: { reason: hasInit ? 'PodInitializing' : 'ContainerCreating' } },
      lastState: {},
      ready: false,
      started: false,
      restartCount: 0,
      runs: 0,
      imageID: '',
      timers: [],
      backoffStep: 0,
      done: false,
      token: 0,
    });
    const containers = ((spec.containers ?? []) as Record<string, any>[]).map((c) => toRt(c, false));
    const initContainers = ((spec.initContainers ?? []) as Record<string, any>[]).map((c) => toRt(c, true));
    const rt: PodRt = {
      key: keyOf(pod),
      uid: pod.metadata.uid,
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name,
      pod,
      restartPolicy: String(spec.restartPolicy ?? 'Always'),
      containers,
      initContainers,
      sandboxReady: false,
      transitions: new Map(),
      timers: [],
      mountFailures: 0,
      flushQueued: false,
      gone: false,
    };
    this.pods.set(rt.uid, rt);
    this.after(rt, 0, () => this.bind(rt));
  }

  private bind(rt: PodRt): void {
    const placed =
      !rt.pod.spec?.nodeName &&
      this.d.placement?.place(rt.pod, (bound, node) =>
        this.runner.push(() => {
          if (rt.gone || this.stopped) return;
          rt.pod = bound;
          rt.hostIP = node.ip;
          // A Fargate pod has its node's address.
          rt.podIP = node.ip;
          this.startPod(rt);
        }),
      );
    if (placed) return;
    if (!rt.pod.spec?.nodeName) {
      const bound = this.d.store.mutate('pods', rt.namespace, rt.name, (p) => {
        p.spec.nodeName = NODE_NAME;
      });
      if (!bound) return;
      rt.pod = bound;
      this.d.events.record(
        rt.pod,
        'Normal',
        'Scheduled',
        `Successfully assigned ${rt.namespace}/${rt.name} to ${NODE_NAME}`,
        SCHEDULER,
      );
    }
    this.startPod(rt);
  }

  private startPod(rt: PodRt): void {
    rt.startTime = rfc3339(this.d.clock.now());
    // The pod sandbox (network) comes up shortly after; the first status (ContainerCreating) goes with it.
    this.after(rt, 100, () => {
      rt.sandboxReady = true;
      rt.podIP ??= this.nextIP();
      this.mountVolumes(rt);
    });
  }

  private mountVolumes(rt: PodRt): void {
    const missing = this.missingVolumeSource(rt);
    if (missing) {
      rt.mountFailures++;
      this.d.events.record(
        rt.pod,
        'Warning',
        'FailedMount',
        `MountVolume.SetUp failed for volume "${missing.volume}" : ${missing.what} "${missing.name}" not found`,
        KUBELET,
      );
      this.flush(rt);
      const delay = Math.min(122_000, 500 * 2 ** Math.min(rt.mountFailures, 8));
      this.after(rt, delay, () => this.mountVolumes(rt));
      return;
    }
    this.flush(rt);
    this.nextStage(rt);
  }

  /** Starts the next init container that has not completed, or, once all have, the app containers. */
  private nextStage(rt: PodRt): void {
    const pending = rt.initContainers.find((c) => !c.done);
    if (pending) {
      this.startContainer(rt, pending);
      return;
    }
    for (const c of rt.containers) {
      if ('waiting' in c.state && c.state.waiting.reason === 'PodInitializing') {
        c.state = { waiting: { reason: 'ContainerCreating' } };
      }
    }
    this.flush(rt);
    for (const c of rt.containers) this.startContainer(rt, c);
  }

  private missingVolumeSource(rt: PodRt): { volume: string; what: string; name: string } | undefined {
    const ns = rt.namespace;
    for (const v of (rt.pod.spec?.volumes ?? []) as Record<string, any>[]) {
      const sources: { what: string; name: string; optional?: boolean }[] = [];
      if (v.secret) sources.push({ what: 'secret', name: v.secret.secretName, optional: v.secret.optional });
      if (v.configMap)
        sources.push({ what: 'configmap', name: v.configMap.name, optional: v.configMap.optional });
      for (const s of (v.projected?.sources ?? []) as Record<string, any>[]) {
        if (s.secret) sources.push({ what: 'secret', name: s.secret.name, optional: s.secret.optional });
        if (s.configMap)
          sources.push({ what: 'configmap', name: s.configMap.name, optional: s.configMap.optional });
      }
      for (const s of sources) {
        if (s.optional || !s.name) continue;
        const gone =
          s.what === 'secret'
            ? this.d.images.isSecretMissing(ns, s.name)
            : this.d.images.isConfigMapMissing(ns, s.name);
        if (gone) return { volume: String(v.name), what: s.what, name: s.name };
      }
    }
    return undefined;
  }

  private missingEnvSource(rt: PodRt, c: ContainerRt): string | undefined {
    const ns = rt.namespace;
    const check = (
      what: 'secret' | 'configmap',
      ref: Record<string, any> | undefined,
    ): string | undefined => {
      if (!ref || ref.optional || !ref.name) return undefined;
      const gone =
        what === 'secret'
          ? this.d.images.isSecretMissing(ns, ref.name)
          : this.d.images.isConfigMapMissing(ns, ref.name);
      return gone ? `${what} "${ref.name}" not found` : undefined;
    };
    for (const e of (c.spec.envFrom ?? []) as Record<string, any>[]) {
      const m = check('configmap', e.configMapRef) ?? check('secret', e.secretRef);
      if (m) return m;
    }
    for (const e of (c.spec.env ?? []) as Record<string, any>[]) {
      const m =
        check('configmap', e.valueFrom?.configMapKeyRef) ?? check('secret', e.valueFrom?.secretKeyRef);
      if (m) return m;
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------
  // Container steps

  private startContainer(rt: PodRt, c: ContainerRt): void {
    if (rt.gone || c.done) return;
    const field = c.field;
    const parsed = parseImage(c.image);
    if (!parsed) {
      const msg = invalidImageMessage(c.image);
      this.d.events.record(rt.pod, 'Warning', 'InspectFailed', msg, KUBELET, field);
      this.d.events.record(rt.pod, 'Warning', 'Failed', 'Error: InvalidImageName', KUBELET, field);
      c.state = { waiting: { reason: 'InvalidImageName', message: msg } };
      this.flush(rt);
      this.retryLater(rt, c);
      return;
    }
    const behaviour = this.d.images.get(c.image);
    const policy = String(c.spec.imagePullPolicy ?? 'IfNotPresent');
    const present = this.pulled.has(parsed.fullName) && behaviour.kind !== 'missing';
    if (policy === 'Never' || (policy === 'IfNotPresent' && present)) {
      if (!present) {
        const msg = `Container image "${c.image}" is not present with pull policy of Never`;
        this.d.events.record(rt.pod, 'Warning', 'ErrImageNeverPull', msg, KUBELET, field);
        c.state = { waiting: { reason: 'ErrImageNeverPull', message: msg } };
        this.flush(rt);
        this.retryLater(rt, c);
        return;
      }
      this.d.events.record(
        rt.pod,
        'Normal',
        'Pulled',
        `Container image "${c.image}" already present on machine`,
        KUBELET,
        field,
      );
      c.imageID = imageIdOf(parsed.fullName);
      this.createContainer(rt, c);
      return;
    }
    this.d.events.record(rt.pod, 'Normal', 'Pulling', `Pulling image "${c.image}"`, KUBELET, field);
    const pullMs = this.d.images.pullMs;
    const token = c.token;
    this.afterC(rt, c, pullMs, () => {
      if (c.token !== token) return;
      const now = this.d.images.get(c.image);
      if (now.kind === 'missing') {
        this.pullFailed(rt, c, parsed.fullName, now.message);
        return;
      }
      this.pulled.add(parsed.fullName);
      c.imageID = imageIdOf(parsed.fullName);
      const secs = (pullMs / 1000).toFixed(3).replace(/\.?0+$/, '');
      const size = 10_000_000 + (fnvish(parsed.fullName) % 90_000_000);
      this.d.events.record(
        rt.pod,
        'Normal',
        'Pulled',
        `Successfully pulled image "${c.image}" in ${secs}s (${secs}s including waiting). Image size: ${size} bytes.`,
        KUBELET,
        field,
      );
      this.createContainer(rt, c);
    });
  }

  private pullFailed(rt: PodRt, c: ContainerRt, fullName: string, custom?: string): void {
    const field = c.field;
    const err =
      custom ??
      `rpc error: code = NotFound desc = failed to pull and unpack image "${fullName}": failed to resolve reference "${fullName}": ${fullName}: not found`;
    this.d.events.record(
      rt.pod,
      'Warning',
      'Failed',
      `Failed to pull image "${c.image}": ${err}`,
      KUBELET,
      field,
    );
    this.d.events.record(rt.pod, 'Warning', 'Failed', 'Error: ErrImagePull', KUBELET, field);
    c.state = { waiting: { reason: 'ErrImagePull', message: err } };
    this.flush(rt);
    const token = c.token;
    this.afterC(rt, c, PULL_ERROR_TO_BACKOFF, () => {
      if (c.token !== token) return;
      this.d.events.record(
        rt.pod,
        'Normal',
        'BackOff',
        `Back-off pulling image "${c.image}"`,
        KUBELET,
        field,
      );
      this.d.events.record(rt.pod, 'Warning', 'Failed', 'Error: ImagePullBackOff', KUBELET, field);
      c.state = {
        waiting: {
          reason: 'ImagePullBackOff',
          message: `Back-off pulling image "${c.image}": ErrImagePull: ${err}`,
        },
      };
      this.flush(rt);
      this.retryLater(rt, c);
    });
  }

  /** Retries the container's start after the current back-off (10 s doubling to 5 min). */
  private retryLater(rt: PodRt, c: ContainerRt): void {
    const delay = Math.min(BACKOFF_MAX, BACKOFF_INITIAL * 2 ** c.backoffStep);
    c.backoffStep++;
    const token = c.token;
    this.afterC(rt, c, delay, () => {
      if (c.token !== token) return;
      this.startContainer(rt, c);
    });
  }

  private createContainer(rt: PodRt, c: ContainerRt): void {
    const behaviour = this.d.images.resolve(
      {
        image: c.image,
        command: c.spec.command as string[] | undefined,
        args: c.spec.args as string[] | undefined,
      },
      c.init ? 'Never' : rt.restartPolicy,
    );
    const field = c.field;
    const missing = this.missingEnvSource(rt, c);
    if (missing) {
      this.d.events.record(rt.pod, 'Warning', 'Failed', `Error: ${missing}`, KUBELET, field);
      c.state = { waiting: { reason: 'CreateContainerConfigError', message: missing } };
      this.flush(rt);
      this.retryLater(rt, c);
      return;
    }
    if (c.runs > 0) c.restartCount++;
    c.runs++;
    c.token++;
    c.backoffStep = c.runs > 1 ? c.backoffStep : 0;
    c.containerID = `containerd://${randomBytes(32).toString('hex')}`;
    const startedAt = rfc3339(this.d.clock.now());
    this.d.events.record(rt.pod, 'Normal', 'Created', `Created container: ${c.name}`, KUBELET, field);
    this.d.events.record(rt.pod, 'Normal', 'Started', `Started container ${c.name}`, KUBELET, field);
    this.d.logs.startContainer(rt.namespace, rt.name, c.name);
    c.state = { running: { startedAt } };
    c.started = true;
    c.ready = false;
    this.flush(rt);
    this.run(rt, c, behaviour, startedAt);
  }

  private run(rt: PodRt, c: ContainerRt, b: ImageBehaviour, startedAt: string): void {
    const token = c.token;
    const print = (lines: string[] | undefined): void => {
      for (const l of lines ?? []) this.d.logs.append(rt.namespace, rt.name, c.name, l);
    };
    if (c.init && b.kind === 'ready') {
      // An init container that "becomes ready" has done its work: it exits 0.
      print(b.lines);
      this.afterC(rt, c, b.after ?? 2000, () => {
        if (c.token === token) this.exited(rt, c, 0, 'Completed', startedAt);
      });
      return;
    }
    switch (b.kind) {
      case 'ready':
        print(b.lines);
        this.afterC(rt, c, b.after ?? 2000, () => {
          if (c.token !== token) return;
          c.ready = true;
          // A container that ran fine resets its crash back-off (the real one after 10 min).
          c.backoffStep = 0;
          this.flush(rt);
        });
        return;
      case 'never-ready': {
        print(b.lines);
        const probe = (c.spec.readinessProbe ?? {}) as Record<string, any>;
        const period = Math.max(1, Number(probe.periodSeconds ?? 10)) * 1000;
        const initial = Math.max(0, Number(probe.initialDelaySeconds ?? 0)) * 1000;
        const msg =
          b.probeOutput !== undefined
            ? `Readiness probe failed: ${b.probeOutput}`
            : probeFailure(probe, rt.podIP ?? '');
        const tick = (): void => {
          if (c.token !== token) return;
          this.d.events.record(rt.pod, 'Warning', 'Unhealthy', msg, KUBELET, c.field);
          this.afterC(rt, c, period, tick);
        };
        this.afterC(rt, c, initial + period / 10, tick);
        return;
      }
      case 'crash':
        print(b.lines);
        this.afterC(rt, c, b.after ?? 1000, () => {
          if (c.token === token) this.exited(rt, c, b.exitCode ?? 1, 'Error', startedAt);
        });
        return;
      case 'oom':
        print(b.lines);
        this.afterC(rt, c, b.after ?? 1000, () => {
          if (c.token === token) this.exited(rt, c, 137, 'OOMKilled', startedAt);
        });
        return;
      case 'exit': {
        const lines = b.lines ?? [];
        const total = b.after ?? Math.max(500, 200 * lines.length);
        lines.forEach((line, i) => {
          this.afterC(rt, c, (total * (i + 1)) / (lines.length + 1), () => {
            if (c.token === token) this.d.logs.append(rt.namespace, rt.name, c.name, line);
          });
        });
        this.afterC(rt, c, total, () => {
          if (c.token === token)
            this.exited(rt, c, b.exitCode, b.exitCode === 0 ? 'Completed' : 'Error', startedAt);
        });
        return;
      }
      case 'missing':
        // The image vanished after the pull: it runs what was pulled, ready like the default.
        this.afterC(rt, c, 2000, () => {
          if (c.token !== token) return;
          c.ready = true;
          this.flush(rt);
        });
        return;
    }
  }

  private exited(rt: PodRt, c: ContainerRt, exitCode: number, reason: string, startedAt: string): void {
    const terminated: Terminated = {
      exitCode,
      reason,
      startedAt,
      finishedAt: rfc3339(this.d.clock.now()),
      containerID: c.containerID ?? '',
    };
    if (exitCode !== 0 && c.spec.terminationMessagePolicy === 'FallbackToLogsOnError') {
      // The kubelet falls back to the last 80 lines (at most 2 KiB) of the log.
      const lines = (this.d.logs.run(rt.namespace, rt.name, c.name)?.lines ?? [])
        .slice(-80)
        .map((l) => l.text);
      let message = lines.join('\n');
      if (message.length > 2048) message = message.slice(-2048);
      if (message) terminated.message = message;
    }
    this.d.logs.endContainer(rt.namespace, rt.name, c.name);
    c.state = { terminated };
    c.ready = false;
    c.token++;
    const restart = c.init
      ? exitCode !== 0 && rt.restartPolicy !== 'Never'
      : rt.restartPolicy === 'Always' || (rt.restartPolicy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      c.done = true;
      c.started = false;
      if (c.init && exitCode === 0) {
        c.ready = true;
        this.nextStage(rt);
      } else if (c.init) {
        // A failed init container with restartPolicy Never fails the pod: the app never starts.
        for (const app of rt.containers) {
          app.done = true;
          app.token++;
        }
      }
      this.flush(rt);
      return;
    }
    this.flush(rt);
    const token = c.token;
    const field = c.field;
    if (c.runs === 1) {
      // The first restart is immediate; the back-off starts with the second exit.
      this.afterC(rt, c, 500, () => {
        if (c.token !== token) return;
        c.lastState = { terminated };
        this.startContainer(rt, c);
      });
      return;
    }
    const delay = Math.min(BACKOFF_MAX, BACKOFF_INITIAL * 2 ** c.backoffStep);
    c.backoffStep++;
    this.afterC(rt, c, 300, () => {
      if (c.token !== token) return;
      c.lastState = { terminated };
      c.state = {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${formatGoDuration(delay)} restarting failed container=${c.name} pod=${rt.name}_${rt.namespace}(${rt.uid})`,
        },
      };
      c.started = false;
      this.d.events.record(
        rt.pod,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${c.name} in pod ${rt.name}_${rt.namespace}(${rt.uid})`,
        KUBELET,
        field,
      );
      this.flush(rt);
      this.afterC(rt, c, delay, () => {
        if (c.token !== token) return;
        this.startContainer(rt, c);
      });
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Status

  private flush(rt: PodRt): void {
    if (rt.flushQueued || rt.gone) return;
    rt.flushQueued = true;
    this.runner.push(() => {
      rt.flushQueued = false;
      if (rt.gone || this.stopped) return;
      const status = this.buildStatus(rt);
      const updated = this.d.store.mutate(
        'pods',
        rt.namespace,
        rt.name,
        (p) => {
          p.status = status;
        },
        { subresource: 'status' },
      );
      if (updated) rt.pod = updated;
    });
  }

  private transition(rt: PodRt, type: string, status: string): string {
    const prev = rt.transitions.get(type);
    if (prev && prev.status === status) return prev.at;
    const at = rfc3339(this.d.clock.now());
    rt.transitions.set(type, { status, at });
    return at;
  }

  private buildStatus(rt: PodRt): Record<string, unknown> {
    const cs = rt.containers;
    const initOk = (c: ContainerRt): boolean =>
      c.done && 'terminated' in c.state && c.state.terminated.exitCode === 0;
    const initFailed = rt.initContainers.some((c) => c.done && !initOk(c));
    const initIncomplete = rt.initContainers.filter((c) => !initOk(c)).map((c) => c.name);
    const allDone = cs.length > 0 && cs.every((c) => c.done);
    const allCreated = cs.every((c) => c.runs > 0);
    let phase = 'Pending';
    if (initFailed) phase = 'Failed';
    else if (allDone) {
      phase = cs.every((c) => 'terminated' in c.state && c.state.terminated.exitCode === 0)
        ? 'Succeeded'
        : 'Failed';
    } else if (allCreated && cs.some((c) => 'running' in c.state || c.runs > 0)) {
      phase = 'Running';
    }
    const notReady = cs.filter((c) => !c.ready).map((c) => c.name);
    const ready = notReady.length === 0 && cs.length > 0 && !allDone;
    const cond = (type: string, ok: boolean, reason?: string, message?: string): Record<string, unknown> => {
      const status = ok ? 'True' : 'False';
      const c: Record<string, unknown> = {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: this.transition(rt, type, status),
      };
      if (!ok && reason) c.reason = reason;
      if (!ok && message) c.message = message;
      return c;
    };
    const readyReason = allDone ? 'PodCompleted' : 'ContainersNotReady';
    const readyMsg = allDone ? undefined : `containers with unready status: [${notReady.join(' ')}]`;
    const conditions = [
      cond('PodReadyToStartContainers', rt.sandboxReady && !allDone),
      cond(
        'Initialized',
        initIncomplete.length === 0,
        'ContainersNotInitialized',
        `containers with incomplete status: [${initIncomplete.join(' ')}]`,
      ),
      cond('Ready', ready, readyReason, readyMsg),
      cond('ContainersReady', ready, readyReason, readyMsg),
      cond('PodScheduled', true),
    ];
    const status: Record<string, unknown> = {
      phase,
      conditions,
      hostIP: rt.hostIP ?? NODE_IP,
      hostIPs: [{ ip: rt.hostIP ?? NODE_IP }],
    };
    if (rt.podIP && !allDone) {
      status.podIP = rt.podIP;
      status.podIPs = [{ ip: rt.podIP }];
    }
    if (rt.startTime) status.startTime = rt.startTime;
    const toStatus = (c: ContainerRt): Record<string, unknown> => {
      const s: Record<string, unknown> = {
        name: c.name,
        state: structuredClone(c.state),
        lastState: structuredClone(c.lastState),
        ready: c.ready,
        restartCount: c.restartCount,
        image: c.image,
        imageID: c.imageID,
        started: c.started,
      };
      if (c.containerID) s.containerID = c.containerID;
      return s;
    };
    if (rt.initContainers.length) status.initContainerStatuses = rt.initContainers.map(toStatus);
    status.containerStatuses = cs.map(toStatus);
    status.qosClass = rt.pod.status?.qosClass ?? 'BestEffort';
    return status;
  }

  // -------------------------------------------------------------------------------------------------
  // Timers

  private after(rt: PodRt, ms: number, fn: () => void): void {
    const h = this.d.clock.setTimeout(() => {
      rt.timers = rt.timers.filter((t) => t !== h);
      this.runner.push(() => {
        if (!rt.gone && !this.stopped) fn();
      });
    }, ms);
    rt.timers.push(h);
  }

  private afterC(rt: PodRt, c: ContainerRt, ms: number, fn: () => void): void {
    const h = this.d.clock.setTimeout(() => {
      c.timers = c.timers.filter((t) => t !== h);
      this.runner.push(() => {
        if (!rt.gone && !this.stopped) fn();
      });
    }, ms);
    c.timers.push(h);
  }

  private cancelAll(rt: PodRt): void {
    for (const h of rt.timers) this.d.clock.clearTimeout(h);
    rt.timers = [];
    for (const c of rt.containers) {
      for (const h of c.timers) this.d.clock.clearTimeout(h);
      c.timers = [];
      c.token++;
    }
  }

  private nextIP(): string {
    const n = this.ipCounter++;
    return `10.244.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
  }
}

const imageIds = new Map<string, string>();

function imageIdOf(fullName: string): string {
  const known = imageIds.get(fullName);
  if (known) return known;
  const id = computeImageId(fullName);
  imageIds.set(fullName, id);
  return id;
}

function computeImageId(fullName: string): string {
  const repo = fullName.replace(/[:@].*$/, '');
  const h1 = canonicalJson(fullName);
  let hex = '';
  for (let i = 0; hex.length < 64; i++) hex += (fnvish(`${h1}#${i}`) >>> 0).toString(16).padStart(8, '0');
  return `${repo}@sha256:${hex.slice(0, 64)}`;
}

function fnvish(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function probeFailure(probe: Record<string, any>, podIP: string): string {
  if (probe.tcpSocket) {
    return `Readiness probe failed: dial tcp ${podIP}:${probe.tcpSocket.port ?? 80}: connect: connection refused`;
  }
  if (probe.exec) return 'Readiness probe failed: command failed with exit code 1';
  if (probe.grpc)
    return `Readiness probe failed: timeout: failed to connect service "${podIP}:${probe.grpc.port}" within 1s`;
  return 'Readiness probe failed: HTTP probe failed with statuscode: 503';
}

/** Go's time.Duration String for whole seconds: 10s, 1m20s, 5m0s. */
export function formatGoDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}
