import { describe, expect, it } from '@jest/globals';
import { NullLogger } from '@planner-deploy/core';
import type { FargateProfilesAnswer } from '@planner-deploy/aws';
import {
  describeFargateProfiles,
  explainFargateMismatch,
  fargateProfileLookup,
} from '../../src/fargate-profiles.js';
import { buildMigrationJob, migrationPodLabels } from '../../src/job-spec.js';
import { awaitingReadiness, diagnosePod } from '../../src/pod-diagnosis.js';
import type { Deployment, KubeEvent, Pod } from '../../src/types.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const TAINT_MESSAGE =
  '0/2 nodes are available: 2 node(s) had untolerated taint {eks.amazonaws.com/compute-type: fargate}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.';

function pendingPod(
  condition?: { reason: string; message: string },
  annotations: Record<string, string> = {},
): Pod {
  return {
    metadata: {
      name: 'planner-app-5d4f-abcde',
      namespace: 'planner-preview',
      creationTimestamp: '2026-01-01T00:09:58Z',
      labels: { app: 'planner-app', 'app.kubernetes.io/part-of': 'planner', 'pod-template-hash': '5d4f' },
      annotations,
    },
    spec: { containers: [{ name: 'app', image: 'planner:v2' }] },
    status: {
      phase: 'Pending',
      ...(condition
        ? {
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                lastTransitionTime: '2026-01-01T00:09:58Z',
                ...condition,
              },
            ],
          }
        : {}),
    },
  };
}

describe('diagnosePod on Fargate', () => {
  it('calls a pod behind the fargate taint a profile mismatch at once, with namespace and labels', () => {
    const failure = diagnosePod(pendingPod({ reason: 'Unschedulable', message: TAINT_MESSAGE }), {
      readyGraceMs: 600_000,
      now: NOW,
    });
    expect(failure).toMatchObject({
      reason: 'FargateProfileMismatch',
      pod: 'planner-app-5d4f-abcde',
      fargate: {
        namespace: 'planner-preview',
        labels: { app: 'planner-app', 'app.kubernetes.io/part-of': 'planner', 'pod-template-hash': '5d4f' },
      },
      since: '2026-01-01T00:09:58Z',
    });
    expect(failure?.message).toBe(
      `pod "planner-app-5d4f-abcde" matches no Fargate profile, so it stays Pending: no profile selects namespace "planner-preview" with labels app=planner-app, app.kubernetes.io/part-of=planner (the scheduler: ${TAINT_MESSAGE})`,
    );
  });

  it('never takes a pod waiting for its Fargate capacity for a broken one', () => {
    // What fargate-scheduler leaves while it provisions: Pending, no node, no PodScheduled condition.
    const provisioning = pendingPod(undefined, { 'eks.amazonaws.com/fargate-profile': 'planner-staging' });
    expect(awaitingReadiness(provisioning)).toBe(false);
    expect(diagnosePod(provisioning, { readyGraceMs: 0, now: NOW + 3_600_000 })).toBeUndefined();
  });

  it('leaves other unschedulable pods to the ready grace', () => {
    const p = pendingPod({
      reason: 'Unschedulable',
      message: '0/3 nodes are available: 3 Insufficient cpu.',
    });
    expect(diagnosePod(p, { readyGraceMs: 120_000, now: NOW })).toBeUndefined();
  });

  it('does not take LoggingDisabled for a container problem', () => {
    const loggingDisabled: KubeEvent = {
      metadata: { name: 'e1' },
      involvedObject: { kind: 'Pod', name: 'web' },
      reason: 'LoggingDisabled',
      type: 'Warning',
      message:
        'Disabled logging because aws-logging configmap was not found. configmap "aws-logging" not found',
      firstTimestamp: '2026-01-01T00:00:00Z',
      lastTimestamp: '2026-01-01T00:00:00Z',
    };
    const pulling: Pod = {
      metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
      status: {
        phase: 'Pending',
        containerStatuses: [
          { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } },
        ],
      },
    };
    const failure = diagnosePod(pulling, { readyGraceMs: 1000, now: NOW, events: [loggingDisabled] });
    expect(failure?.reason).toBe('ErrImagePull');
    expect(failure?.message).not.toContain('aws-logging');
    expect(failure?.since).not.toBe('2026-01-01T00:00:00Z');
  });
});

