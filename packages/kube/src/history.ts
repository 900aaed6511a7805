import { ActionFailure, type Logger } from '@planner-deploy/core';
import {
  findNewReplicaSet,
  listOwnedReplicaSets,
  POD_TEMPLATE_HASH,
  templatesEqualIgnoringHash,
} from './replica-sets.js';
import { withRetry } from './retry.js';
import { deploymentRevision, REVISION_ANNOTATION } from './rollout-status.js';
import type { Transport } from './transport.js';
import type { Deployment, PodTemplateSpec, ReplicaSet } from './types.js';

export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';

/** Deployment annotations undo keeps from the deployment instead of copying from the ReplicaSet. */
export const UNDO_SKIPPED_ANNOTATIONS: readonly string[] = [
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
];

/** One revision of a deployment, from the ReplicaSet that carries it. */
export interface RevisionEntry {
  revision: number;
  replicaSet: string;
  /** `kubernetes.io/change-cause` of the ReplicaSet (kubectl shows `<none>` without one). */
  changeCause?: string;
  /** `container=image` of the revision's template, in container order. */
  images: string[];
  template: PodTemplateSpec;
  /** The revision the deployment's template is at now. */
  current: boolean;
}

export interface HistoryOptions {
  conn: Pick<Transport, 'request'>;
  namespace: string;
  name: string;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  /** Epoch ms for retries of transient errors. */
  deadline?: number | undefined;
}

/** Why undo refused, in kubectl's words. */
export class UndoError extends ActionFailure {
  readonly code: 'paused' | 'revision-not-found' | 'no-history' | 'moved';
  constructor(code: UndoError['code'], message: string) {
    super('Rollback refused', message);
    this.code = code;
  }
}

/** The JSON patch ops undo sends. */
export interface JsonPatchOperation {
  op: 'replace';
  path: string;
  value: unknown;
}

export type UndoPlan =
  | { kind: 'skip'; revision: number; replicaSet: string; message: string }
  | { kind: 'patch'; revision: number; replicaSet: string; patch: JsonPatchOperation[] };

