import { describe, expect, it } from '@jest/globals';
import { ConfigurationError, MemoryLogger } from '@planner-deploy/core';
import { KubeApiError } from '../../src/api-error.js';
import { buildMigrationJob, labelValue, migrationJobName } from '../../src/job-spec.js';
import { createJob, deleteJob, waitForJob } from '../../src/jobs.js';
import { followContainerLogs, normalizeTimestamp, splitTimestamp } from '../../src/pod-logs.js';
import type { Deployment, Job, Pod } from '../../src/types.js';
import { Channel, FakeConn } from './fake-conn.js';

const deployment: Deployment = {
  metadata: { name: 'planner-app', namespace: 'prod', labels: { app: 'planner' } },
  spec: {
    selector: { matchLabels: { app: 'planner' } },
    template: {
      metadata: { labels: { app: 'planner' }, annotations: { 'prometheus.io/scrape': 'true' } },
      spec: {
        serviceAccountName: 'planner',
        imagePullSecrets: [{ name: 'ecr' }],
        nodeSelector: { pool: 'apps' },
        tolerations: [{ key: 'dedicated', operator: 'Exists' }],
        securityContext: { runAsNonRoot: true },
        volumes: [{ name: 'cfg', configMap: { name: 'planner' } }],
        containers: [
          {
            name: 'app',
            image: 'ecr/planner:old',
            command: ['gunicorn'],
            args: ['app:wsgi'],
            env: [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } }],
            envFrom: [{ configMapRef: { name: 'planner-env' } }],
            volumeMounts: [{ name: 'cfg', mountPath: '/etc/planner' }],
            readinessProbe: { httpGet: { path: '/health', port: 8000 } },
            ports: [{ containerPort: 8000 }],
          },
          { name: 'proxy', image: 'envoy:1' },
        ],
      },
    },
  },
};

describe('buildMigrationJob', () => {
  it('copies the environment of the container and the pod, not probes, ports or the app labels', () => {
    const job = buildMigrationJob({
      deployment,
      image: 'ecr/planner@sha256:new',
      command: ['alembic'],
      args: ['upgrade', 'head'],
      jobName: 'planner-app-migrate-abc1234-99-1',
      runId: '99-1',
      activeDeadlineSeconds: 600,
      ttlSecondsAfterFinished: 3600,
    });
    expect(job).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'planner-app-migrate-abc1234-99-1',
        namespace: 'prod',
        labels: {
          'app.kubernetes.io/managed-by': 'planner-deploy',
          'planner-deploy/deployment': 'planner-app',
          'planner-deploy/run': '99-1',
        },
      },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: 600,
        ttlSecondsAfterFinished: 3600,
        template: {
          metadata: {
            labels: {
              'app.kubernetes.io/managed-by': 'planner-deploy',
              'planner-deploy/deployment': 'planner-app',
              'planner-deploy/run': '99-1',
            },
          },
          spec: {
            restartPolicy: 'Never',
            serviceAccountName: 'planner',
            imagePullSecrets: [{ name: 'ecr' }],
            nodeSelector: { pool: 'apps' },
            tolerations: [{ key: 'dedicated', operator: 'Exists' }],
            securityContext: { runAsNonRoot: true },
            volumes: [{ name: 'cfg', configMap: { name: 'planner' } }],
            containers: [
              {
                name: 'app',
                image: 'ecr/planner@sha256:new',
                command: ['alembic'],
                args: ['upgrade', 'head'],
                env: [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } }],
                envFrom: [{ configMapRef: { name: 'planner-env' } }],
                volumeMounts: [{ name: 'cfg', mountPath: '/etc/planner' }],
              },
            ],
          },
        },
      },
    });
  });

  it.each<
    [string, Parameters<typeof buildMigrationJob>[0], string, string[] | undefined, string[] | undefined]
  >([
    [
      'keeps the container command without one',
      { deployment, image: 'ecr/planner:x', jobName: 'j', runId: 'r' },
      'app',
      ['gunicorn'],
      ['app:wsgi'],
    ],
    [
      'args alone keep no command',
      { deployment, image: 'ecr/planner:x', args: ['migrate'], jobName: 'j', runId: 'r' },
      'app',
      undefined,
      ['migrate'],
    ],
    [
      'a named container',
      { deployment, image: 'x', container: 'proxy', command: ['true'], jobName: 'j', runId: 'r' },
      'proxy',
      ['true'],
      undefined,
    ],
  ])('%s', (_name, spec, container, command, args) => {
    const c = buildMigrationJob(spec).spec.template.spec.containers[0];
    expect(c?.name).toBe(container);
    expect(c?.command).toEqual(command);
    expect(c?.args).toEqual(args);
  });

  it('refuses an ambiguous or unknown container', () => {
    expect(() => buildMigrationJob({ deployment, image: 'other/img:1', jobName: 'j', runId: 'r' })).toThrow(
      ConfigurationError,
    );
    expect(() =>
      buildMigrationJob({ deployment, image: 'x', container: 'db', jobName: 'j', runId: 'r' }),
    ).toThrow(/no container "db"/);
  });
});

