/**
 * The steps commands share: resolving an image in ECR, the RDS snapshot, the migration Job and waiting for a
 * rollout — each a composition of packages/aws and packages/kube with the CLI's progress display.
 */
import { ActionFailure, formatDuration, stripTerminalControls } from '@planner-deploy/core';
import {
  createEcrContext,
  createRdsContext,
  deriveSnapshotIdentifier,
  describeImage,
  ensureSnapshot,
  findRepository,
  backupTags,
  waitForSnapshot,
  TERMINAL_FAILED_STATUSES,
  type SnapshotInfo,
} from '@planner-deploy/aws';
import {
  buildMigrationJob,
  createJob,
  migrationJobName,
  fargateProfileLookup,
  waitForJob,
  waitForRollouts,
  type Deployment,
  type JobRunResult,
  type KubeConnection,
  type RolloutResult,
} from '@planner-deploy/kube';
import { UsageError } from './args.js';
import type { CommandContext } from './context.js';

/** A UTC timestamp for names: `20261127-213045`. */
export function stamp(now = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace('T', '-')
    .replace(/\.\d+Z$/, '');
}

export interface ResolvedImage {
  tag: string;
  digest: string;
  repositoryUri: string;
  /** `<repositoryUri>:<tag>@<digest>`: readable, and pinned (the kubelet pulls the digest). */
  image: string;
}

/**
 * `<repositoryUri>:<tag>` through ECR (DescribeRepositories, DescribeImages), pinned by digest so the rollout
 * and the migration run exactly the image that was resolved, even if the tag moves meanwhile.
 */
export async function resolveImage(ctx: CommandContext, tag: string): Promise<ResolvedImage> {
  const { settings, ui, signal } = ctx;
  const ecr = await createEcrContext({
    region: settings.region,
    logger: ui.logger({ quietInfo: true }),
    signal,
  });
  try {
    const repository = await findRepository(ecr, settings.repository, false);
    if (!repository?.uri) {
      throw new UsageError(
        `ECR repository "${settings.repository}" does not exist in ${settings.region} (set --repository, ECR_REPOSITORY or the config's repository).`,
      );
    }
    const details = await describeImage(ecr, settings.repository, { tag });
    if (!details) {
      throw new UsageError(
        `image tag "${tag}" is not in ECR repository ${repository.uri}: nothing was changed. Push it first (build-push tags <sha>, <env>-latest and vX.Y.Z) or pick another --image-tag.`,
      );
    }
    return {
      tag,
      digest: details.digest,
      repositoryUri: repository.uri,
      image: `${repository.uri}:${tag}@${details.digest}`,
    };
  } finally {
    ecr.client.destroy();
  }
}

export interface BackupOutcome {
  snapshot: SnapshotInfo;
  origin: 'created' | 'reused' | 'adopted';
}

/** Snapshots the environment's RDS instance and waits until it is available. */
export async function backupDatabase(ctx: CommandContext, dbInstance: string): Promise<BackupOutcome> {
  const { settings, ui, signal } = ctx;
  const logger = {
    ...ui.logger({ quietInfo: true }),
    info: (message: string) => ui.progress(message),
  };
  const rds = await createRdsContext({ region: settings.region, logger, signal });
  const database = { kind: 'instance' as const, id: dbInstance };
  const snapshotId = deriveSnapshotIdentifier({
    kind: 'instance',
    prefix: 'pre-deploy',
    database: dbInstance,
    runId: `cli-${stamp()}`,
  });
  try {
    ui.progress(`snapshot ${snapshotId} of ${dbInstance}: starting`);
    ctx.left.set(
      'snapshot',
      `the RDS snapshot ${snapshotId} of ${dbInstance} continues in RDS (nothing on the cluster was changed yet).`,
    );
    const ensured = await ensureSnapshot(rds, {
      database,
      snapshotId,
      tags: backupTags({ database, runId: `cli-${stamp()}` }),
    });
    let snapshot = ensured.snapshot;
    if (snapshot.status !== 'available' && !TERMINAL_FAILED_STATUSES.has(snapshot.status)) {
      const waited = await waitForSnapshot(rds, snapshot, {
        pollIntervalMs: 1000,
        timeoutMs: settings.timeoutMs,
      });
      snapshot = waited.snapshot;
      if (waited.outcome === 'timeout') {
        throw new ActionFailure(
          'Snapshot timed out',
          `snapshot ${snapshot.id} is still "${snapshot.status}" after ${formatDuration(waited.waitedMs)}; it continues in RDS. Nothing was deployed.`,
        );
      }
    }
    if (signal.aborted) return { snapshot, origin: ensured.origin };
    if (snapshot.status !== 'available') {
      throw new ActionFailure(
        'Snapshot failed',
        `snapshot ${snapshot.id} of ${dbInstance} ended "${snapshot.status}". Nothing was deployed.`,
      );
    }
    return { snapshot, origin: ensured.origin };
  } finally {
    ui.stopProgress();
    ctx.left.clear('snapshot');
    rds.client.destroy();
  }
}