function revisionOf(rs: ReplicaSet): number | undefined {
  const text = rs.metadata.annotations?.[REVISION_ANNOTATION];
  if (text === undefined) return 0;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Earlier revisions a ReplicaSet carried (`deployment.kubernetes.io/revision-history`, e.g. `1,3`). */
export function revisionHistoryOf(rs: ReplicaSet): number[] {
  const text = rs.metadata.annotations?.['deployment.kubernetes.io/revision-history'] ?? '';
  return text
    .split(',')
    .map((part) => Number(part.trim()))
    .filter((n) => Number.isSafeInteger(n) && n > 0);
}

/** `container=image` of a template. */
export function templateImages(template: PodTemplateSpec): string[] {
  return template.spec.containers.map((c) => `${c.name}=${c.image ?? ''}`);
}

/** The revisions of a deployment, oldest first (what `kubectl rollout history` lists). */
export function revisionsOf(deployment: Deployment, owned: ReplicaSet[]): RevisionEntry[] {
  const current = findNewReplicaSet(deployment, owned);
  return owned
    .map((rs) => ({ rs, revision: revisionOf(rs) }))
    .filter((e): e is { rs: ReplicaSet; revision: number } => e.revision !== undefined)
    .sort((a, b) => a.revision - b.revision)
    .map(({ rs, revision }) => {
      const cause = rs.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
      return {
        revision,
        replicaSet: rs.metadata.name ?? '',
        ...(cause !== undefined ? { changeCause: cause } : {}),
        images: templateImages(rs.spec.template),
        template: rs.spec.template,
        current: rs === current,
      };
    });
}

/** GETs the deployment and its owned ReplicaSets. */
export async function getRolloutHistory(
  options: HistoryOptions,
): Promise<{ deployment: Deployment; replicaSets: ReplicaSet[]; revisions: RevisionEntry[] }> {
  const retry = { signal: options.signal, logger: options.logger, deadline: options.deadline };
  const deployment = await withRetry(
    () =>
      options.conn.request<Deployment>(
        'GET',
        `/apis/apps/v1/namespaces/${options.namespace}/deployments/${options.name}`,
        {
          signal: options.signal,
        },
      ),
    { what: `GET deployment ${options.name}`, ...retry },
  );
  const replicaSets = await withRetry(() => listOwnedReplicaSets(options.conn, deployment, options.signal), {
    what: `LIST replicasets of ${options.name}`,
    ...retry,
  });
  return { deployment, replicaSets, revisions: revisionsOf(deployment, replicaSets) };
}

/** kubectl's deploymentRevision: the exact revision, or with 0 the second-highest. */
export function replicaSetForRevision(
  deployment: Deployment,
  owned: ReplicaSet[],
  toRevision: number,
): ReplicaSet {
  const name = deployment.metadata.name ?? '';
  if (toRevision < 0)
    throw new UndoError('revision-not-found', `unable to find specified revision ${toRevision} in history`);
  let latest: ReplicaSet | undefined;
  let latestRevision = -1;
  let previous: ReplicaSet | undefined;
  let previousRevision = -1;
  for (const rs of owned) {
    const revision = revisionOf(rs);
    if (revision === undefined) continue;
    if (toRevision === 0) {
      if (latestRevision < revision) {
        previous = latest;
        previousRevision = latestRevision;
        latest = rs;
        latestRevision = revision;
      } else if (previousRevision < revision) {
        previous = rs;
        previousRevision = revision;
      }
    } else if (revision === toRevision) {
      return rs;
    }
  }
  if (toRevision > 0)
    throw new UndoError('revision-not-found', `unable to find specified revision ${toRevision} in history`);
  if (!previous) throw new UndoError('no-history', `no rollout history found for deployment "${name}"`);
  return previous;
}

/**
 * `kubectl rollout undo` without the request: the ReplicaSet to go back to, then the paused check, then the
 * skip check, then the JSON patch kubectl sends (template with the hash label removed; annotations from the
 * ReplicaSet except the skip set, whose values stay the deployment's).
 */
export function planUndo(
  deployment: Deployment,
  owned: ReplicaSet[],
  toRevision = 0,
  options: { followRevisionHistory?: boolean } = {},
): UndoPlan {
  let rs: ReplicaSet;
  try {
    rs = replicaSetForRevision(deployment, owned, toRevision);
  } catch (error) {
    // A rollback renumbers the revision it goes back to (N becomes max+1, N is kept in revision-history),
    // so a re-run of the same rollback would not find N any more where kubectl stops. Follow the history
    // instead: the ReplicaSet that was revision N has the same template.
    const renumbered =
      options.followRevisionHistory !== false &&
      error instanceof UndoError &&
      error.code === 'revision-not-found'
        ? owned.find((r) => revisionHistoryOf(r).includes(toRevision))
        : undefined;
    if (!renumbered) throw error;
    rs = renumbered;
  }
  const revision = revisionOf(rs) ?? 0;
  const replicaSet = rs.metadata.name ?? '';
  if (deployment.spec.paused) {
    throw new UndoError(
      'paused',
      "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    );
  }
  if (templatesEqualIgnoringHash(rs.spec.template, deployment.spec.template)) {
    return {
      kind: 'skip',
      revision,
      replicaSet,
      message: `deployment.apps/${deployment.metadata.name} skipped rollback (current template already matches revision ${toRevision > 0 ? toRevision : revision})${toRevision > 0 && toRevision !== revision ? ` (now revision ${revision})` : ''}`,
    };
  }
  const template = structuredClone(rs.spec.template);
  template.metadata ??= {};
  if (template.metadata.labels) {
    delete template.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(template.metadata.labels).length === 0) delete template.metadata.labels;
  }
  if (!('creationTimestamp' in template.metadata)) {
    template.metadata = { creationTimestamp: null, ...template.metadata };
  }
  const annotations: Record<string, string> = {};
  for (const key of UNDO_SKIPPED_ANNOTATIONS) {
    const value = deployment.metadata.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  for (const [key, value] of Object.entries(rs.metadata.annotations ?? {})) {
    if (!UNDO_SKIPPED_ANNOTATIONS.includes(key)) annotations[key] = value;
  }
  const sorted = Object.fromEntries(
    Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return {
    kind: 'patch',
    revision,
    replicaSet,
    patch: [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: sorted },
    ],
  };
}

export interface UndoOptions extends HistoryOptions {
  /** The revision to go back to; 0 (default) = the previous one. */
  toRevision?: number;
  /** Refuse when the deployment is no longer at this revision (someone rolled out after us). */
  expectCurrentRevision?: number | undefined;
  /** `?dryRun=All`: the server validates, nothing is stored. */
  dryRun?: boolean;
}

export interface UndoResult {
  outcome: 'rolled-back' | 'skipped';
  /** kubectl's line: `deployment.apps/x rolled back` or `… skipped rollback (…)`. */
  message: string;
  /** The deployment's revision before the undo. */
  fromRevision: number;
  /** The revision whose template it now has. */
  toRevision: number;
  replicaSet: string;
  imagesBefore: string[];
  imagesAfter: string[];
  /** The patched deployment (absent when skipped). */
  deployment?: Deployment;
}

/** `kubectl rollout undo deployment/<name> [--to-revision=N]`, with kubectl's checks and patch. */
export async function undoRollout(options: UndoOptions): Promise<UndoResult> {
  const { deployment, replicaSets } = await getRolloutHistory(options);
  const fromRevision = deploymentRevision(deployment);
  if (options.expectCurrentRevision !== undefined && fromRevision !== options.expectCurrentRevision) {
    throw new UndoError(
      'moved',
      `deployment "${options.name}" is at revision ${fromRevision}, not ${options.expectCurrentRevision}: it was changed after our rollout began, so rolling it back could undo someone else's change.`,
    );
  }
  const plan = planUndo(deployment, replicaSets, options.toRevision ?? 0);
  const imagesBefore = templateImages(deployment.spec.template);
  const target = replicaSets.find((rs) => rs.metadata.name === plan.replicaSet) as ReplicaSet;
  const imagesAfter = templateImages(target.spec.template);
  if (plan.kind === 'skip') {
    options.logger?.info(plan.message);
    return {
      outcome: 'skipped',
      message: plan.message,
      fromRevision,
      toRevision: plan.revision,
      replicaSet: plan.replicaSet,
      imagesBefore,
      imagesAfter,
    };
  }
  const patched = await withRetry(
    () =>
      options.conn.request<Deployment>(
        'PATCH',
        `/apis/apps/v1/namespaces/${options.namespace}/deployments/${options.name}`,
        {
          body: plan.patch,
          contentType: 'application/json-patch+json',
          query: options.dryRun ? { dryRun: 'All' } : {},
          signal: options.signal,
        },
      ),
    {
      what: `PATCH deployment ${options.name}`,
      signal: options.signal,
      logger: options.logger,
      deadline: options.deadline,
    },
  );
  const message = `deployment.apps/${options.name} rolled back${options.dryRun ? ' (server dry run)' : ''}`;
  options.logger?.info(message);
  return {
    outcome: 'rolled-back',
    message,
    fromRevision,
    toRevision: plan.revision,
    replicaSet: plan.replicaSet,
    imagesBefore,
    imagesAfter,
    deployment: patched,
  };
}
