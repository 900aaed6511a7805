import { ConfigurationError, formatDuration, maskSecret, type Logger } from '@planner-deploy/action-kit';
import {
  fargateProfileLookup,
  CHANGE_CAUSE_ANNOTATION,
  connect,
  deploymentRevision,
  getRolloutHistory,
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
}

export interface RolloutReport {
  namespace: string;
  cluster: string;
  deployments: DeploymentReport[];
  durationMs: number;
  waited: boolean;
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
    const reports = await Promise.all(
      planned.map(async (plan): Promise<DeploymentReport> => {
        const { name, deployment } = plan;
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

    if (!inputs.wait) {
      for (const report of reports) report.durationMs = Date.now() - started;
      return {
        namespace,
        cluster: conn.description,
        deployments: reports,
        durationMs: Date.now() - started,
        waited: false,
      };
    }

    // 3. Wait for all of them with one watch, failing fast on broken pods.
    const results = await waitForRollouts({
      conn,
      namespace,
      deployments: reports.map((r) => r.name),
      deadline,
      failFast: inputs['fail-fast'],
      readyGraceMs: inputs['ready-grace'],
      logger,
      signal,
      fargateProfiles: fargateProfileLookup(conn.source, inputs.connection),
    });
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