export interface MigrationOutcome {
  jobName: string;
  image: string;
  command: string[];
  result: JobRunResult;
}

/** Runs the migration Job built from the Deployment's pod template with `image`, its log streamed. */
export async function runMigration(
  ctx: CommandContext,
  conn: KubeConnection,
  deployment: Deployment,
  image: string,
): Promise<MigrationOutcome> {
  const { settings, ui, signal } = ctx;
  const runStamp = stamp();
  const jobName = migrationJobName({ deployment: settings.deployment, runId: runStamp });
  const job = buildMigrationJob({
    deployment,
    image,
    command: settings.migrationCommand,
    jobName,
    runId: `cli-${runStamp}`,
    activeDeadlineSeconds: Math.ceil(settings.timeoutMs / 1000),
    ttlSecondsAfterFinished: 86_400,
  });
  job.metadata.namespace = settings.namespace;
  const command = settings.migrationCommand;
  ui.line(`Migration: ${command.join(' ')} in job.batch/${jobName}`);
  const logger = ui.logger({ quietInfo: true });
  const deadline = Date.now() + settings.timeoutMs;
  const { job: created } = await createJob({ conn, job, logger, signal, deadline });
  ctx.left.set(
    'job',
    `the migration Job ${jobName} is still running in ${settings.namespace} (kubectl logs -f job/${jobName} -n ${settings.namespace}; delete it with kubectl delete job ${jobName} -n ${settings.namespace}).`,
  );
  ui.progress(`migration job ${jobName} running`);
  try {
    const result = await waitForJob({
      conn,
      namespace: settings.namespace,
      job: created,
      logger,
      deadline,
      signal,
      // The workload's text: no terminal sequence of it reaches the operator's terminal.
      onLog: (line) => ui.line(`  ${ui.dim('│')} ${stripTerminalControls(line)}`),
      logTailLines: 20,
      fargateProfiles: fargateProfileLookup(conn.eksCluster),
    });
    if (result.status === 'failed' && result.reason === 'DeadlineExceeded') result.status = 'timed-out';
    return { jobName, image, command, result };
  } finally {
    ui.stopProgress();
    if (!signal.aborted) ctx.left.clear('job');
  }
}

/** One line about a migration that did not succeed. */
export function migrationFailure(outcome: MigrationOutcome): string {
  const r = outcome.result;
  const parts = [`migration job ${outcome.jobName} ${r.status}`];
  if (r.exitCode !== undefined) parts.push(`exit code ${r.exitCode}`);
  if (r.reason) parts.push(r.reason);
  return `${parts.join(', ')}: ${r.message}`;
}

/** `planner-app 1/2 updated, 0 available` from a Deployment's status. */
export function rolloutProgress(name: string, deployment: Deployment): string {
  const want = deployment.spec.replicas ?? 1;
  const status = deployment.status ?? {};
  const generation = deployment.metadata.generation ?? 0;
  const observed = (status.observedGeneration ?? 0) >= generation;
  if (!observed) return `${name}: waiting for the controller to see the change`;
  const old = Math.max(0, (status.replicas ?? 0) - (status.updatedReplicas ?? 0));
  return `${name} ${status.updatedReplicas ?? 0}/${want} updated, ${status.availableReplicas ?? 0} available${old > 0 ? `, ${old} old` : ''}`;
}

/** Waits for the Deployment's rollout with `kubectl rollout status` semantics, failing fast on broken pods. */
export async function waitForRollout(
  ctx: CommandContext,
  conn: KubeConnection,
  what: string,
): Promise<RolloutResult> {
  const { settings, ui, signal } = ctx;
  ui.progress(`${settings.deployment}: ${what}`);
  try {
    const [result] = await waitForRollouts({
      conn,
      namespace: settings.namespace,
      deployments: [settings.deployment],
      deadline: Date.now() + settings.timeoutMs,
      failFast: true,
      readyGraceMs: Math.min(120_000, settings.timeoutMs),
      logger: ui.logger({ quietInfo: true }),
      signal,
      onUpdate: (name, deployment) => ui.progress(rolloutProgress(name, deployment)),
      fargateProfiles: fargateProfileLookup(conn.eksCluster),
    });
    if (!result) throw new Error('no rollout result');
    return result;
  } finally {
    ui.stopProgress();
  }
}

/** A rollout failure with its diagnosis (reason, events, last log lines), for the terminal. */
export function describeRolloutFailure(result: RolloutResult): string[] {
  const lines = [`${result.name}: ${result.outcome}: ${result.message}`];
  const d = result.diagnosis;
  if (d) {
    lines.push(`  pod ${d.pod}${d.container ? `, container ${d.container}` : ''}: ${d.reason}`);
    for (const event of d.events ?? []) lines.push(`  event: ${event}`);
    for (const log of d.logs ?? []) lines.push(`  log: ${stripTerminalControls(log)}`);
  }
  return lines;
}
