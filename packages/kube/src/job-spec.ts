import { ConfigurationError } from '@planner-deploy/core';
import { imageRepository } from './deployments.js';
import type { Container, Deployment, Job, PodSpec } from './types.js';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_DEPLOYMENT = 'planner-deploy/deployment';
export const LABEL_RUN = 'planner-deploy/run';
export const MANAGED_BY = 'planner-deploy';

export interface MigrationJobSpec {
  /** The Deployment whose pod template is copied. */
  deployment: Deployment;
  /** Container to copy; default the only one, else the one running the new image's repository. */
  container?: string | undefined;
  /** The new image. */
  image: string;
  /** Replaces the container's command; without command and args the container's own are kept. */
  command?: string[] | undefined;
  args?: string[] | undefined;
  jobName: string;
  /** Identifies the run that owns the Job (e.g. `<run_id>-<attempt>`); a Job with another run is not adopted. */
  runId: string;
  /** Failed pods before the Job fails. Default 0: a migration is not retried blindly. */
  backoffLimit?: number | undefined;
  activeDeadlineSeconds?: number | undefined;
  ttlSecondsAfterFinished?: number | undefined;
  /** Extra labels for the Job and its pod. */
  labels?: Record<string, string> | undefined;
}

/** A label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

/** A Job name (DNS label, ≤ 63): `<deployment>-migrate-<sha7>-<run>-<attempt>`, shortened from the left part. */
export function migrationJobName(parts: {
  deployment: string;
  sha?: string;
  runId?: string;
  runAttempt?: string | number;
}): string {
  const tail = [parts.sha?.slice(0, 7), parts.runId, parts.runAttempt]
    .filter((p) => p !== undefined && String(p) !== '')
    .map((p) =>
      String(p)
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-'),
    )
    .join('-');
  const suffix = `-migrate${tail ? `-${tail}` : ''}`;
  const head = parts.deployment
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, Math.max(1, 63 - suffix.length));
  return `${head}${suffix}`.slice(0, 63).replace(/-+$/, '');
}

function pickContainer(deployment: Deployment, name: string | undefined, image: string): Container {
  const containers = deployment.spec.template.spec.containers;
  const names = containers.map((c) => `"${c.name}"`).join(', ');
  if (name !== undefined) {
    const found = containers.find((c) => c.name === name);
    if (!found) {
      throw new ConfigurationError(
        `Deployment "${deployment.metadata.name}" has no container "${name}"; its containers are ${names}.`,
        {
          title: 'Invalid input: container',
        },
      );
    }
    return found;
  }
  if (containers.length === 1) return containers[0] as Container;
  const repository = imageRepository(image);
  const matching = containers.filter((c) => c.image !== undefined && imageRepository(c.image) === repository);
  if (matching.length === 1) return matching[0] as Container;
  throw new ConfigurationError(
    `Deployment "${deployment.metadata.name}" has containers ${names}: set the container input to the one whose environment the migration needs.`,
    { title: 'Missing input: container' },
  );
}

/**
 * The Deployment's pod labels the migration pod keeps: all but the keys its selector uses. A Fargate profile
 * that selects the app's pods by label then selects the migration too, while neither the Deployment (its
 * ReplicaSets count pods by that selector) nor a Service selecting like the Deployment ever matches it.
 */
export function migrationPodLabels(deployment: Deployment): Record<string, string> {
  const selector = deployment.spec.selector ?? {};
  const selected = new Set([
    ...Object.keys(selector.matchLabels ?? {}),
    ...(selector.matchExpressions ?? []).map((e) => e.key),
  ]);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(deployment.spec.template.metadata?.labels ?? {})) {
    // pod-template-hash belongs to a ReplicaSet's pods.
    if (!selected.has(k) && k !== 'pod-template-hash') out[k] = v;
  }
  return out;
}

/**
 * A Job that runs the new image with the chosen container's environment: env, envFrom, volumeMounts,
 * resources, securityContext and workingDir of the container; volumes, service account, image pull
 * secrets, node selector, tolerations and pod security context of the pod. Probes and ports are left out.
 * The pod keeps the template's labels except the Deployment selector's (migrationPodLabels): scheduled
 * under the same Fargate profile as the app, never behind its Service. restartPolicy Never.
 */
