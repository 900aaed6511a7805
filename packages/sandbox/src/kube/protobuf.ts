/**
 * Request bodies in `application/vnd.kubernetes.protobuf`: kubectl's typed clients send them (e.g.
 * `kubectl create job`, `create deployment`, `create namespace`). The body is the `k8s\0` magic and a
 * runtime.Unknown envelope around the object's gogo-protobuf encoding. This decodes the fields those
 * commands fill (metadata, pod template, containers, Job/Deployment/Namespace specs) into the JSON form;
 * fields outside this schema are dropped. Non-pointer Go fields are always on the wire, so their zero
 * values are omitted as JSON `omitempty` would; pointer fields (marked `ptr`) keep zeros.
 */
import { HttpError } from './http-util.js';

type Scalar = 'str' | 'int' | 'bool' | 'time' | 'intstr' | 'qty';
interface Field {
  n: string;
  t: string; // a Scalar kind or a message name in SCHEMA
  rep?: true;
  map?: true; // map<string, t>
  ptr?: true;
}

const f = (n: string, t: Field['t'], extra: Partial<Field> = {}): Field => ({ n, t, ...extra });

const SCHEMA: Record<string, Record<number, Field>> = {
  ObjectMeta: {
    1: f('name', 'str'),
    2: f('generateName', 'str'),
    3: f('namespace', 'str'),
    5: f('uid', 'str'),
    6: f('resourceVersion', 'str'),
    7: f('generation', 'int'),
    8: f('creationTimestamp', 'time'),
    11: f('labels', 'str', { map: true }),
    12: f('annotations', 'str', { map: true }),
    13: f('ownerReferences', 'OwnerReference', { rep: true }),
    14: f('finalizers', 'str', { rep: true }),
  },
  OwnerReference: {
    1: f('kind', 'str'),
    3: f('name', 'str'),
    4: f('uid', 'str'),
    5: f('apiVersion', 'str'),
    6: f('controller', 'bool', { ptr: true }),
    7: f('blockOwnerDeletion', 'bool', { ptr: true }),
  },
  LabelSelector: {
    1: f('matchLabels', 'str', { map: true }),
    2: f('matchExpressions', 'LabelSelectorRequirement', { rep: true }),
  },
  LabelSelectorRequirement: {
    1: f('key', 'str'),
    2: f('operator', 'str'),
    3: f('values', 'str', { rep: true }),
  },
  PodTemplateSpec: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'PodSpec') },
  PodSpec: {
    2: f('containers', 'Container', { rep: true }),
    3: f('restartPolicy', 'str'),
    4: f('terminationGracePeriodSeconds', 'int', { ptr: true }),
    5: f('activeDeadlineSeconds', 'int', { ptr: true }),
    6: f('dnsPolicy', 'str'),
    7: f('nodeSelector', 'str', { map: true }),
    8: f('serviceAccountName', 'str'),
    10: f('nodeName', 'str'),
    15: f('imagePullSecrets', 'LocalObjectReference', { rep: true }),
    19: f('schedulerName', 'str'),
    20: f('initContainers', 'Container', { rep: true }),
    21: f('automountServiceAccountToken', 'bool', { ptr: true }),
    24: f('priorityClassName', 'str'),
  },
  LocalObjectReference: { 1: f('name', 'str') },
  Container: {
    1: f('name', 'str'),
    2: f('image', 'str'),
    3: f('command', 'str', { rep: true }),
    4: f('args', 'str', { rep: true }),
    5: f('workingDir', 'str'),
    6: f('ports', 'ContainerPort', { rep: true }),
    7: f('env', 'EnvVar', { rep: true }),
    8: f('resources', 'ResourceRequirements'),
    13: f('terminationMessagePath', 'str'),
    14: f('imagePullPolicy', 'str'),
    16: f('stdin', 'bool'),
    17: f('stdinOnce', 'bool'),
    18: f('tty', 'bool'),
    20: f('terminationMessagePolicy', 'str'),
  },
  ContainerPort: {
    1: f('name', 'str'),
    2: f('hostPort', 'int'),
    3: f('containerPort', 'int'),
    4: f('protocol', 'str'),
    5: f('hostIP', 'str'),
  },
  EnvVar: { 1: f('name', 'str'), 2: f('value', 'str') },
  ResourceRequirements: { 1: f('limits', 'qty', { map: true }), 2: f('requests', 'qty', { map: true }) },
  Job: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'JobSpec') },
  JobSpec: {
    1: f('parallelism', 'int', { ptr: true }),
    2: f('completions', 'int', { ptr: true }),
    3: f('activeDeadlineSeconds', 'int', { ptr: true }),
    4: f('selector', 'LabelSelector'),
    5: f('manualSelector', 'bool', { ptr: true }),
    6: f('template', 'PodTemplateSpec'),
    7: f('backoffLimit', 'int', { ptr: true }),
    8: f('ttlSecondsAfterFinished', 'int', { ptr: true }),
    9: f('completionMode', 'str', { ptr: true }),
    10: f('suspend', 'bool', { ptr: true }),
    14: f('podReplacementPolicy', 'str', { ptr: true }),
  },
  Deployment: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'DeploymentSpec') },
  DeploymentSpec: {
    1: f('replicas', 'int', { ptr: true }),
    2: f('selector', 'LabelSelector'),
    3: f('template', 'PodTemplateSpec'),
    4: f('strategy', 'DeploymentStrategy'),
    5: f('minReadySeconds', 'int'),
    6: f('revisionHistoryLimit', 'int', { ptr: true }),
    7: f('paused', 'bool'),
    9: f('progressDeadlineSeconds', 'int', { ptr: true }),
  },
  DeploymentStrategy: { 1: f('type', 'str'), 2: f('rollingUpdate', 'RollingUpdateDeployment') },
  RollingUpdateDeployment: { 1: f('maxUnavailable', 'intstr'), 2: f('maxSurge', 'intstr') },
  Namespace: { 1: f('metadata', 'ObjectMeta'), 2: f('spec', 'NamespaceSpec') },
  NamespaceSpec: { 1: f('finalizers', 'str', { rep: true }) },
  Event: {
    1: f('metadata', 'ObjectMeta'),
    2: f('involvedObject', 'ObjectReference'),
    3: f('reason', 'str'),
    4: f('message', 'str'),
    5: f('source', 'EventSource'),
    6: f('firstTimestamp', 'time'),
    7: f('lastTimestamp', 'time'),
    8: f('count', 'int'),
    9: f('type', 'str'),
    12: f('reportingComponent', 'str'),
    13: f('reportingInstance', 'str'),
  },
  ObjectReference: {
    1: f('kind', 'str'),
    2: f('namespace', 'str'),
    3: f('name', 'str'),
    4: f('uid', 'str'),
    5: f('apiVersion', 'str'),
    6: f('resourceVersion', 'str'),
    7: f('fieldPath', 'str'),
  },
  EventSource: { 1: f('component', 'str'), 2: f('host', 'str') },
};

