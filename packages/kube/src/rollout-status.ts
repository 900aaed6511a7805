import type { Deployment } from './types.js';

/** kubectl's verdict on one Deployment object. */
export interface RolloutStatus {
  /** The rollout finished: `deployment "x" successfully rolled out`. */
  done: boolean;
  /** The rollout can no longer finish by itself (ProgressDeadlineExceeded, or the wrong revision). */
  failed: boolean;
  /** kubectl's exact line for this state. */
  message: string;
}

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** The revision kubectl reads from `deployment.kubernetes.io/revision` (0 when missing or not a number). */
export function deploymentRevision(deployment: Deployment): number {
  const text = deployment.metadata.annotations?.[REVISION_ANNOTATION];
  const value = text === undefined ? 0 : Number(text);
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/**
 * `kubectl rollout status` for a Deployment (kubectl's DeploymentStatusViewer): evaluated on every watch event.
 * `revision` > 0 checks the running revision first, as `--revision` does.
 */
export function rolloutStatus(deployment: Deployment, revision = 0): RolloutStatus {
  const name = deployment.metadata.name ?? '';
  if (revision > 0) {
    const running = deploymentRevision(deployment);
    if (running !== revision) {
      return {
        done: false,
        failed: true,
        message: `desired revision (${revision}) is different from the running revision (${running})`,
      };
    }
  }
  const generation = deployment.metadata.generation ?? 0;
  const status = deployment.status ?? {};
  if (generation <= (status.observedGeneration ?? 0)) {
    const progressing = status.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') {
      return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
    }
    const replicas = deployment.spec.replicas ?? 1;
    const updated = status.updatedReplicas ?? 0;
    const total = status.replicas ?? 0;
    const available = status.availableReplicas ?? 0;
    const waiting = `Waiting for deployment "${name}" rollout to finish: `;
    if (updated < replicas) {
      return {
        done: false,
        failed: false,
        message: `${waiting}${updated} out of ${replicas} new replicas have been updated...`,
      };
    }
    if (total > updated) {
      return {
        done: false,
        failed: false,
        message: `${waiting}${total - updated} old replicas are pending termination...`,
      };
    }
    if (available < updated) {
      return {
        done: false,
        failed: false,
        message: `${waiting}${available} of ${updated} updated replicas are available...`,
      };
    }
    return { done: true, failed: false, message: `deployment "${name}" successfully rolled out` };
  }
  return { done: false, failed: false, message: 'Waiting for deployment spec update to be observed...' };
}