export function buildMigrationJob(spec: MigrationJobSpec): Job {
  const template = spec.deployment.spec.template.spec;
  const source = pickContainer(spec.deployment, spec.container, spec.image);
  const container: Container = { name: source.name, image: spec.image };
  if (spec.command !== undefined || spec.args !== undefined) {
    if (spec.command !== undefined) container.command = [...spec.command];
    if (spec.args !== undefined) container.args = [...spec.args];
  } else {
    if (source.command) container.command = [...source.command];
    if (source.args) container.args = [...source.args];
  }
  for (const field of [
    'env',
    'envFrom',
    'volumeMounts',
    'resources',
    'securityContext',
    'workingDir',
    'imagePullPolicy',
  ] as const) {
    if (source[field] !== undefined) container[field] = structuredClone(source[field]) as never;
  }
  const podSpec: PodSpec = { containers: [container], restartPolicy: 'Never' };
  for (const field of [
    'volumes',
    'serviceAccountName',
    'imagePullSecrets',
    'nodeSelector',
    'tolerations',
    'securityContext',
  ] as const) {
    if (template[field] !== undefined) podSpec[field] = structuredClone(template[field]) as never;
  }
  const deploymentName = spec.deployment.metadata.name ?? '';
  const labels: Record<string, string> = {
    ...spec.labels,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_DEPLOYMENT]: labelValue(deploymentName),
    [LABEL_RUN]: labelValue(spec.runId),
  };
  const podLabels = { ...migrationPodLabels(spec.deployment), ...labels };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: spec.jobName, namespace: spec.deployment.metadata.namespace ?? 'default', labels },
    spec: {
      backoffLimit: spec.backoffLimit ?? 0,
      ...(spec.activeDeadlineSeconds !== undefined
        ? { activeDeadlineSeconds: spec.activeDeadlineSeconds }
        : {}),
      ...(spec.ttlSecondsAfterFinished !== undefined
        ? { ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished }
        : {}),
      template: { metadata: { labels: podLabels }, spec: podSpec },
    },
  };
}

/** Whether an existing Job is the one we would create (same deployment and run labels): adopt it. */
export function isOurJob(existing: Job, wanted: Job): boolean {
  const have = existing.metadata.labels ?? {};
  const want = wanted.metadata.labels ?? {};
  return (
    have[LABEL_MANAGED_BY] === MANAGED_BY &&
    have[LABEL_DEPLOYMENT] === want[LABEL_DEPLOYMENT] &&
    have[LABEL_RUN] === want[LABEL_RUN]
  );
}

/**
 * How an existing Job of our run differs from the one this step would create, in the fields that decide
 * what the migration does: the image, command and args, and where its environment comes from (env and
 * envFrom). Empty when it is the same Job (a retried request, a re-run step of the same attempt), which is
 * then adopted; otherwise each entry names a field and both values, for an error that deletes nothing.
 */
export function jobDifferences(existing: Job, wanted: Job): string[] {
  const want = wanted.spec.template.spec.containers[0];
  const containers = existing.spec?.template?.spec?.containers ?? [];
  const have = containers.find((c) => c.name === want?.name) ?? containers[0];
  if (!want) return [];
  if (!have) return ['containers: the existing Job has none'];
  const show = (value: unknown): string => {
    const text = value === undefined ? '(not set)' : JSON.stringify(value);
    return text.length > 200 ? `${text.slice(0, 199)}…` : text;
  };
  const out: string[] = [];
  const compare = (field: string, a: unknown, b: unknown): void => {
    if (canonical(a) !== canonical(b))
      out.push(`${field}: the existing Job has ${show(a)}, this step would run ${show(b)}`);
  };
  compare('image', have.image, want.image);
  compare('command', have.command, want.command);
  compare('args', have.args, want.args);
  compare('env', normaliseEnv(have.env), normaliseEnv(want.env));
  compare('envFrom', have.envFrom, want.envFrom);
  return out;
}

/** JSON with sorted keys and empty lists as absent (the server drops empty lists). */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])])
          .filter(([, x]) => x !== undefined),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value)) ?? 'undefined';
}

/** The API server defaults `fieldRef.apiVersion` to v1: compare without it. */
function normaliseEnv(env: Container['env']): unknown {
  if (!env) return undefined;
  return env.map((entry) => {
    const fieldRef = (entry as { valueFrom?: { fieldRef?: { apiVersion?: string } } }).valueFrom?.fieldRef;
    if (fieldRef?.apiVersion !== 'v1') return entry;
    const copy = structuredClone(entry) as { valueFrom: { fieldRef: { apiVersion?: string } } };
    delete copy.valueFrom.fieldRef.apiVersion;
    return copy;
  });
}
