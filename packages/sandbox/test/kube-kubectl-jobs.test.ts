/**
 * The oracle for migration Jobs: `kubectl create job`, `logs -f job/x` streaming the lines as printed,
 * `wait --for=condition=complete`, and a failing Job's `wait --for=condition=failed`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox, type Sandbox } from '../src/index.js';
import { kubectl, manifestFile, waitFor } from './helpers/kube.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({
    timeScale: 0.01,
    images: {
      'migrate:ok': {
        kind: 'exit',
        exitCode: 0,
        lines: ['INFO  Running upgrade 001 -> 002', 'INFO  Running upgrade 002 -> 003', 'done'],
        after: 150000,
      },
      'migrate:bad': {
        kind: 'exit',
        exitCode: 3,
        lines: ['ERROR relation "users" already exists'],
        after: 1000,
      },
    },
  });
});
afterAll(async () => {
  await sandbox?.stop();
});

function jobPods(job: string) {
  return sandbox.store.list('pods', 'default', { labelSelector: `job-name=${job}` });
}

describe('kubectl and Jobs against the sandbox', () => {
  it('create job, follow its logs to the end, and wait for Complete', async () => {
    const create = await kubectl(sandbox, ['create', 'job', 'migrate', '--image=migrate:ok']);
    expect(create.stderr).toBe('');
    expect(create.stdout.trim()).toBe('job.batch/migrate created');
    const job = sandbox.store.get('jobs', 'default', 'migrate')!;
    expect(job.spec.selector).toEqual({
      matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid },
    });
    expect(job.spec).toMatchObject({
      backoffLimit: 6,
      completions: 1,
      parallelism: 1,
      completionMode: 'NonIndexed',
    });

    // kubectl logs does not wait for a Pending pod (kubernetes-api.md §7): wait until it runs, as CI must.
    await waitFor('the migrate pod to run', () =>
      jobPods('migrate').some((p) => p.status?.phase === 'Running'),
    );
    const pod = jobPods('migrate')[0]!;
    expect(pod.metadata.name).toMatch(/^migrate-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pod.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: 'migrate',
        uid: job.metadata.uid,
        controller: true,
      }),
    ]);

    const logs = await kubectl(sandbox, ['logs', '-f', 'job/migrate'], { timeoutMs: 30000 });
    expect(logs.stderr).toBe('');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe('INFO  Running upgrade 001 -> 002\nINFO  Running upgrade 002 -> 003\ndone\n');

    const wait = await kubectl(
      sandbox,
      ['wait', '--for=condition=complete', 'job/migrate', '--timeout=30s'],
      { timeoutMs: 40000 },
    );
    expect(wait.stderr).toBe('');
    expect(wait.stdout.trim()).toBe('job.batch/migrate condition met');
    const done = sandbox.store.get('jobs', 'default', 'migrate')!;
    expect(done.status.succeeded).toBe(1);
    expect(done.status.conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
      ['Complete', 'True', 'CompletionsReached'],
    ]);
    const get = await kubectl(sandbox, ['get', 'job', 'migrate', '--no-headers']);
    expect(get.stdout.trim().split(/\s+/).slice(0, 3)).toEqual(['migrate', 'Complete', '1/1']);
    const exit = await kubectl(sandbox, [
      'get',
      'pods',
      '-l',
      'job-name=migrate',
      '-o',
      'jsonpath={.items[0].status.containerStatuses[0].state.terminated.exitCode}',
    ]);
    expect(exit.stdout).toBe('0');
  });

  it('a failing Job: wait --for=condition=failed is met and the exit code is visible', async () => {
    const manifest = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'broken', namespace: 'default' },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'migrate', image: 'migrate:bad', command: ['alembic', 'upgrade', 'head'] }],
          },
        },
        ttlSecondsAfterFinished: 6000, // 60 s real at this time scale: the checks below finish well before the TTL deletes the Job
      },
    };
    const m = await manifestFile(manifest);
    try {
      const create = await kubectl(sandbox, ['create', '-f', m.path]);
      expect(create.stdout.trim()).toBe('job.batch/broken created');
    } finally {
      await m.cleanup();
    }
    const wait = await kubectl(sandbox, ['wait', '--for=condition=failed', 'job/broken', '--timeout=30s'], {
      timeoutMs: 40000,
    });
    expect(wait.stderr).toBe('');
    expect(wait.stdout.trim()).toBe('job.batch/broken condition met');
    const job = sandbox.store.get('jobs', 'default', 'broken')!;
    expect(job.status.failed).toBe(1);
    expect(job.status.conditions.find((c: any) => c.type === 'Failed')).toMatchObject({
      status: 'True',
      reason: 'BackoffLimitExceeded',
    });
    const exit = await kubectl(sandbox, [
      'get',
      'pods',
      '-l',
      'job-name=broken',
      '-o',
      'jsonpath={.items[0].status.containerStatuses[0].state.terminated.exitCode}',
    ]);
    expect(exit.stdout).toBe('3');
    const logs = await kubectl(sandbox, ['logs', 'job/broken']);
    expect(logs.stdout).toBe('ERROR relation "users" already exists\n');
    const complete = await kubectl(
      sandbox,
      ['wait', '--for=condition=complete', 'job/broken', '--timeout=2s'],
      { timeoutMs: 20000 },
    );
    expect(complete.code).toBe(1);
    expect(complete.stderr.trim()).toBe('error: timed out waiting for the condition on jobs/broken');
  });
});
