/**
 * GET …/pods/{name}/log (kubernetes-api.md §7): container, follow, previous, sinceSeconds, sinceTime,
 * timestamps, tailLines, limitBytes; the kubelet's validateContainerLogStatus errors as 400 Status.
 */
import type { ServerResponse } from 'node:http';
import type { LogLine, PodLogs } from './logs.js';
import { HttpError } from './http-util.js';
import type { KubeObject, ObjectStore } from './store.js';

export interface LogQuery {
  container?: string;
  follow: boolean;
  previous: boolean;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
}

/** RFC3339Nano as the kubelet prints it (trailing zeros trimmed). */
export function rfc3339Nano(d: Date): string {
  const iso = d.toISOString(); // 2026-11-27T17:56:37.123Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

function pickContainer(pod: KubeObject, wanted: string | undefined): string {
  const names = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
  const initNames = ((pod.spec?.initContainers ?? []) as { name: string }[]).map((c) => c.name);
  const name = pod.metadata.name;
  if (!wanted) {
    if (names.length === 1) return names[0]!;
    throw new HttpError(
      400,
      `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]${initNames.length ? ` or one of the init containers: [${initNames.join(' ')}]` : ''}`,
    );
  }
  if (!names.includes(wanted) && !initNames.includes(wanted)) {
    throw new HttpError(400, `container ${wanted} is not valid for pod ${name}`);
  }
  return wanted;
}

/** pkg/kubelet/kubelet_pods.go validateContainerLogStatus. */
function checkContainerStatus(pod: KubeObject, container: string, previous: boolean): 'ok' | 'empty' {
  const pn = pod.metadata.name;
  const statuses = [
    ...((pod.status?.containerStatuses ?? []) as any[]),
    ...((pod.status?.initContainerStatuses ?? []) as any[]),
  ];
  const st = statuses.find((s) => s.name === container);
  if (!st) {
    if (!pod.spec?.nodeName) return 'empty'; // not scheduled: the apiserver answers an empty log
    throw new HttpError(
      400,
      `container "${container}" in pod "${pn}" is waiting to start: ContainerCreating`,
    );
  }
  const state = st.state ?? {};
  const last = st.lastState ?? {};
  if (previous) {
    if (!last.terminated)
      throw new HttpError(400, `previous terminated container "${container}" in pod "${pn}" not found`);
    return 'ok';
  }
  if (state.running || state.terminated || last.terminated) return 'ok';
  if (state.waiting) {
    const reason = String(state.waiting.reason ?? '');
    if (reason === 'ErrImagePull')
      throw new HttpError(
        400,
        `container "${container}" in pod "${pn}" is waiting to start: image can't be pulled`,
      );
    if (reason === 'ImagePullBackOff')
      throw new HttpError(
        400,
        `container "${container}" in pod "${pn}" is waiting to start: trying and failing to pull image`,
      );
    throw new HttpError(400, `container "${container}" in pod "${pn}" is waiting to start: ${reason}`);
  }
  throw new HttpError(400, `container "${container}" in pod "${pn}" is waiting to start - no logs yet`);
}

export interface LogContext {
  store: ObjectStore;
  logs: PodLogs;
  now: () => Date;
  streams: Set<ServerResponse>;
}

export function servePodLog(
  ctx: LogContext,
  namespace: string,
  podName: string,
  q: LogQuery,
  res: ServerResponse,
): void {
  const pod = ctx.store.get('pods', namespace, podName);
  if (!pod) throw ctx.store.notFound('pods', podName);
  const container = pickContainer(pod, q.container);
  const state = checkContainerStatus(pod, container, q.previous);

  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  if (state === 'empty') {
    res.end();
    return;
  }

  const run = ctx.logs.run(namespace, podName, container, q.previous);
  let lines: LogLine[] = run?.lines ?? [];
  let cutoff: number | undefined;
  if (q.sinceSeconds !== undefined) cutoff = ctx.now().getTime() - q.sinceSeconds * 1000;
  if (q.sinceTime) {
    const t = Date.parse(q.sinceTime);
    if (!Number.isNaN(t)) cutoff = Math.max(cutoff ?? -Infinity, t);
  }
  if (cutoff !== undefined) lines = lines.filter((l) => l.time.getTime() >= cutoff);
  if (q.tailLines !== undefined) lines = q.tailLines <= 0 ? [] : lines.slice(-q.tailLines);

  let bytesLeft = q.limitBytes ?? Infinity;
  let done = false;
  const cleanups: (() => void)[] = [];
  const finish = (): void => {
    if (done) return;
    done = true;
    for (const c of cleanups) c();
    ctx.streams.delete(res);
    if (!res.writableEnded) res.end();
  };
  const emit = (l: LogLine): void => {
    if (done) return;
    let text = `${q.timestamps ? `${rfc3339Nano(l.time)} ` : ''}${l.text}\n`;
    if (Buffer.byteLength(text) > bytesLeft) {
      text = Buffer.from(text).subarray(0, bytesLeft).toString('utf8');
      res.write(text);
      finish();
      return;
    }
    bytesLeft -= Buffer.byteLength(text);
    res.write(text);
  };
  for (const l of lines) emit(l);

  const following = q.follow && !q.previous && !(run?.ended ?? false) && !done;
  if (!following) {
    finish();
    return;
  }
  ctx.streams.add(res);
  res.on('close', finish);
  const unfollow = ctx.logs.follow(namespace, podName, container, (ev) => {
    if (ev.type === 'line') emit(ev.line);
    else if (ev.type === 'end') finish();
  });
  // The stream also ends when the pod goes away.
  const unwatchPod = ctx.store.on(
    (c) => {
      if (
        c.resource === 'pods' &&
        c.type === 'DELETED' &&
        c.object.metadata.namespace === namespace &&
        c.object.metadata.name === podName
      )
        finish();
    },
    { readOnly: true },
  );
  cleanups.push(unfollow, unwatchPod);
}
