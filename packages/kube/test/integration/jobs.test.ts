import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/core';
import { startSandbox, type Sandbox } from '@planner-deploy/sandbox';
import type { KubeConnection } from '../../src/connection.js';
import { buildMigrationJob } from '../../src/job-spec.js';
import { createJob, deleteJob, waitForJob, type JobRunResult } from '../../src/jobs.js';
import type { Deployment, Job, KubeList, Pod } from '../../src/types.js';
import { createDeployment, newNamespace, sandboxConnection } from './helpers.js';

let sandbox: Sandbox;
let conn: KubeConnection;

beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.05 });
  ({ conn } = await sandboxConnection(sandbox));
});
afterAll(async () => {
  conn?.close();
  await sandbox?.stop();
});

const containers = [
  {
    name: 'app',
    image: 'registry.local/planner:1',
    env: [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } }],
    envFrom: [{ configMapRef: { name: 'planner-env' } }],
  },
];

async function migrate(
  ns: string,
  image: string,
  runId: string,
  options: { timeoutMs?: number; activeDeadlineSeconds?: number; command?: string[] } = {},
): Promise<{ result: JobRunResult; logger: MemoryLogger; job: Job; adopted: boolean }> {
  const deployment = await conn.request<Deployment>(
    'GET',
    `/apis/apps/v1/namespaces/${ns}/deployments/planner`,
  );
  const wanted = buildMigrationJob({
    deployment,
    image,
    command: options.command ?? ['alembic', 'upgrade', 'head'],
    jobName: `planner-migrate-${runId}`,
    runId,
    ...(options.activeDeadlineSeconds ? { activeDeadlineSeconds: options.activeDeadlineSeconds } : {}),
  });
  const logger = new MemoryLogger();
  const { job, adopted } = await createJob({ conn, job: wanted, logger });
  const result = await waitForJob({
    conn,
    namespace: ns,
    job,
    logger,
    deadline: Date.now() + (options.timeoutMs ?? 20_000),
  });
  return { result, logger, job, adopted };
}

describe('migration Jobs against the sandbox', () => {
  it('streams the lines as they come and reports exit code 0; a re-run adopts the same Job', async () => {
    const ns = await newNamespace(conn);
    await createDeployment(conn, ns, 'planner', 'registry.local/planner:1', { containers });
    const lines = [
      'INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.',
      'INFO  Running upgrade 1a2b -> 3c4d, add plans',
      'done',
    ];
    sandbox.images.setCommand(
      'alembic upgrade head',
      { kind: 'exit', exitCode: 0, lines, after: 3000 },
      'registry.local/planner:2',
    );
    const { result, logger, job } = await migrate(ns, 'registry.local/planner:2', '101-1');
    expect(result).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      logTail: lines,
      name: 'planner-migrate-101-1',
    });
    expect(result.pod).toMatch(/^planner-migrate-101-1-/);
    for (const line of lines) expect(logger.text()).toContain(line);

    // The Job carries the deployment's environment and our labels.
    const container = job.spec.template.spec.containers[0];
    expect(container?.env).toEqual(containers[0]?.env);
    expect(container?.envFrom).toEqual(containers[0]?.envFrom);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');

    const again = await migrate(ns, 'registry.local/planner:2', '101-1');
    expect(again.adopted).toBe(true);
    expect(again.result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const jobs = await conn.request<KubeList<Job>>('GET', `/apis/batch/v1/namespaces/${ns}/jobs`);
    expect(jobs.items).toHaveLength(1);
  });

  it('reports a failing migration with its exit code and last lines', async () => {
    const ns = await newNamespace(conn);
    await createDeployment(conn, ns, 'planner', 'registry.local/planner:1', { containers });
    sandbox.images.setCommand(
      'alembic upgrade head',
      {
        kind: 'exit',
        exitCode: 3,
        lines: [
          'Running upgrade 3c4d -> 5e6f',
          'sqlalchemy.exc.ProgrammingError: relation "plans" already exists',
        ],
      },
      'registry.local/planner:3',
    );
    const { result } = await migrate(ns, 'registry.local/planner:3', '102-1');
    expect(result).toMatchObject({ status: 'failed', exitCode: 3, reason: 'Error' });
    expect(result.message).toMatch(/BackoffLimitExceeded.*exited with code 3/);
    expect(result.logTail.at(-1)).toBe('sqlalchemy.exc.ProgrammingError: relation "plans" already exists');
  });

  it('fails at once when the image cannot be pulled, then deletes the Job and its pods', async () => {
    const ns = await newNamespace(conn);
    await createDeployment(conn, ns, 'planner', 'registry.local/planner:1', { containers });
    sandbox.images.set('registry.local/planner:missing', { kind: 'missing' });
    const started = Date.now();
    const { result } = await migrate(ns, 'registry.local/planner:missing', '103-1');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result).toMatchObject({ status: 'failed', diagnosis: { container: 'app' } });
    expect(result.reason).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(result.exitCode).toBeUndefined();
    expect(await deleteJob({ conn, namespace: ns, name: 'planner-migrate-103-1' })).toBe(true);
    expect(await deleteJob({ conn, namespace: ns, name: 'planner-migrate-103-1' })).toBe(false);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const pods = await conn.request<KubeList<Pod>>('GET', `/api/v1/namespaces/${ns}/pods`, {
        query: { labelSelector: 'planner-deploy/run=103-1' },
      });
      if (pods.items.length === 0) break;
      if (Date.now() > deadline) throw new Error('the Job pods were not deleted');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('times out at our deadline, and the Job deadline fails it on the server', async () => {
    const ns = await newNamespace(conn);
    await createDeployment(conn, ns, 'planner', 'registry.local/planner:1', { containers });
    sandbox.images.setCommand('sleep-forever', {
      kind: 'exit',
      exitCode: 0,
      lines: ['waiting for lock'],
      after: 3_600_000,
    });
    const timedOut = await migrate(ns, 'registry.local/planner:4', '104-1', {
      command: ['sleep-forever'],
      timeoutMs: 1000,
    });
    expect(timedOut.result.status).toBe('timed-out');
    expect(timedOut.result.message).toMatch(
      /^timed out after .* waiting for job.batch\/planner-migrate-104-1 to complete$/,
    );
    await deleteJob({ conn, namespace: ns, name: 'planner-migrate-104-1' });

    const deadlined = await migrate(ns, 'registry.local/planner:4', '104-2', {
      command: ['sleep-forever'],
      activeDeadlineSeconds: 20,
    });
    expect(deadlined.result).toMatchObject({ status: 'failed', reason: 'DeadlineExceeded' });
  });
});
