import { describe, expect, it } from '@jest/globals';
import { deploymentRevision, rolloutStatus } from '../../src/rollout-status.js';
import type { Deployment, DeploymentStatus } from '../../src/types.js';

function deployment(
  generation: number,
  status: DeploymentStatus,
  replicas: number | null = 3,
  revision?: string,
): Deployment {
  return {
    metadata: {
      name: 'web',
      generation,
      ...(revision ? { annotations: { 'deployment.kubernetes.io/revision': revision } } : {}),
    },
    spec: {
      ...(replicas === null ? {} : { replicas }),
      selector: { matchLabels: { app: 'web' } },
      template: { spec: { containers: [{ name: 'app', image: 'nginx' }] } },
    },
    status,
  };
}

const deadline = {
  type: 'Progressing',
  status: 'False',
  reason: 'ProgressDeadlineExceeded',
  message: 'ReplicaSet "web-5d4f" has timed out progressing.',
};

describe('rolloutStatus (kubectl DeploymentStatusViewer)', () => {
  it.each<[string, Deployment, boolean, boolean, string]>([
    [
      'spec not observed yet',
      deployment(2, { observedGeneration: 1 }),
      false,
      false,
      'Waiting for deployment spec update to be observed...',
    ],
    [
      'no status at all',
      deployment(1, {}),
      false,
      false,
      'Waiting for deployment spec update to be observed...',
    ],
    [
      'new replicas not all updated',
      deployment(2, { observedGeneration: 2, replicas: 4, updatedReplicas: 1 }),
      false,
      false,
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    ],
    [
      'old replicas pending termination',
      deployment(2, { observedGeneration: 2, replicas: 5, updatedReplicas: 3, availableReplicas: 3 }),
      false,
      false,
      'Waiting for deployment "web" rollout to finish: 2 old replicas are pending termination...',
    ],
    [
      'updated replicas not available',
      deployment(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 1 }),
      false,
      false,
      'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...',
    ],
    [
      'zero of them available (zero values omitted in JSON)',
      deployment(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3 }),
      false,
      false,
      'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...',
    ],
    [
      'complete',
      deployment(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      true,
      false,
      'deployment "web" successfully rolled out',
    ],
    [
      'observedGeneration ahead of generation counts as observed',
      deployment(2, { observedGeneration: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      true,
      false,
      'deployment "web" successfully rolled out',
    ],
    [
      'replicas defaults to 1',
      deployment(1, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }, null),
      true,
      false,
      'deployment "web" successfully rolled out',
    ],
    [
      'scaled to zero',
      deployment(3, { observedGeneration: 3 }, 0),
      true,
      false,
      'deployment "web" successfully rolled out',
    ],
    [
      'progress deadline exceeded wins over counts',
      deployment(2, { observedGeneration: 2, replicas: 4, updatedReplicas: 1, conditions: [deadline] }),
      false,
      true,
      'deployment "web" exceeded its progress deadline',
    ],
    [
      'progress deadline ignored until the spec is observed',
      deployment(3, { observedGeneration: 2, conditions: [deadline] }),
      false,
      false,
      'Waiting for deployment spec update to be observed...',
    ],
  ])('%s', (_name, object, done, failed, message) => {
    expect(rolloutStatus(object)).toEqual({ done, failed, message });
  });

  it('checks the desired revision first, as --revision does', () => {
    const object = deployment(
      2,
      { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
      3,
      '4',
    );
    expect(rolloutStatus(object, 3)).toEqual({
      done: false,
      failed: true,
      message: 'desired revision (3) is different from the running revision (4)',
    });
    expect(rolloutStatus(object, 4).done).toBe(true);
  });

  it.each([
    [undefined, 0],
    ['7', 7],
    ['x', 0],
    ['-1', 0],
  ])('revision annotation %s → %d', (text, expected) => {
    expect(deploymentRevision(deployment(1, {}, 1, text))).toBe(expected);
  });
});