describe('the Fargate profiles in the report', () => {
  const profiles = [
    { name: 'coredns', selectors: [{ namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }] },
    {
      name: 'planner-production',
      selectors: [{ namespace: 'planner-production', labels: { 'app.kubernetes.io/part-of': 'planner' } }],
    },
    { name: 'planner-staging', selectors: [{ namespace: 'planner-*', labels: { tier: 'web' } }] },
  ];

  it('says which selector of the namespace wants labels the pod lacks', () => {
    const text = describeFargateProfiles(profiles, {
      namespace: 'planner-production',
      labels: { app: 'planner-app' },
    });
    expect(text).toContain(
      'profile "planner-production" selects namespace planner-production only with app.kubernetes.io/part-of=planner, which the pod lacks',
    );
    // A wildcard namespace selector counts too.
    expect(text).toContain(
      'profile "planner-staging" selects namespace planner-* only with tier=web, which the pod lacks',
    );
    expect(text).toContain('"coredns" selects namespace kube-system with labels k8s-app=kube-dns');
  });

  it('asks for a selector when nothing selects the namespace', () => {
    const text = describeFargateProfiles(profiles.slice(0, 2), { namespace: 'preview', labels: {} });
    expect(text).toContain('Add a selector for namespace "preview"');
    expect(describeFargateProfiles([], { namespace: 'preview', labels: {} })).toContain('no Fargate profile');
  });

  it.each<[string, FargateProfilesAnswer, string]>([
    ['profiles', { kind: 'profiles', profiles }, '"planner-production" selects namespace planner-production'],
    [
      'AccessDenied',
      { kind: 'denied', action: 'eks:ListFargateProfiles', message: 'User: x is not authorized' },
      'may not call eks:ListFargateProfiles',
    ],
    ['another error', { kind: 'error', message: 'socket hang up' }, 'could not be read: socket hang up'],
  ])('adds what the lookup answered: %s', async (_name, answer, expected) => {
    const failure = diagnosePod(pendingPod({ reason: 'Unschedulable', message: TAINT_MESSAGE }), {
      readyGraceMs: 1,
      now: NOW,
    })!;
    const explained = await explainFargateMismatch(failure, () => Promise.resolve(answer), NullLogger);
    expect(explained.reason).toBe('FargateProfileMismatch');
    expect(explained.message.startsWith(failure.message)).toBe(true);
    expect(explained.message).toContain(expected);
  });

  it('looks profiles up only where the EKS cluster is known', () => {
    expect(fargateProfileLookup({ clusterName: 'prod', region: 'us-east-1' })).toBeInstanceOf(Function);
    expect(fargateProfileLookup(undefined)).toBeUndefined();
  });
});

describe('the migration pod’s labels', () => {
  const deployment: Deployment = {
    metadata: { name: 'planner-app', namespace: 'planner-production' },
    spec: {
      selector: {
        matchLabels: { 'app.kubernetes.io/name': 'planner-app' },
        matchExpressions: [{ key: 'track', operator: 'In', values: ['stable'] }],
      },
      template: {
        metadata: {
          labels: {
            'app.kubernetes.io/name': 'planner-app',
            'app.kubernetes.io/part-of': 'planner',
            track: 'stable',
            'pod-template-hash': 'abc',
          },
        },
        spec: { containers: [{ name: 'app', image: 'planner:v1' }] },
      },
    },
  };

  it('keeps the template labels but the selector’s, so a profile selects it and no Service does', () => {
    expect(migrationPodLabels(deployment)).toEqual({ 'app.kubernetes.io/part-of': 'planner' });
    const job = buildMigrationJob({ deployment, image: 'planner:v2', jobName: 'm', runId: '1-1' });
    expect(job.spec.template.metadata?.labels).toEqual({
      'app.kubernetes.io/part-of': 'planner',
      'app.kubernetes.io/managed-by': 'planner-deploy',
      'planner-deploy/deployment': 'planner-app',
      'planner-deploy/run': '1-1',
    });
    // The Job object itself carries only our labels.
    expect(job.metadata.labels).not.toHaveProperty('app.kubernetes.io/part-of');
  });
});
