// End to end: the built run-migration-job dist on the sandbox, migrations as images that print and exit.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import { createDeployment, startSandbox, waitUntil, type Sandbox } from '@planner-deploy/sandbox';

let sandbox: Sandbox;
let seq = 0;

beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.05 });
  createDeployment(sandbox, {
    name: 'planner-app',
    image: 'registry.local/planner-app:v1',
    replicas: 1,
    env: [{ name: 'DATABASE_URL', value: 'postgresql://planner@db/planner' }],
    serviceAccountName: 'planner',
  });
});
afterAll(async () => {
  await sandbox.stop();
});

function migrate(
  inputs: Record<string, string>,
  extra: { cancelWhen?: RegExp; attempt?: string } = {},
): Promise<RunResult> {
  return runStep({
    action: 'actions/run-migration-job',
    inputs: { deployment: 'planner-app', command: 'alembic upgrade head', timeout: '60s', ...inputs },
    env: {
      KUBECONFIG: sandbox.kubeconfigPath,
      GITHUB_RUN_ID: String(1000 + ++seq),
      ...(extra.attempt ? { GITHUB_RUN_ATTEMPT: extra.attempt } : {}),
    },
    ...(extra.cancelWhen ? { cancel: { whenLog: extra.cancelWhen } } : {}),
  });
}

const jobs = () => sandbox.store.list('jobs', 'default');

describe('run-migration-job (built dist on the sandbox)', () => {
  it('runs the migration from the deployment template, streams its log and reports exit code 0', async () => {
    sandbox.images.set('registry.local/planner-app:v2', {
      kind: 'exit',
      exitCode: 0,
      lines: [
        'INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.',
        'INFO  [alembic.runtime.migration] Running upgrade 1a2b -> 3c4d, add tasks.due_date',
      ],
    });
    const r = await migrate({ image: 'registry.local/planner-app:v2' });
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({ status: 'succeeded', 'exit-code': '0' });
    expect(r.log).toContain('Running upgrade 1a2b -> 3c4d, add tasks.due_date');
    const job = sandbox.store.get('jobs', 'default', r.outputs['job-name'] ?? '');
    const container = job?.spec.template.spec.containers[0];
    expect(container.image).toBe('registry.local/planner-app:v2');
    expect(container.command).toEqual(['alembic', 'upgrade', 'head']);
    expect(container.env).toEqual([{ name: 'DATABASE_URL', value: 'postgresql://planner@db/planner' }]);
    expect(job?.spec.template.spec.serviceAccountName).toBe('planner');
    expect(job?.spec.backoffLimit).toBe(0);
    expect(job?.spec.activeDeadlineSeconds).toBe(60);
    expect(r.summary).toContain('add tasks.due_date');
  });

  it('fails with the exit code and shows the log when the migration exits 3', async () => {
    sandbox.images.set('registry.local/planner-app:bad-migration', {
      kind: 'exit',
      exitCode: 3,
      lines: [
        'INFO  Running upgrade 3c4d -> 5e6f',
        'sqlalchemy.exc.ProgrammingError: column "due_date" already exists',
      ],
    });
    const r = await migrate({ image: 'registry.local/planner-app:bad-migration' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs).toMatchObject({ status: 'failed', 'exit-code': '3' });
    const error = r.annotations.find((a) => a.level === 'error');
    expect(error?.message).toContain('exit code 3');
    expect(error?.message).toContain('column "due_date" already exists');
    expect(r.summary).toContain('column &quot;due_date&quot; already exists'.replace(/&quot;/g, '"'));
  });

  it('fails fast when the image cannot be pulled', async () => {
    sandbox.images.set('registry.local/planner-app:typo', { kind: 'missing' });
    const r = await migrate({ image: 'registry.local/planner-app:typo', timeout: '5m' });
    expect(r.exitCode).toBe(1);
    expect(r.durationMs).toBeLessThan(30_000);
    expect(r.annotations.find((a) => a.level === 'error')?.message).toMatch(/ErrImagePull|ImagePullBackOff/);
  });

  it('times out a migration that runs past its deadline', async () => {
    sandbox.images.set('registry.local/planner-app:slow', {
      kind: 'exit',
      exitCode: 0,
      lines: ['working'],
      after: 600_000,
    });
    const r = await migrate({ image: 'registry.local/planner-app:slow', timeout: '3s' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status).toBe('timed-out');
  });

  it('a re-run of the same attempt adopts the Job instead of creating a second one', async () => {
    sandbox.images.set('registry.local/planner-app:v3', { kind: 'exit', exitCode: 0, lines: ['done'] });
    const inputs = { image: 'registry.local/planner-app:v3', 'job-name': 'planner-app-migrate-fixed' };
    const first = await migrate(inputs);
    expect(first.exitCode).toBe(0);
    seq--; // same run id
    const again = await migrate(inputs);
    expect(again.exitCode).toBe(0);
    expect(again.log).toContain('already exists from this run');
    expect(jobs().filter((j) => j.metadata.name === 'planner-app-migrate-fixed')).toHaveLength(1);
  });

  it('a re-run of the same attempt with another image does not adopt the earlier Job, and deletes nothing', async () => {
    sandbox.images.set('registry.local/planner-app:broken', { kind: 'exit', exitCode: 3, lines: ['boom'] });
    sandbox.images.set('registry.local/planner-app:fixed', { kind: 'exit', exitCode: 0, lines: ['ok'] });
    const first = await migrate({
      image: 'registry.local/planner-app:broken',
      'job-name': 'planner-app-migrate-img',
    });
    expect(first.outputs['exit-code']).toBe('3');
    seq--; // same run id and attempt
    const again = await migrate({
      image: 'registry.local/planner-app:fixed',
      'job-name': 'planner-app-migrate-img',
    });
    expect(again.exitCode).toBe(1);
    expect(again.outputs['exit-code']).not.toBe('3');
    const [error] = again.annotations.filter((a) => a.level === 'error');
    expect(error?.title).toBe('Job already exists with other settings');
    expect(error?.message).toContain('A Job named "planner-app-migrate-img"');
    expect(error?.message).toContain(
      'image: the existing Job has "registry.local/planner-app:broken", this step would run "registry.local/planner-app:fixed"',
    );
    expect(error?.message).toContain('Nothing was deleted');
    const kept = jobs().filter((j) => j.metadata.name === 'planner-app-migrate-img');
    expect(kept).toHaveLength(1);
    expect(kept[0]?.spec.template.spec.containers[0].image).toBe('registry.local/planner-app:broken');
  });

  it('on cancel deletes the Job and says so', async () => {
    sandbox.images.set('registry.local/planner-app:long', {
      kind: 'exit',
      exitCode: 0,
      lines: ['step 1', 'step 2', 'step 3'],
      after: 600_000,
    });
    const r = await migrate(
      { image: 'registry.local/planner-app:long', timeout: '5m' },
      { cancelWhen: /step 1/ },
    );
    expect(r.exitCode).toBe(1);
    expect(r.exitAfterCancelMs).toBeLessThan(7500);
    const name = r.log.match(/job\.batch\/(planner-app-migrate-[a-z0-9-]+)/)?.[1] ?? '';
    expect(name).not.toBe('');
    expect(r.annotations.find((a) => a.level === 'error')?.message).toContain('deleted');
    await waitUntil(
      'the job to be gone',
      () => sandbox.store.get('jobs', 'default', name) === undefined,
      10_000,
    );
  });
});

describe('run-migration-job bad inputs: exit 1 before any request, the message names the input', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['deployment', { deployment: 'Planner App', image: 'a:1' }],
    ['image', { image: 'bad image ref' }],
    ['container', { image: 'a:1', container: 'Not_A_Name' }],
    ['command', { image: 'a:1', command: 'alembic "upgrade head' }],
    ['args', { image: 'a:1', args: "'unclosed" }],
    ['job-name', { image: 'a:1', 'job-name': 'x'.repeat(70) }],
    ['backoff-limit', { image: 'a:1', 'backoff-limit': '-1' }],
    ['timeout', { image: 'a:1', timeout: '15' }],
    ['ttl-seconds-after-finished', { image: 'a:1', 'ttl-seconds-after-finished': 'day' }],
    ['delete-on-cancel', { image: 'a:1', 'delete-on-cancel': 'yes' }],
    ['log-tail-lines', { image: 'a:1', 'log-tail-lines': '100000' }],
    ['namespace', { image: 'a:1', namespace: 'NS' }],
    ['cluster-name', { image: 'a:1', 'cluster-name': '_x', region: 'us-east-1' }],
    ['region', { image: 'a:1', 'cluster-name': 'prod', region: 'x' }],
    ['kubeconfig', { image: 'a:1', kubeconfig: '!!!' }],
    ['context', { image: 'a:1', context: 'nope' }],
  ];
  it.each(cases)('%s', async (input, inputs) => {
    const before = sandbox.faults.stats.requests;
    const r = await migrate(inputs);
    expect(r.exitCode).toBe(1);
    expect(r.annotations.find((a) => a.level === 'error')?.message).toContain(`"${input}"`);
    expect(sandbox.faults.stats.requests).toBe(before);
  });
});