const KINDS: Record<string, string> = {
  Job: 'Job',
  Deployment: 'Deployment',
  Namespace: 'Namespace',
  Event: 'Event',
};

interface WireField {
  no: number;
  wire: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readFields(buf: Buffer): WireField[] {
  const out: WireField[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new HttpError(400, 'truncated protobuf varint');
      const b = buf[i++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new HttpError(400, 'malformed protobuf varint');
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new HttpError(400, 'truncated protobuf field');
      out.push({ no, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new HttpError(400, `unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const toInt = (v: bigint | undefined): number => Number(BigInt.asIntN(64, v ?? 0n));

function decodeTime(buf: Buffer): string | null {
  let seconds = 0;
  for (const w of readFields(buf)) if (w.no === 1) seconds = toInt(w.varint);
  if (seconds === 0) return null;
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function decodeIntOrString(buf: Buffer): number | string {
  let type = 0;
  let intVal = 0;
  let strVal = '';
  for (const w of readFields(buf)) {
    if (w.no === 1) type = toInt(w.varint);
    else if (w.no === 2) intVal = toInt(w.varint);
    else if (w.no === 3) strVal = w.bytes!.toString('utf8');
  }
  return type === 1 ? strVal : intVal;
}

function decodeQuantity(buf: Buffer): string {
  for (const w of readFields(buf)) if (w.no === 1) return w.bytes!.toString('utf8');
  return '0';
}

function scalar(t: Scalar, w: WireField): unknown {
  switch (t) {
    case 'str':
      return w.bytes?.toString('utf8') ?? '';
    case 'int':
      return toInt(w.varint);
    case 'bool':
      return (w.varint ?? 0n) !== 0n;
    case 'time':
      return decodeTime(w.bytes ?? Buffer.alloc(0));
    case 'intstr':
      return decodeIntOrString(w.bytes ?? Buffer.alloc(0));
    case 'qty':
      return decodeQuantity(w.bytes ?? Buffer.alloc(0));
  }
}

const isScalar = (t: string): t is Scalar => ['str', 'int', 'bool', 'time', 'intstr', 'qty'].includes(t);
const isZero = (v: unknown): boolean => v === '' || v === 0 || v === false;

function decodeMessage(name: string, buf: Buffer): Record<string, unknown> {
  const schema = SCHEMA[name];
  if (!schema) return {};
  const out: Record<string, unknown> = {};
  for (const w of readFields(buf)) {
    const field = schema[w.no];
    if (!field) continue;
    const value = (): unknown =>
      isScalar(field.t) ? scalar(field.t, w) : decodeMessage(field.t, w.bytes ?? Buffer.alloc(0));
    if (field.map) {
      let key = '';
      let entry: WireField | undefined;
      for (const e of readFields(w.bytes ?? Buffer.alloc(0))) {
        if (e.no === 1) key = e.bytes?.toString('utf8') ?? '';
        else if (e.no === 2) entry = e;
      }
      const m = (out[field.n] ??= {}) as Record<string, unknown>;
      m[key] = entry
        ? isScalar(field.t)
          ? scalar(field.t, entry)
          : decodeMessage(field.t, entry.bytes ?? Buffer.alloc(0))
        : isScalar(field.t) && field.t === 'str'
          ? ''
          : {};
    } else if (field.rep) {
      ((out[field.n] ??= []) as unknown[]).push(value());
    } else {
      const v = value();
      if (isZero(v) && !field.ptr) continue;
      if (v === null && field.t === 'time') {
        // creationTimestamp of a template is null in JSON; other zero times are omitted.
        if (field.n === 'creationTimestamp') out[field.n] = null;
        continue;
      }
      out[field.n] = v;
    }
  }
  return out;
}

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

/** Decodes a `k8s\0` + runtime.Unknown body into the JSON object it carries. */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || body.readUInt32BE(0) !== 0x6b387300) {
    throw new HttpError(
      400,
      'the body of the request is not a Kubernetes protobuf message (missing the k8s\\0 prefix)',
    );
  }
  let apiVersion = '';
  let kind = '';
  let raw: Buffer | undefined;
  for (const w of readFields(body.subarray(4))) {
    if (w.no === 1) {
      for (const t of readFields(w.bytes ?? Buffer.alloc(0))) {
        if (t.no === 1) apiVersion = t.bytes?.toString('utf8') ?? '';
        else if (t.no === 2) kind = t.bytes?.toString('utf8') ?? '';
      }
    } else if (w.no === 2) raw = w.bytes;
  }
  const message = KINDS[kind];
  if (!message || !raw) {
    throw new HttpError(
      415,
      `the sandbox decodes protobuf bodies only for ${Object.keys(KINDS).join(', ')}; send ${kind || 'this object'} as application/json`,
      'UnsupportedMediaType',
    );
  }
  return { apiVersion, kind, ...decodeMessage(message, raw) };
}
