import { describe, expect, it } from '@jest/globals';
import { awaitingReadiness, diagnosePod, formatEvents, type PodFailure } from '../../src/pod-diagnosis.js';
import type { ContainerStatus, KubeEvent, Pod } from '../../src/types.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');

function pod(
  statuses: Partial<ContainerStatus>[],
  extra: Partial<Pod['status']> = {},
  deleting = false,
): Pod {
  return {
    metadata: {
      name: 'web-5d4f-abcde',
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(deleting ? { deletionTimestamp: '2026-01-01T00:09:00Z' } : {}),
    },
    status: {
      phase: 'Pending',
      startTime: '2026-01-01T00:00:01Z',
      containerStatuses: statuses.map((s) => ({ name: 'app', ready: false, restartCount: 0, ...s })),
      ...extra,
    },
  };
}

const event = (reason: string, message: string, at: string, type = 'Warning'): KubeEvent => ({
  metadata: { name: `e-${reason}` },
  involvedObject: { kind: 'Pod', name: 'web-5d4f-abcde' },
  reason,
  message,
  type,
  firstTimestamp: at,
  lastTimestamp: at,
});

type Row = [string, Pod, Partial<PodFailure> | undefined, KubeEvent[]?];

describe('diagnosePod', () => {
  it.each<Row>([
    ['a pod still creating', pod([{ state: { waiting: { reason: 'ContainerCreating' } } }]), undefined],
    [
      'ImagePullBackOff with the kubelet message',
      pod([
        {
          state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nginx:nope"' } },
        },
      ]),
      {
        reason: 'ImagePullBackOff',
        container: 'app',
        message:
          'container "app" in pod "web-5d4f-abcde" is waiting: ImagePullBackOff: Back-off pulling image "nginx:nope"',
        since: '2026-01-01T00:00:05Z',
      },
      [event('Failed', 'Failed to pull image "nginx:nope": not found', '2026-01-01T00:00:05Z')],
    ],
    [
      'ErrImagePull without a message takes the last warning event',
      pod([{ state: { waiting: { reason: 'ErrImagePull' } } }]),
      {
        reason: 'ErrImagePull',
        message:
          'container "app" in pod "web-5d4f-abcde" is waiting: ErrImagePull: Failed to pull image "x": denied',
      },
      [
        event('Pulling', 'Pulling image "x"', '2026-01-01T00:00:02Z', 'Normal'),
        event('Failed', 'Failed to pull image "x": denied', '2026-01-01T00:00:03Z'),
      ],
    ],
    [
      'InvalidImageName',
      pod([
        {
          state: {
            waiting: { reason: 'InvalidImageName', message: 'Failed to apply default image tag "Bad Name"' },
          },
        },
      ]),
      { reason: 'InvalidImageName', container: 'app' },
    ],
    [
      'CreateContainerConfigError (missing secret)',
      pod([
        { state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db" not found' } } },
      ]),
      {
        reason: 'CreateContainerConfigError',
        message:
          'container "app" in pod "web-5d4f-abcde" is waiting: CreateContainerConfigError: secret "db" not found',
      },
    ],
    [
      'CrashLoopBackOff with the last exit code',
      pod([
        {
          restartCount: 3,
          state: {
            waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app' },
          },
          lastState: { terminated: { exitCode: 2, reason: 'Error', finishedAt: '2026-01-01T00:01:00Z' } },
        },
      ]),
      {
        reason: 'CrashLoopBackOff',
        exitCode: 2,
        message:
          'container "app" in pod "web-5d4f-abcde" is waiting: CrashLoopBackOff (last exit code 2, Error; restarted 3 times): back-off 40s restarting failed container=app',
        since: '2026-01-01T00:01:00Z',
      },
    ],
    [
      'OOMKilled in the last state wins over the crash loop',
      pod([
        {
          restartCount: 2,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: {
            terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-01-01T00:02:00Z' },
          },
        },
      ]),
      { reason: 'OOMKilled', exitCode: 137, since: '2026-01-01T00:02:00Z' },
    ],
    [
      'OOMKilled right now',
      pod([{ state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }]),
      { reason: 'OOMKilled', exitCode: 137 },
    ],
    [
      'running, unready within the grace',
      pod([{ state: { running: { startedAt: '2026-01-01T00:09:30Z' } } }], { phase: 'Running' }),
      undefined,
    ],
    [
      'running, unready past the grace, with the probe failure',
      pod([{ state: { running: { startedAt: '2026-01-01T00:08:00Z' } } }], { phase: 'Running' }),
      {
        reason: 'Unready',
        container: 'app',
        message:
          'container "app" in pod "web-5d4f-abcde" has been running for 120s without becoming ready: Readiness probe failed: HTTP probe failed with statuscode: 503',
        since: '2026-01-01T00:08:00Z',
      },
      [
        event(
          'Unhealthy',
          'Readiness probe failed: HTTP probe failed with statuscode: 503',
          '2026-01-01T00:09:00Z',
        ),
      ],
    ],
    [
      'ready',
      pod([{ ready: true, state: { running: { startedAt: '2026-01-01T00:00:10Z' } } }], { phase: 'Running' }),
      undefined,
    ],
    [
      'unschedulable past the grace',
      pod([], {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      }),
      {
        reason: 'Unready',
        message:
          'pod "web-5d4f-abcde" could not be scheduled for 600s: Unschedulable: 0/3 nodes are available',
      },
    ],
    [
      'a terminating old pod is never a failure',
      pod([{ state: { waiting: { reason: 'CrashLoopBackOff' } } }], {}, true),
      undefined,
    ],
  ])('%s', (_name, subject, expected, events = []) => {
    const result = diagnosePod(subject, { readyGraceMs: 60_000, now: NOW, events });
    if (expected === undefined) {
      expect(result).toBeUndefined();
    } else {
      expect(result).toMatchObject({ pod: 'web-5d4f-abcde', ...expected });
    }
  });

  it('diagnoses init containers too', () => {
    const subject = pod([]);
    subject.status!.initContainerStatuses = [
      { name: 'init', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } },
    ];
    expect(diagnosePod(subject, { readyGraceMs: 1000, now: NOW })).toMatchObject({
      reason: 'ImagePullBackOff',
      container: 'init',
    });
  });
});

