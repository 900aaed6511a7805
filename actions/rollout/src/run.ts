import {
  ActionFailure,
  asUserError,
  CancelledError,
  ConfigurationError,
  errorMessage,
  formatDuration,
  maskSecret,
  type Logger,
} from '@planner-deploy/action-kit';
import {
  fargateProfileLookup,
  CHANGE_CAUSE_ANNOTATION,
  connect,
  deploymentRevision,
  getRolloutHistory,
  KubeApiError,
  managementWarning,
  resolveImageTargets,
  RESTARTED_AT_ANNOTATION,
  scaleDeployment,
  setImagePatch,
  templateImages,
  waitForRollouts,
  withRetry,
  type Deployment,
  type KubeConnection,
  type PodFailure,
  type RolloutOutcome,
} from '@planner-deploy/kube';
import type { Inputs } from './inputs.js';

/** The run's GitHub context (commit and run URL for the change-cause and the summary). */
export interface RunContext {
  sha?: string | undefined;
  runUrl?: string | undefined;
}

export interface DeploymentReport {
  name: string;
  outcome: RolloutOutcome | 'applied';
  message: string;
  previousRevision: number;
  revision: number;
  imagesBefore: string[];
  imagesAfter: string[];
  replicas?: number | undefined;
  changed: boolean;
  durationMs: number;
  diagnosis?: PodFailure | undefined;
  warning?: string | undefined;
  /** Cancelled while its PATCH was in flight: the change may or may not have applied. */
  uncertain?: boolean | undefined;
}

export interface RolloutReport {
  namespace: string;
  cluster: string;
  deployments: DeploymentReport[];
  durationMs: number;
  waited: boolean;
  /**
   * What stopped the step after a change may have been made (a later PATCH failed, a Deployment was
   * deleted mid-run, the wait failed, a cancel): thrown by main after the outputs and summary are written,
   * so auto-rollback has previous-revision for every Deployment that changed.
   */
  failure?: Error | undefined;
}

interface Planned {
  name: string;
  deployment: Deployment;
  targets: Map<string, string>;
  needsPatch: boolean;
}

const SMP = 'application/strategic-merge-patch+json';

export function defaultChangeCause(inputs: Inputs, context: RunContext): string {
  const what =
    inputs.image ?? (inputs.images ? [...inputs.images].map(([c, i]) => `${c}=${i}`).join(', ') : 'restart');
  const parts = [`planner-deploy: ${what}`];
  if (context.sha) parts.push(`commit ${context.sha.slice(0, 7)}`);
  if (context.runUrl) parts.push(context.runUrl);
  return parts.join(' — ');
}

/**
 * Sets the images (and/or restarts, scales), then waits for every Deployment with one watch. Everything is
 * checked before the first change: a missing deployment, an unknown container or a paused deployment stops
 * the step with nothing changed.
 */
