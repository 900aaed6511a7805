import { ConfigurationError, type Logger } from '@planner-deploy/core';
import { CHANGE_CAUSE_ANNOTATION, templateImages } from './history.js';
import { withRetry } from './retry.js';
import { deploymentRevision } from './rollout-status.js';
import type { Transport } from './transport.js';
import type { Container, Deployment } from './types.js';

export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
const SMP = 'application/strategic-merge-patch+json';
const FIELD_MANAGER = 'planner-deploy';

export interface DeploymentTarget {
  conn: Pick<Transport, 'request'>;
  namespace: string;
  name: string;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
  /** Epoch ms for retries of transient errors. */
  deadline?: number | undefined;
}

function deploymentPath(t: Pick<DeploymentTarget, 'namespace' | 'name'>): string {
  return `/apis/apps/v1/namespaces/${t.namespace}/deployments/${t.name}`;
}

function retryOptions(t: DeploymentTarget, what: string) {
  return { what, signal: t.signal, logger: t.logger, deadline: t.deadline };
}

/** GET a deployment (transient errors retried). */
export function getDeployment(target: DeploymentTarget): Promise<Deployment> {
  return withRetry(
    () => target.conn.request<Deployment>('GET', deploymentPath(target), { signal: target.signal }),
    retryOptions(target, `GET deployment ${target.name}`),
  );
}

/**
 * The repository of an image reference, normalised like Docker does (`nginx` → `docker.io/library/nginx`),
 * without tag or digest — so `repo:1` and `repo@sha256:…` match.
 */
export function imageRepository(reference: string): string {
  let ref = reference.trim();
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  const first = ref.split('/')[0] ?? '';
  const hasRegistry =
    ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return ref;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

export interface ImageChangeRequest {
  /** One new image; goes to `container`, else the containers running the same repository, else the only one. */
  image?: string | undefined;
  container?: string | undefined;
  /** `container → image` for several containers at once. */
  images?: ReadonlyMap<string, string> | Record<string, string> | undefined;
}

/**
 * Which containers get which image. Init containers can be named explicitly; matching by repository and the
 * only-container rule look at the main containers. A ConfigurationError names the containers there are.
 */
export function resolveImageTargets(
  deployment: Deployment,
  request: ImageChangeRequest,
): Map<string, string> {
  const spec = deployment.spec.template.spec;
  const all: Container[] = [...spec.containers, ...(spec.initContainers ?? [])];
  const names = spec.containers.map((c) => c.name);
  const known = (name: string): boolean => all.some((c) => c.name === name);
  const listNames = (): string => all.map((c) => `"${c.name}"`).join(', ');
  const out = new Map<string, string>();
  const entries: [string, string][] =
    request.images instanceof Map
      ? [...(request.images as ReadonlyMap<string, string>)]
      : Object.entries((request.images ?? {}) as Record<string, string>);
  for (const [container, image] of entries) {
    if (!known(container)) {
      throw new ConfigurationError(
        `Deployment "${deployment.metadata.name}" has no container "${container}"; its containers are ${listNames()}.`,
        { title: 'Invalid input: images' },
      );
    }
    out.set(container, image);
  }
  if (request.image !== undefined) {
    if (request.container !== undefined) {
      if (!known(request.container)) {
        throw new ConfigurationError(
          `Deployment "${deployment.metadata.name}" has no container "${request.container}"; its containers are ${listNames()}.`,
          { title: 'Invalid input: container' },
        );
      }
      out.set(request.container, request.image);
    } else {
      const repository = imageRepository(request.image);
      const matching = spec.containers.filter(
        (c) => c.image !== undefined && imageRepository(c.image) === repository,
      );
      if (matching.length > 0) {
        for (const c of matching) out.set(c.name, request.image);
      } else if (spec.containers.length === 1) {
        out.set(names[0] as string, request.image);
      } else {
        throw new ConfigurationError(
          `Deployment "${deployment.metadata.name}" has containers ${names.map((n) => `"${n}"`).join(', ')} and none runs ${repository}: set the container input to the one to update.`,
          { title: 'Invalid input: container' },
        );
      }
    }
  }
  if (out.size === 0) {
    throw new ConfigurationError('No image to set: give an image, or container=image lines.', {
      title: 'Missing input: image',
    });
  }
  return out;
}

/** kubectl set image's strategic merge patch (plus the change-cause annotation when given). */
export function setImagePatch(
  deployment: Deployment,
  targets: ReadonlyMap<string, string>,
  changeCause?: string,
): object {
  const spec = deployment.spec.template.spec;
  const templateSpec: Record<string, unknown> = {};
  for (const [field, list] of [
    ['containers', spec.containers],
    ['initContainers', spec.initContainers ?? []],
  ] as const) {
    const changed = list.filter((c) => targets.has(c.name) && targets.get(c.name) !== c.image);
    if (changed.length === 0) continue;
    templateSpec[`$setElementOrder/${field}`] = list.map((c) => ({ name: c.name }));
    templateSpec[field] = changed.map((c) => ({ image: targets.get(c.name), name: c.name }));
  }
  return {
    ...(changeCause !== undefined
      ? { metadata: { annotations: { [CHANGE_CAUSE_ANNOTATION]: changeCause } } }
      : {}),
    spec: { template: { spec: templateSpec } },
  };
}

export interface DeploymentChange {
  /** False when nothing needed to change (the images were already set): no new rollout starts. */
  changed: boolean;
  /** `container=image` before and after, in container order. */
  imagesBefore: string[];
  imagesAfter: string[];
  /** The revision before the change (`deployment.kubernetes.io/revision`). */
  previousRevision: number;
  /** The deployment as the server returned it after the patch (or as read, when unchanged). */
  deployment: Deployment;
}

/**
 * `kubectl set image`: GET, then a strategic merge PATCH of only the containers whose image differs (the
 * patch is idempotent, so a re-run or a retried request never starts a second rollout).
 */
export async function setImages(
  target: DeploymentTarget & ImageChangeRequest & { changeCause?: string | undefined },
): Promise<DeploymentChange> {
  const deployment = await getDeployment(target);
  const targets = resolveImageTargets(deployment, target);
  const imagesBefore = templateImages(deployment.spec.template);
  const previousRevision = deploymentRevision(deployment);
  const all = [
    ...deployment.spec.template.spec.containers,
    ...(deployment.spec.template.spec.initContainers ?? []),
  ];
  const needed = all.some((c) => targets.has(c.name) && targets.get(c.name) !== c.image);
  if (!needed) {
    target.logger?.info(
      `deployment.apps/${target.name} already runs ${[...targets.values()].join(', ')}: nothing to change.`,
    );
    return { changed: false, imagesBefore, imagesAfter: imagesBefore, previousRevision, deployment };
  }
  const patched = await patchDeployment(target, setImagePatch(deployment, targets, target.changeCause), SMP);
  target.logger?.info(`deployment.apps/${target.name} image updated`);
  return {
    changed: true,
    imagesBefore,
    imagesAfter: templateImages(patched.spec.template),
    previousRevision,
    deployment: patched,
  };
}

/** `kubectl rollout restart`: a new rollout with the same images, through the restartedAt template annotation. */
export async function restartDeployment(
  target: DeploymentTarget & { changeCause?: string | undefined; now?: Date },
): Promise<DeploymentChange> {
  const deployment = await getDeployment(target);
  if (deployment.spec.paused) {
    throw new ConfigurationError(
      `can't restart paused deployment (run rollout resume first): deployment "${target.name}" is paused.`,
      { title: 'Deployment paused' },
    );
  }
  const at = (target.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const patch = {
    ...(target.changeCause !== undefined
      ? { metadata: { annotations: { [CHANGE_CAUSE_ANNOTATION]: target.changeCause } } }
      : {}),
    spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: at } } } },
  };
  const patched = await patchDeployment(target, patch, SMP);
  target.logger?.info(`deployment.apps/${target.name} restarted`);
  const images = templateImages(deployment.spec.template);
  return {
    changed: true,
    imagesBefore: images,
    imagesAfter: images,
    previousRevision: deploymentRevision(deployment),
    deployment: patched,
  };
}