describe('formatEvents', () => {
  it('keeps the last ones in time order', () => {
    const events = [
      event('B', 'second', '2026-01-01T00:00:02Z'),
      { ...event('A', 'first', '2026-01-01T00:00:01Z', 'Normal'), count: 3 },
      event('C', 'third', '2026-01-01T00:00:03Z'),
    ];
    expect(formatEvents(events, 2)).toEqual(['Warning B: second', 'Warning C: third']);
    expect(formatEvents(events)[0]).toBe('Normal A: first (x3)');
  });
});

describe('diagnosePod with the caller’s own observation time', () => {
  // The server clock is an hour ahead (or simulated): its startedAt says the pod has been unready for -1h.
  const skewed = pod([{ state: { running: { startedAt: '2026-01-01T01:10:00Z' } } }], { phase: 'Running' });
  it.each([
    [undefined, undefined],
    [NOW - 30_000, undefined],
    [NOW - 90_000, 'Unready'],
  ])('first seen at %s → %s', (observedSince, reason) => {
    expect(diagnosePod(skewed, { readyGraceMs: 60_000, now: NOW, observedSince })?.reason).toBe(reason);
  });
  it('knows which pods wait for readiness', () => {
    expect(awaitingReadiness(skewed)).toBe(true);
    expect(awaitingReadiness(pod([{ state: { waiting: { reason: 'ContainerCreating' } } }]))).toBe(false);
    expect(awaitingReadiness(pod([{ ready: true, state: { running: {} } }]))).toBe(false);
  });
});

describe('text the workload or the registry wrote', () => {
  const hostile = 'pull failed\n::add-mask::planner\r##[error]forged';
  // One line: the :: is no longer at a line's start, so it stays; the ##[ is broken.
  const quoted = 'pull failed\\n::add-mask::planner\\r##\\[error]forged';

  it('is quoted in a waiting message and in the events', () => {
    const failure = diagnosePod(pod([{ state: { waiting: { reason: 'ErrImagePull', message: hostile } } }]), {
      readyGraceMs: 60_000,
      now: NOW,
    });
    expect(failure?.message).toContain(quoted);
    expect(formatEvents([event('Failed', hostile, '2026-01-01T00:01:00Z')])).toEqual([
      `Warning Failed: ${quoted}`,
    ]);
  });

  it('is quoted when an exec probe’s output is the Unhealthy event', () => {
    const running = pod([{ state: { running: { startedAt: '2026-01-01T00:00:05Z' } } }], {
      phase: 'Running',
    });
    const failure = diagnosePod(running, {
      readyGraceMs: 60_000,
      now: NOW,
      events: [event('Unhealthy', `Readiness probe failed: ${hostile}`, '2026-01-01T00:05:00Z')],
    });
    expect(failure?.message).toContain(`Readiness probe failed: ${quoted}`);
    expect(failure?.message).not.toMatch(/[\r\n]/);
  });
});