export async function rollout(
  inputs: Inputs,
  context: RunContext,
  logger: Logger,
  signal: AbortSignal,
  connectTo: typeof connect = connect,
): Promise<RolloutReport> {
  const started = Date.now();
  const deadline = started + inputs.timeout;
  const conn: KubeConnection = await connectTo({ ...inputs.connection, mask: maskSecret, logger, signal });
  try {
    const namespace = inputs.namespace ?? conn.defaultNamespace;
    logger.info(`Connected to ${conn.description}; namespace ${namespace}.`);
    const changeCause = inputs['change-cause'] ?? defaultChangeCause(inputs, context);
    const retry = (what: string) => ({ what, signal, logger, deadline });

    // 1. Read every deployment and check the request against it before changing anything.
    const planned: Planned[] = await Promise.all(
      inputs.deployments.map(async (name): Promise<Planned> => {
        const deployment = await withRetry(
          () =>
            conn.request<Deployment>('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`, {
              signal,
            }),
          retry(`GET deployment ${name}`),
        );
        if (deployment.spec.paused) {
          throw new PausedError(name, namespace);
        }
        const wantsImage = inputs.image !== undefined || inputs.images !== undefined;
        const targets = wantsImage
          ? resolveImageTargets(deployment, {
              image: inputs.image,
              container: inputs.container,
              images: inputs.images,
            })
          : new Map<string, string>();
        const containers = [
          ...deployment.spec.template.spec.containers,
          ...(deployment.spec.template.spec.initContainers ?? []),
        ];
        const needsPatch = containers.some((c) => targets.has(c.name) && targets.get(c.name) !== c.image);
        return { name, deployment, targets, needsPatch };
      }),
    );

    // 2. Apply: one strategic-merge patch per deployment (images, change-cause, restart annotation together).
    // Each Deployment's progress is kept outside its promise: when one fails, the report still says which
    // others changed (and which PATCH was in flight when a cancel came).
    const progress = new Map(planned.map((plan) => [plan.name, { patching: false, changed: false }]));
    const settled = await Promise.allSettled(
      planned.map(async (plan): Promise<DeploymentReport> => {
        const { name, deployment } = plan;
        const state = progress.get(name) as { patching: boolean; changed: boolean };
        const warning = managementWarning(deployment);
        if (warning) logger.warning(warning, { title: `${name} is managed by another tool` });
        const currentRevision = deploymentRevision(deployment);
        const imagesBefore = templateImages(deployment.spec.template);
        let changed = false;
        let patched = deployment;
        if (plan.needsPatch || inputs.restart) {
          const patch = plan.needsPatch
            ? (setImagePatch(deployment, plan.targets, changeCause) as {
                metadata?: object;
                spec: { template: { spec: object; metadata?: object } };
              })
            : {
                metadata: { annotations: { [CHANGE_CAUSE_ANNOTATION]: changeCause } },
                spec: { template: { spec: {} } },
              };
          if (inputs.restart) {
            patch.spec.template.metadata = {
              annotations: { [RESTARTED_AT_ANNOTATION]: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
            };
          }
          state.patching = true;
          patched = await withRetry(
            () =>
              conn.request<Deployment>('PATCH', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`, {
                body: patch,
                contentType: SMP,
                query: { fieldManager: 'planner-deploy' },
                signal,
              }),
            retry(`PATCH deployment ${name}`),
          );
          changed = true;
          state.changed = true;
          state.patching = false;
          logger.info(`deployment.apps/${name} ${plan.needsPatch ? 'image updated' : 'restarted'}`);
        } else if (plan.targets.size > 0) {
          logger.info(
            `deployment.apps/${name} already runs ${[...plan.targets.values()].join(', ')}: no new rollout.`,
          );
        }
        let replicas = deployment.spec.replicas;
        if (inputs.replicas !== undefined && inputs.replicas !== deployment.spec.replicas) {
          replicas = (
            await scaleDeployment({
              conn,
              namespace,
              name,
              replicas: inputs.replicas,
              logger,
              signal,
              deadline,
            })
          ).replicas;
          logger.info(`deployment.apps/${name} scaled to ${replicas}`);
        }
        const previousRevision = changed
          ? currentRevision
          : await revisionBeforeOurs(conn, namespace, name, deployment, context, signal, deadline, logger);
        return {
          name,
          outcome: 'applied',
          message: changed ? 'change applied' : 'already up to date',
          previousRevision,
          revision: currentRevision,
          imagesBefore,
          imagesAfter: templateImages(patched.spec.template),
          replicas,
          changed,
          durationMs: 0,
          warning,
        };
      }),
    );
    // A report written without the wait (wait: false, or a failure after a change): outputs still come from it.
    const unwaited = (deployments: DeploymentReport[], failure?: Error): RolloutReport => ({
      namespace,
      cluster: conn.description,
      deployments,
      durationMs: Date.now() - started,
      waited: false,
      ...(failure ? { failure } : {}),
    });
    const partial = partialFailure(planned, settled, progress, namespace, signal, logger);
    if (partial) return unwaited(partial.reports, partial.failure);
    const reports = settled.map((result) => (result as PromiseFulfilledResult<DeploymentReport>).value);

    if (!inputs.wait) {
      for (const report of reports) report.durationMs = Date.now() - started;
      return unwaited(reports);
    }

    // 3. Wait for all of them with one watch, failing fast on broken pods.
    let results: Awaited<ReturnType<typeof waitForRollouts>>;
    try {
      results = await waitForRollouts({
        conn,
        namespace,
        deployments: reports.map((r) => r.name),
        deadline,
        failFast: inputs['fail-fast'],
        readyGraceMs: inputs['ready-grace'],
        logger,
        signal,
        fargateProfiles: fargateProfileLookup(conn.eksCluster),
      });
    } catch (error) {
      // The changes are made: the outputs must still be written for auto-rollback.
      const changed = reports.filter((r) => r.changed).map((r) => r.name);
      logger.info(
        `Waiting for the rollout failed after the change was made; changed: ${changed.join(', ') || 'none'}.`,
      );
      for (const report of reports) report.durationMs = Date.now() - started;
      return unwaited(reports, error instanceof Error ? error : new Error(String(error)));
    }
    for (const report of reports) {
      const result = results.find((r) => r.name === report.name);
      if (!result) continue;
      report.outcome = result.outcome;
      report.message = result.message;
      report.revision = result.revision || report.revision;
      report.durationMs = result.durationMs;
      report.diagnosis = result.diagnosis;
      logger.info(
        `${report.name}: ${result.outcome} in ${formatDuration(result.durationMs)}: ${result.message}`,
      );
    }
    return {
      namespace,
      cluster: conn.description,
      deployments: reports,
      durationMs: Date.now() - started,
      waited: true,
    };
  } finally {
    conn.close();
  }
}

/**
 * When some Deployment's change failed (a PATCH past its retries, a Deployment deleted mid-run, a cancel):
 * a report of every Deployment (changed or not, with its revisions) and the error to fail the step with,
 * naming what changed, what did not, and for a PATCH cut by a cancel, how to see whether it applied.
 * Undefined when every change went through.
 */
function partialFailure(
  planned: readonly Planned[],
  settled: readonly PromiseSettledResult<DeploymentReport>[],
  progress: ReadonlyMap<string, { patching: boolean; changed: boolean }>,
  namespace: string,
  signal: AbortSignal,
  logger: Logger,
): { reports: DeploymentReport[]; failure: Error } | undefined {
  const firstError = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!firstError) return undefined;
  const cancelled = signal.aborted;
  const reports = planned.map((plan, index): DeploymentReport => {
    const result = settled[index] as PromiseSettledResult<DeploymentReport>;
    if (result.status === 'fulfilled') return result.value;
    const state = progress.get(plan.name) ?? { patching: false, changed: false };
    const revision = deploymentRevision(plan.deployment);
    const images = templateImages(plan.deployment.spec.template);
    const uncertain = cancelled && state.patching && !state.changed;
    return {
      name: plan.name,
      outcome: cancelled ? 'cancelled' : 'failed',
      message: uncertain
        ? 'cancelled during its PATCH: the change may or may not have applied'
        : `${state.changed ? 'changed, then ' : 'not changed: '}${failureText(result.reason)}`,
      previousRevision: revision,
      revision,
      imagesBefore: images,
      imagesAfter: state.changed || uncertain ? [...plan.targets].map(([c, i]) => `${c}=${i}`) : images,
      changed: state.changed,
      uncertain,
      durationMs: 0,
    };
  });
  const changed = reports
    .filter((r) => r.changed)
    .map((r) => `${r.name} (was revision ${r.previousRevision})`);
  const uncertain = reports.filter((r) => r.uncertain).map((r) => r.name);
  const unchanged = reports.filter((r) => !r.changed && !r.uncertain).map((r) => r.name);
  const state =
    `Changed: ${changed.join(', ') || 'none'}. Not changed: ${unchanged.join(', ') || 'none'}.` +
    (uncertain.length > 0
      ? ` Cancelled during the PATCH of ${uncertain.join(', ')}: the change may or may not have applied; check with ${uncertain.map((n) => `kubectl rollout history deployment/${n} -n ${namespace}`).join(' and ')}.`
      : '');
  logger.info(state);
  const back =
    changed.length > 0
      ? ' The previous-revision output has the revision to go back to for each Deployment (auto-rollback takes it as to-revision).'
      : '';
  if (cancelled) {
    return {
      reports,
      failure: new CancelledError(`Cancelled while changing the Deployments. ${state}${back}`),
    };
  }
  const userError = asUserError(firstError.reason);
  // Nothing changed: the error is the whole story (a missing permission, a Deployment gone).
  if (changed.length === 0 && userError) return { reports, failure: userError };
  const who = reports.find((r, i) => settled[i]?.status === 'rejected')?.name ?? '';
  return {
    reports,
    failure: new ActionFailure(
      userError?.title ?? 'Rollout failed',
      `${who}: ${failureText(firstError.reason)} ${state}${back}`,
      { cause: firstError.reason },
    ),
  };
}

/** One error in words: what to fix for a user's mistake, kubectl's wording for an API error. */
function failureText(error: unknown): string {
  const userError = asUserError(error);
  if (userError) return userError.message;
  return error instanceof KubeApiError
    ? `HTTP ${error.statusCode}: ${error.describe()}.`
    : errorMessage(error);
}

/**
 * The revision to roll back to when this step changed nothing. A re-run of our own step finds the image
 * already set by the first attempt: the current revision is ours, so the one before it is the revision
 * history shows below it. If the deployment already ran this image before our run, nothing was rolled out
 * and the current revision is the one to keep.
 */
async function revisionBeforeOurs(
  conn: KubeConnection,
  namespace: string,
  name: string,
  deployment: Deployment,
  context: RunContext,
  signal: AbortSignal,
  deadline: number,
  logger: Logger,
): Promise<number> {
  const current = deploymentRevision(deployment);
  const cause = deployment.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION] ?? '';
  if (!context.runUrl || !cause.includes(context.runUrl)) return current;
  const { revisions } = await getRolloutHistory({ conn, namespace, name, signal, deadline, logger });
  const below = revisions.map((r) => r.revision).filter((r) => r < current);
  const previous = below.length > 0 ? Math.max(...below) : current;
  logger.info(
    `${name}: revision ${current} was rolled out by an earlier attempt of this run; the revision before it is ${previous}.`,
  );
  return previous;
}

/** A paused deployment would take the new template but never roll it out: refuse before changing anything. */
export class PausedError extends ConfigurationError {
  constructor(deployment: string, namespace: string) {
    super(
      `deployment "${deployment}" in namespace ${namespace} is paused: a new image would not roll out until it is resumed. Nothing was changed. Resume it (kubectl rollout resume deployment/${deployment} -n ${namespace}) and run again.`,
      { title: 'Deployment paused' },
    );
  }
}