describe('names', () => {
  it.each([
    [
      { deployment: 'planner-app', sha: 'abcdef1234567', runId: '123456', runAttempt: 2 },
      'planner-app-migrate-abcdef1-123456-2',
    ],
    [{ deployment: 'Planner_App' }, 'planner-app-migrate'],
    [
      { deployment: 'a'.repeat(80), sha: 'abcdef1', runId: '9', runAttempt: '1' },
      `${'a'.repeat(43)}-migrate-abcdef1-9-1`,
    ],
  ])('migrationJobName %j → %s', (parts, expected) => {
    const name = migrationJobName(parts);
    expect(name).toBe(expected);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it.each([
    ['run 12/attempt 1', 'run-12-attempt-1'],
    ['-x-', 'x'],
    ['b'.repeat(70), 'b'.repeat(63)],
  ])('labelValue %s → %s', (text, expected) => {
    expect(labelValue(text)).toBe(expected);
  });
});

describe('createJob', () => {
  const job = buildMigrationJob({
    deployment,
    image: 'ecr/planner:x',
    command: ['true'],
    jobName: 'mig',
    runId: '7-1',
  });

  it('creates it', async () => {
    const conn = new FakeConn((method) =>
      method === 'POST' ? { ...job, metadata: { ...job.metadata, uid: 'u1' } } : undefined,
    );
    const result = await createJob({ conn, job });
    expect(result.adopted).toBe(false);
    expect(conn.calls[0]).toMatchObject({ method: 'POST', path: '/apis/batch/v1/namespaces/prod/jobs' });
  });

  it('adopts its own Job after a 409 (a retried POST or a re-run)', async () => {
    let posts = 0;
    const conn = new FakeConn((method) => {
      if (method === 'POST') {
        posts++;
        if (posts === 1) throw new KubeApiError(503, 'unavailable');
        throw new KubeApiError(409, 'jobs.batch "mig" already exists', { reason: 'AlreadyExists' });
      }
      return { ...job, metadata: { ...job.metadata, uid: 'u1' } };
    });
    const result = await createJob({ conn, job });
    expect(result).toMatchObject({ adopted: true, job: { metadata: { uid: 'u1' } } });
    expect(posts).toBe(2);
  });

  it("refuses a Job of the same name that isn't ours", async () => {
    const conn = new FakeConn((method) => {
      if (method === 'POST') throw new KubeApiError(409, 'exists', { reason: 'AlreadyExists' });
      return {
        ...job,
        metadata: { ...job.metadata, labels: { ...job.metadata.labels, 'planner-deploy/run': '6-1' } },
      };
    });
    await expect(createJob({ conn, job })).rejects.toThrow(
      /already exists in namespace prod and was not created by this run/,
    );
  });

  it.each([
    ['image', { image: 'registry.local/app:old' }, 'image: the existing Job has "registry.local/app:old"'],
    [
      'command',
      { command: ['sh', '-c', 'drop all'] },
      'command: the existing Job has ["sh","-c","drop all"]',
    ],
    ['args', { args: ['downgrade', 'base'] }, 'args: the existing Job has ["downgrade","base"]'],
    ['env', { env: [{ name: 'DATABASE_URL', value: 'postgres://other' }] }, 'env: the existing Job has'],
    ['envFrom', { envFrom: [{ secretRef: { name: 'other-db' } }] }, 'envFrom: the existing Job has'],
  ])(
    "refuses our run's Job when its %s differs, naming the Job and the difference",
    async (_field, change, says) => {
      const container = { ...job.spec.template.spec.containers[0], ...change };
      const existing = structuredClone(job);
      existing.spec.template.spec.containers = [
        container as (typeof existing.spec.template.spec.containers)[0],
      ];
      const conn = new FakeConn((method) => {
        if (method === 'POST') throw new KubeApiError(409, 'exists', { reason: 'AlreadyExists' });
        return existing;
      });
      const error = (await createJob({ conn, job }).catch((e: unknown) => e)) as Error;
      expect(error.message).toContain(`A Job named "${job.metadata.name}" already exists in namespace prod`);
      expect(error.message).toContain(says);
      expect(conn.calls.some((c) => c.method === 'DELETE')).toBe(false);
    },
  );

  it('adopts our Job when only server defaults differ (fieldRef apiVersion, empty lists)', async () => {
    const wanted = structuredClone(job);
    wanted.spec.template.spec.containers[0]!.env = [
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ];
    delete wanted.spec.template.spec.containers[0]!.envFrom;
    const existing = structuredClone(wanted);
    existing.spec.template.spec.containers[0]!.env = [
      { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ];
    existing.spec.template.spec.containers[0]!.envFrom = [];
    const conn = new FakeConn((method) => {
      if (method === 'POST') throw new KubeApiError(409, 'exists', { reason: 'AlreadyExists' });
      return existing;
    });
    expect((await createJob({ conn, job: wanted })).adopted).toBe(true);
  });

  it('deletes with background propagation, a missing Job is fine', async () => {
    const conn = new FakeConn(() => {
      throw new KubeApiError(404, 'not found');
    });
    expect(await deleteJob({ conn, namespace: 'prod', name: 'mig' })).toBe(false);
    expect(conn.calls[0]?.options.body).toEqual({ propagationPolicy: 'Background' });
  });
});

describe('log timestamps', () => {
  it.each([
    ['2026-01-01T00:00:00.5Z hello world', '2026-01-01T00:00:00.500000000Z', 'hello world'],
    ['2026-01-01T00:00:00Z x', '2026-01-01T00:00:00.000000000Z', 'x'],
    ['no timestamp here', undefined, 'no timestamp here'],
  ])('%s', (line, time, text) => {
    expect(splitTimestamp(line)).toEqual(time ? { time, text } : { text });
  });
  it('orders nanosecond fractions as strings', () => {
    expect(normalizeTimestamp('2026-01-01T00:00:00.1Z') > normalizeTimestamp('2026-01-01T00:00:00.12Z')).toBe(
      false,
    );
  });
});

describe('followContainerLogs', () => {
  it('waits for the container to start, and after a cut stream goes on without repeating lines', async () => {
    const streams: string[][] = [
      ['2026-01-01T00:00:01.1Z one', '2026-01-01T00:00:01.1Z two', '2026-01-01T00:00:02Z three'],
      // Re-followed with sinceTime at second precision: the server repeats what it already sent.
      [
        '2026-01-01T00:00:01.1Z one',
        '2026-01-01T00:00:01.1Z two',
        '2026-01-01T00:00:02Z three',
        '2026-01-01T00:00:02Z four',
        '2026-01-01T00:00:03Z five',
      ],
    ];
    let attempt = 0;
    let podGets = 0;
    const conn = new FakeConn((method, _path, options) => {
      if (method === 'LINES') {
        attempt++;
        if (attempt === 1)
          throw new KubeApiError(400, 'container "app" in pod "p" is waiting to start: ContainerCreating');
        if (attempt === 3) expect(options.query?.sinceTime).toBe('2026-01-01T00:00:02Z');
        const channel = new Channel<string>();
        for (const line of streams[attempt - 2] ?? []) channel.push(line);
        channel.end();
        return channel;
      }
      podGets++;
      const state = podGets === 1 ? { running: {} } : { terminated: { exitCode: 0 } };
      return {
        metadata: { name: 'p' },
        spec: { restartPolicy: 'Never', containers: [] },
        status: {
          phase: podGets === 1 ? 'Running' : 'Succeeded',
          containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state }],
        },
      };
    });
    const lines: string[] = [];
    await followContainerLogs({
      conn,
      namespace: 'prod',
      pod: 'p',
      container: 'app',
      onLine: (l) => lines.push(l),
      signal: new AbortController().signal,
      waitForChange: () => Promise.resolve(),
    });
    expect(lines).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(attempt).toBe(3);
  });
});

describe('waitForJob', () => {
  const job: Job = {
    metadata: { name: 'mig', namespace: 'prod', uid: 'ju' },
    spec: {
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'ju' } },
      template: { spec: { containers: [{ name: 'migrate', image: 'x' }] } },
    },
  };
  const pod = (state: object, phase = 'Running'): Pod => ({
    metadata: { name: 'mig-abcde', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { restartPolicy: 'Never', containers: [] },
    status: { phase, containerStatuses: [{ name: 'migrate', ready: false, restartCount: 0, state }] },
  });

  function cluster(final: { pod: Pod; condition?: object }) {
    const logLines = new Channel<string>();
    const conn = new FakeConn((method, path) => {
      if (method === 'LINES') return logLines;
      if (path.endsWith('/jobs')) return { metadata: { resourceVersion: '1' }, items: [job] };
      if (path.endsWith('/pods')) return { metadata: { resourceVersion: '1' }, items: [final.pod] };
      if (path.endsWith('/pods/mig-abcde')) return final.pod;
      if (path.endsWith('/events'))
        return {
          metadata: {},
          items: [
            {
              metadata: { name: 'e' },
              involvedObject: { name: 'mig-abcde' },
              type: 'Warning',
              reason: 'Failed',
              message: 'pull failed',
            },
          ],
        };
      throw new Error(`${method} ${path}`);
    });
    return { conn, logLines };
  }

  it('streams the logs and reports exit code 0 on Complete', async () => {
    const done = pod({ terminated: { exitCode: 0, reason: 'Completed' } }, 'Succeeded');
    const { conn, logLines } = cluster({ pod: done });
    const logger = new MemoryLogger();
    const run = waitForJob({
      conn,
      namespace: 'prod',
      job,
      logger,
      deadline: Date.now() + 10_000,
      drainMs: 1000,
    });
    const jobWatch = await conn.nthWatch(0, '/jobs');
    expect(jobWatch.options.query?.fieldSelector).toBe('metadata.name=mig');
    const podWatch = await conn.nthWatch(0, '/pods');
    expect(podWatch.options.query?.labelSelector).toBe('batch.kubernetes.io/controller-uid=ju');
    logLines.push('2026-01-01T00:00:01Z INFO  [alembic] Running upgrade a -> b');
    logLines.push('2026-01-01T00:00:02Z done');
    logLines.end();
    jobWatch.channel.push({
      type: 'MODIFIED',
      object: {
        ...job,
        status: { conditions: [{ type: 'Complete', status: 'True', reason: 'CompletionsReached' }] },
      },
    });
    const result = await run;
    expect(result).toMatchObject({
      name: 'mig',
      status: 'succeeded',
      exitCode: 0,
      pod: 'mig-abcde',
      logTail: ['INFO  [alembic] Running upgrade a -> b', 'done'],
    });
    expect(logger.text()).toContain('INFO  [alembic] Running upgrade a -> b');
  });

  it('reports the exit code and reason on Failed', async () => {
    const failed = pod({ terminated: { exitCode: 3, reason: 'Error' } }, 'Failed');
    const { conn, logLines } = cluster({ pod: failed });
    const run = waitForJob({
      conn,
      namespace: 'prod',
      job,
      logger: new MemoryLogger(),
      deadline: Date.now() + 10_000,
      drainMs: 500,
    });
    const jobWatch = await conn.nthWatch(0, '/jobs');
    logLines.push('2026-01-01T00:00:01Z boom');
    logLines.end();
    jobWatch.channel.push({
      type: 'MODIFIED',
      object: {
        ...job,
        status: {
          conditions: [
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
            },
          ],
        },
      },
    });
    const result = await run;
    expect(result).toMatchObject({ status: 'failed', exitCode: 3, reason: 'Error', logTail: ['boom'] });
    expect(result.message).toBe(
      'job.batch/mig failed: BackoffLimitExceeded: Job has reached the specified backoff limit (container "migrate" exited with code 3, Error)',
    );
  });

  it('fails at once when the pod cannot pull its image', async () => {
    const pulling = pod(
      { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } },
      'Pending',
    );
    const { conn } = cluster({ pod: pulling });
    const result = await waitForJob({
      conn,
      namespace: 'prod',
      job,
      logger: new MemoryLogger(),
      deadline: Date.now() + 10_000,
    });
    expect(result).toMatchObject({
      status: 'failed',
      reason: 'ImagePullBackOff',
      diagnosis: { reason: 'ImagePullBackOff', events: ['Warning Failed: pull failed'] },
    });
    expect(result.exitCode).toBeUndefined();
  });

  it('times out at the deadline', async () => {
    const { conn } = cluster({ pod: pod({ running: {} }) });
    const result = await waitForJob({
      conn,
      namespace: 'prod',
      job,
      logger: new MemoryLogger(),
      deadline: Date.now() + 200,
    });
    expect(result.status).toBe('timed-out');
  });
});
