import { formatDuration, maskSecret, quoteUntrusted, type Logger } from '@planner-deploy/action-kit';
import {
  fargateProfileLookup,
  connect,
  deploymentRevision,
  getRolloutHistory,
  undoRollout,
  UndoError,
  waitForRollouts,
  type KubeConnection,
  type PodFailure,
  type ReplicaSet,
} from '@planner-deploy/kube';
import type { Inputs } from './inputs.js';

const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const REVISION = 'deployment.kubernetes.io/revision';

export interface RollbackReport {
  name: string;
  outcome: 'rolled-back' | 'already-there' | 'failed' | 'refused' | 'timed-out' | 'cancelled';
  message: string;
  /** The revision it was at. */
  fromRevision: number;
  /** The revision asked for (0 = previous). */
  toRevision: number;
  /** The revision after the rollback (the restored template gets a new number). */
  revision: number;
  imagesBefore: string[];
  imagesAfter: string[];
  durationMs: number;
  diagnosis?: PodFailure | undefined;
}

export interface AutoRollbackReport {
  namespace: string;
  cluster: string;
  deployments: RollbackReport[];
  reason: string | undefined;
  snapshot: string | undefined;
  durationMs: number;
}

/**
 * Where revision N lives now. kubectl numbers a restored template anew (N becomes max+1 and N moves to the
 * ReplicaSet's revision-history), so a second rollback to N — a re-run of this step — must find N there and
 * see that it is already in place, instead of failing or flip-flopping.
 */
export function findRevision(owned: ReplicaSet[], revision: number): ReplicaSet | undefined {
  const exact = owned.find((rs) => rs.metadata.annotations?.[REVISION] === String(revision));
  if (exact) return exact;
  return owned.find((rs) =>
    (rs.metadata.annotations?.[REVISION_HISTORY] ?? '')
      .split(',')
      .map((s) => s.trim())
      .includes(String(revision)),
  );
}

export async function autoRollback(
  inputs: Inputs,
  logger: Logger,
  signal: AbortSignal,
  connectTo: typeof connect = connect,
): Promise<AutoRollbackReport> {
  const started = Date.now();
  const deadline = started + inputs.timeout;
  const conn: KubeConnection = await connectTo({ ...inputs.connection, mask: maskSecret, logger, signal });
  try {
    const namespace = inputs.namespace ?? conn.defaultNamespace;
    logger.info(
      `Connected to ${conn.description}; namespace ${namespace}.${inputs.reason ? ` Reason: ${quoteUntrusted(inputs.reason)}.` : ''}`,
    );
    const reports = await Promise.all(
      inputs.deployments.map((name) => rollBackOne(conn, namespace, name, inputs, logger, signal, deadline)),
    );
    const moving = reports.filter((r) => r.outcome === 'rolled-back');
    if (inputs.wait && moving.length > 0) {
      const results = await waitForRollouts({
        conn,
        namespace,
        deployments: moving.map((r) => r.name),
        deadline,
        failFast: true,
        readyGraceMs: inputs['ready-grace'],
        logger,
        signal,
        fargateProfiles: fargateProfileLookup(conn.eksCluster),
      });
      for (const result of results) {
        const report = moving.find((r) => r.name === result.name) as RollbackReport;
        report.durationMs = Date.now() - started;
        report.revision = result.revision || report.revision;
        if (result.outcome !== 'succeeded') {
          report.outcome = result.outcome;
          report.message = `the rollback's own rollout ${result.outcome === 'failed' ? 'failed' : result.outcome}: ${result.message}`;
          report.diagnosis = result.diagnosis;
        } else {
          logger.info(`${result.name}: rollback rolled out in ${formatDuration(result.durationMs)}.`);
        }
      }
    }
    return {
      namespace,
      cluster: conn.description,
      deployments: reports,
      reason: inputs.reason,
      snapshot: inputs['snapshot-identifier'],
      durationMs: Date.now() - started,
    };
  } finally {
    conn.close();
  }
}

async function rollBackOne(
  conn: KubeConnection,
  namespace: string,
  name: string,
  inputs: Inputs,
  logger: Logger,
  signal: AbortSignal,
  deadline: number,
): Promise<RollbackReport> {
  const started = Date.now();
  const wanted = inputs['to-revision'].get(name) ?? 0;
  const { deployment, replicaSets, revisions } = await getRolloutHistory({
    conn,
    namespace,
    name,
    signal,
    deadline,
    logger,
  });
  const current = deploymentRevision(deployment);
  const currentImages = revisions.find((r) => r.current)?.images ?? [];
  const base = { name, fromRevision: current, toRevision: wanted, imagesBefore: currentImages };

  let toRevision = wanted;
  if (wanted > 0) {
    const holder = findRevision(replicaSets, wanted);
    if (!holder) {
      return {
        ...base,
        outcome: 'failed',
        message: `revision ${wanted} is no longer in the history of deployment "${name}" (revisionHistoryLimit may have removed it). Revisions there: ${revisions.map((r) => r.revision).join(', ') || 'none'}.`,
        revision: current,
        imagesAfter: currentImages,
        durationMs: Date.now() - started,
      };
    }
    const holderRevision = Number(holder.metadata.annotations?.[REVISION] ?? 0);
    if (holderRevision === current) {
      const message = `deployment "${name}" already runs revision ${wanted}'s template (now revision ${current}): nothing to roll back.`;
      logger.info(message);
      return {
        ...base,
        outcome: 'already-there',
        message,
        revision: current,
        imagesAfter: currentImages,
        durationMs: Date.now() - started,
      };
    }
    // Our rollout made revision wanted+1 at most; anything later is someone else's change.
    if (current > wanted + 1 && !inputs.force) {
      return {
        ...base,
        outcome: 'refused',
        message: `deployment "${name}" is at revision ${current}, past the revision ${wanted + 1} our rollout made: someone changed it after our rollout began, so rolling back to ${wanted} could undo their change. Nothing was changed; set force: true to roll back anyway.`,
        revision: current,
        imagesAfter: currentImages,
        durationMs: Date.now() - started,
      };
    }
    toRevision = holderRevision;
  }

  try {
    const result = await undoRollout({ conn, namespace, name, toRevision, logger, signal, deadline });
    if (result.outcome === 'skipped') {
      return {
        ...base,
        outcome: 'already-there',
        message: result.message,
        revision: current,
        imagesAfter: result.imagesAfter,
        durationMs: Date.now() - started,
      };
    }
    return {
      ...base,
      outcome: 'rolled-back',
      message: result.message,
      // The controller numbers the restored template max+1 (the current revision is the max); the wait below
      // reads the number the controller actually wrote.
      revision: current + 1,
      imagesAfter: result.imagesAfter,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    if (error instanceof UndoError) {
      return {
        ...base,
        outcome: 'failed',
        message: error.message,
        revision: current,
        imagesAfter: currentImages,
        durationMs: Date.now() - started,
      };
    }
    throw error;
  }
}
