import { maskSecret, type Logger } from '@planner-deploy/action-kit';
import {
  fargateProfileLookup,
  buildMigrationJob,
  connect,
  createJob,
  deleteJob,
  getDeployment,
  migrationJobName,
  waitForJob,
  type JobRunResult,
  type KubeConnection,
} from '@planner-deploy/kube';
import type { Inputs } from './inputs.js';

export interface RunContext {
  sha?: string | undefined;
  runId?: string | undefined;
  runAttempt?: string | undefined;
}

export interface MigrationReport {
  namespace: string;
  cluster: string;
  jobName: string;
  adopted: boolean;
  result: JobRunResult;
  /** What happened to the Job when the run was cancelled. */
  cancelNote?: string | undefined;
}

/**
 * Creates the migration Job from the Deployment's pod template (or adopts the one an earlier try of this
 * same attempt created), streams its logs into the step log, and waits for Complete or Failed.
 */
export async function runMigration(
  inputs: Inputs,
  context: RunContext,
  logger: Logger,
  signal: AbortSignal,
  connectTo: typeof connect = connect,
): Promise<MigrationReport> {
  const deadline = Date.now() + inputs.timeout;
  const conn: KubeConnection = await connectTo({ ...inputs.connection, mask: maskSecret, logger, signal });
  try {
    const namespace = inputs.namespace ?? conn.defaultNamespace;
    const deployment = await getDeployment({
      conn,
      namespace,
      name: inputs.deployment,
      logger,
      signal,
      deadline,
    });
    const jobName =
      inputs['job-name'] ??
      migrationJobName({
        deployment: inputs.deployment,
        sha: context.sha,
        runId: context.runId,
        runAttempt: context.runAttempt,
      });
    const job = buildMigrationJob({
      deployment,
      container: inputs.container,
      image: inputs.image,
      command: inputs.command,
      args: inputs.args,
      jobName,
      runId: [context.runId ?? 'local', context.runAttempt ?? '1'].join('-'),
      backoffLimit: inputs['backoff-limit'],
      activeDeadlineSeconds: Math.ceil(inputs.timeout / 1000),
      ttlSecondsAfterFinished: inputs['ttl-seconds-after-finished'],
    });
    job.metadata.namespace = namespace;
    logger.info(
      `Connected to ${conn.description}. Running ${[...(job.spec.template.spec.containers[0]?.command ?? []), ...(job.spec.template.spec.containers[0]?.args ?? [])].join(' ') || "the container's entrypoint"} in ${inputs.image} as job.batch/${jobName} (namespace ${namespace}).`,
    );
    const { job: created, adopted } = await createJob({ conn, job, logger, signal, deadline });
    const result = await logger.group(`Migration log (job.batch/${jobName})`, () =>
      waitForJob({
        conn,
        namespace,
        job: created,
        container: job.spec.template.spec.containers[0]?.name,
        logger,
        deadline,
        signal,
        logTailLines: inputs['log-tail-lines'],
        fargateProfiles: fargateProfileLookup(conn.eksCluster),
      }),
    );
    // The Job's activeDeadlineSeconds is our timeout: Kubernetes failing it for DeadlineExceeded is a timeout.
    if (result.status === 'failed' && result.reason === 'DeadlineExceeded') result.status = 'timed-out';
    let cancelNote: string | undefined;
    if (result.status === 'cancelled') {
      if (inputs['delete-on-cancel']) {
        // The run's signal is aborted: the delete gets its own short budget inside the runner's grace.
        const deleted = await deleteJob({
          conn,
          namespace,
          name: jobName,
          signal: AbortSignal.timeout(4000),
          logger,
        }).catch(() => false);
        cancelNote = deleted
          ? `job.batch/${jobName} was deleted and its pod stopped; the migration may have stopped part-way — check the schema version (alembic current) before the next deploy.`
          : `job.batch/${jobName} could not be deleted and may still be running: kubectl delete job ${jobName} -n ${namespace}.`;
      } else {
        cancelNote = `job.batch/${jobName} was left running (delete-on-cancel: false): kubectl logs -f job/${jobName} -n ${namespace}.`;
      }
    }
    return { namespace, cluster: conn.description, jobName, adopted, result, cancelNote };
  } finally {
    conn.close();
  }
}