describe('run-migration-job under API faults (10% 5xx, 5% 429, watches and log streams cut every 2 s, a 410)', () => {
  it.each([
    ['exits 0', 0, 'succeeded'],
    ['exits 3', 3, 'failed'],
  ])('a migration that %s ends the same, with exactly one Job', async (_what, exitCode, status) => {
    const image = `registry.local/planner-app:faulty-${exitCode}`;
    sandbox.images.set(image, {
      kind: 'exit',
      exitCode,
      lines: ['INFO  Running upgrade', 'line two', 'line three'],
      after: 3000,
    });
    sandbox.faults.set({
      errorRate: 0.1,
      errorRetryAfterSeconds: 1,
      throttleRate: 0.05,
      retryAfterSeconds: 1,
      watchCutSeconds: 2,
      expireNextWatches: 1,
      seed: 77 + exitCode,
    });
    try {
      const r = await migrate({ image });
      expect(r.outputs.status).toBe(status);
      expect(r.outputs['exit-code']).toBe(String(exitCode));
      expect(r.exitCode).toBe(exitCode === 0 ? 0 : 1);
      const name = r.outputs['job-name'] ?? '';
      expect(jobs().filter((j) => j.metadata.name === name)).toHaveLength(1);
      expect(r.log).toContain('INFO  Running upgrade');
    } finally {
      sandbox.faults.set({});
    }
  });
});