/** `kubectl scale --replicas=N`: one merge patch of the scale subresource. Returns the replicas the server stored. */
export async function scaleDeployment(
  target: DeploymentTarget & { replicas: number },
): Promise<{ replicas: number }> {
  if (!Number.isSafeInteger(target.replicas) || target.replicas < 0) {
    throw new ConfigurationError(`Replicas must be a whole number of at least 0, not ${target.replicas}.`, {
      title: 'Invalid input: replicas',
    });
  }
  const scale = await withRetry(
    () =>
      target.conn.request<{ spec?: { replicas?: number } }>('PATCH', `${deploymentPath(target)}/scale`, {
        body: { spec: { replicas: target.replicas } },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: FIELD_MANAGER },
        signal: target.signal,
      }),
    retryOptions(target, `PATCH deployment ${target.name}/scale`),
  );
  target.logger?.info(`deployment.apps/${target.name} scaled`);
  return { replicas: scale.spec?.replicas ?? target.replicas };
}

/** Sets `kubernetes.io/change-cause` on the deployment (copied by the controller to the new ReplicaSet). */
export async function setChangeCause(
  target: DeploymentTarget & { changeCause: string },
): Promise<Deployment> {
  return patchDeployment(
    target,
    { metadata: { annotations: { [CHANGE_CAUSE_ANNOTATION]: target.changeCause } } },
    SMP,
  );
}

async function patchDeployment(
  target: DeploymentTarget,
  body: object,
  contentType: string,
): Promise<Deployment> {
  return withRetry(
    () =>
      target.conn.request<Deployment>('PATCH', deploymentPath(target), {
        body,
        contentType,
        query: { fieldManager: FIELD_MANAGER },
        signal: target.signal,
      }),
    retryOptions(target, `PATCH deployment ${target.name}`),
  );
}

/**
 * A warning when a GitOps or release tool owns the Deployment — its next sync or upgrade puts its own image
 * back. Helm: `meta.helm.sh/release-name` or `app.kubernetes.io/managed-by: Helm`. Argo CD: an
 * `argocd.argoproj.io/*` annotation, or the `app.kubernetes.io/instance` tracking label on a non-Helm object.
 */
export function managementWarning(deployment: Deployment): string | undefined {
  const name = deployment.metadata.name ?? '';
  const annotations = deployment.metadata.annotations ?? {};
  const labels = deployment.metadata.labels ?? {};
  const release = annotations['meta.helm.sh/release-name'];
  const helm = release !== undefined || labels['app.kubernetes.io/managed-by']?.toLowerCase() === 'helm';
  const argoKeys = Object.keys(annotations).filter((k) => k.startsWith('argocd.argoproj.io/'));
  const instance = labels['app.kubernetes.io/instance'];
  if (argoKeys.length > 0 || (!helm && instance !== undefined)) {
    const tracking = annotations['argocd.argoproj.io/tracking-id'];
    const app = tracking?.split(':')[0] ?? instance;
    return `Deployment "${name}" is managed by Argo CD${app ? ` (application "${app}")` : ''}: its next sync reverts this change unless auto-sync is off or the image is changed in Git.`;
  }
  if (helm) {
    return `Deployment "${name}" is managed by Helm${release ? ` (release "${release}")` : ''}: the next helm upgrade puts the chart's image back; change the image through the chart to make it stick.`;
  }
  return undefined;
}
