/*
 * The fault matrix's hostile-workload axis (issue #12): every action, on every path where it prints text it does
 * not control, run as the BUILT dist through the runner harness against workloads, servers and inputs that
 * speak the runner's protocol (packages/sandbox/src/hostile.ts). The step's stdout is read with the runner's three
 * rules, and for every run:
 *   1. no command from the hostile text takes effect (no forged annotation, mask, output, state, group, path, and
 *      no `::stop-commands::` of theirs);
 *   2. every command of the step's own still does: its error annotation (for a failing path), its outputs, its
 *      groups (each closed), and commands are on again when the step ends;
 *   3. the hostile text is still shown (quoted or fenced), not dropped.
 * Seeded as the matrix is (FAULT_MATRIX_SEED, default 20261127): the seed orders the hostile lines, places the
 * workload's own never-resumed `::stop-commands::x` among them, and decides whether it also prints `::x::`.
 * A path that needs docker uses a stand-in `docker` executable that prints the hostile lines (no daemon needed).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runnerCommands, runStep, type RunResult, type StepResult } from '@planner-deploy/runner-harness';
import {
  createDeployment,
  FORGED_MARKER,
  FORGED_MASK,
  HOSTILE_LINES,
  isForgedCommand,
  startHostileHttpServer,
  startSandbox,
  waitForDeploymentReady,
  type HostileHttpServer,
  type Sandbox,
} from '@planner-deploy/sandbox';
import { matrixSeed, prng } from './prng.js';

const SEED = matrixSeed(process.env, 20261127);
const rng = prng(SEED ^ 0x12);

/** The hostile lines in the seed's order, the workload's `::stop-commands::x` somewhere among them. */
function seededLines(): string[] {
  const lines = HOSTILE_LINES.filter((l) => l !== '::stop-commands::x');
  for (let i = lines.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
  }
  const at = rng.int(0, lines.length);
  lines.splice(at, 0, '::stop-commands::x', ...(rng.chance(0.5) ? ['::x::'] : []));
  return ['INFO  starting', ...lines];
}
const LINES = seededLines();
const VALUE = LINES.join('\n');

let sandbox: Sandbox;
let server: HostileHttpServer;
let jsonServer: HostileHttpServer;
let workspace: string;
let seq = 0;

beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.05 });
  server = await startHostileHttpServer();
  jsonServer = await startHostileHttpServer({ status: 422, json: true });
  workspace = await mkdtemp(join(tmpdir(), 'hostile-'));
  console.log(`hostile-workload axis: seed ${SEED}, lines in order: ${JSON.stringify(LINES)}`);
}, 60_000);
afterAll(async () => {
  await Promise.all([sandbox?.stop(), server?.stop(), jsonServer?.stop()]);
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

function step(action: string, inputs: Record<string, string>, env: Record<string, string> = {}) {
  return runStep({
    action: `actions/${action}`,
    inputs,
    env: { KUBECONFIG: sandbox.kubeconfigPath, GITHUB_RUN_ID: String(5000 + ++seq), ...env },
    workspace,
    limitMs: 120_000,
  });
}

/** A namespace of its own with a ready Deployment, for one run. */
async function deployment(): Promise<{ namespace: string; name: string }> {
  const namespace = `hostile-${++seq}`;
  sandbox.store.create('namespaces', { metadata: { name: namespace } });
  createDeployment(sandbox, {
    name: 'planner-app',
    namespace,
    image: 'registry.local/planner-app:v1',
    replicas: 1,
  });
  await waitForDeploymentReady(sandbox, 'planner-app', namespace);
  return { namespace, name: 'planner-app' };
}

/** Checks 1 and 2 on one phase of a step. */
function expectRunnerSafe(phase: StepResult, label: string): void {
  expect({ label, forged: phase.commands.filter(isForgedCommand) }).toEqual({ label, forged: [] });
  expect(phase.masks).not.toContain(FORGED_MASK);
  expect(Object.keys(phase.outputs)).not.toContain(FORGED_MARKER);
  expect(Object.keys(phase.state)).not.toContain(FORGED_MARKER);
  expect(phase.commandsStoppedAtEnd).toBe(false);
  const groups = phase.commands.filter((c) => c.command === 'group').length;
  const ends = phase.commands.filter((c) => c.command === 'endgroup').length;
  expect(ends).toBe(groups);
}

/** Checks 1–3: the hostile text reached what the runner shows (fenced or quoted), and none of it acted. */
function expectSafe(r: RunResult, label: string): void {
  expectRunnerSafe(r, label);
  if (r.post) expectRunnerSafe(r.post, `${label} (post)`);
  const shown = [r.log, r.summary, ...r.annotations.map((a) => a.message)].join('\n');
  expect({ label, shown: shown.includes(FORGED_MARKER) }).toEqual({ label, shown: true });
}

const errorTitles = (r: StepResult): string[] =>
  r.annotations.filter((a) => a.level === 'error').map((a) => a.title ?? '');

describe(`hostile workloads, text, servers and inputs (seed ${SEED})`, () => {
  test('the hostile lines, printed as they are, would command the runner (the checks below can fail)', () => {
    const forged = runnerCommands(LINES.join('\n')).filter(isForgedCommand);
    expect(forged.length).toBeGreaterThanOrEqual(3);
  });

  test('run-migration-job: the Job’s log stream is shown fenced, the step’s own outputs and groups hold', async () => {
    const { namespace } = await deployment();
    sandbox.images.set('registry.local/planner-app:hostile-ok', { kind: 'exit', exitCode: 0, lines: LINES });
    const r = await step('run-migration-job', {
      namespace,
      deployment: 'planner-app',
      image: 'registry.local/planner-app:hostile-ok',
      command: 'alembic upgrade head',
      timeout: '60s',
    });
    expectSafe(r, 'migration stream');
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({ status: 'succeeded', 'exit-code': '0' });
    // Shown as the workload printed it, inside the fence.
    expect(r.lines).toContain(HOSTILE_LINES[0]);
  });

  test('run-migration-job: a failed Job’s last lines are quoted in the step’s own error annotation', async () => {
    const { namespace } = await deployment();
    sandbox.images.set('registry.local/planner-app:hostile-bad', { kind: 'exit', exitCode: 3, lines: LINES });
    const r = await step('run-migration-job', {
      namespace,
      deployment: 'planner-app',
      image: 'registry.local/planner-app:hostile-bad',
      command: 'alembic upgrade head',
      timeout: '60s',
    });
    expectSafe(r, 'migration failure');
    expect(r.exitCode).toBe(1);
    expect(r.outputs).toMatchObject({ status: 'failed', 'exit-code': '3' });
    expect(errorTitles(r)).toEqual(['Migration failed']);
    expect(r.summary).toContain('Last ');
  });

  test.each([
    ['a crash loop’s last log lines', { kind: 'crash', exitCode: 1, lines: LINES, after: 200 }],
    ['an image pull error message', { kind: 'missing', message: VALUE }],
    [
      'an exec probe’s output in the Unhealthy event',
      { kind: 'never-ready', lines: LINES, probeOutput: VALUE },
    ],
  ] as const)('rollout: fail-fast diagnosis quoting %s', async (_what, behaviour) => {
    const { namespace } = await deployment();
    const image = `registry.local/planner-app:hostile-${seq}`;
    sandbox.images.set(image, structuredClone(behaviour));
    const r = await step('rollout', {
      namespace,
      deployments: 'planner-app',
      image,
      timeout: '60s',
      'ready-grace': '2s',
    });
    expectSafe(r, 'rollout diagnosis');
    expect(r.exitCode).toBe(1);
    expect(r.outputs['previous-revision']).toBe('1');
    expect(errorTitles(r).length).toBeGreaterThanOrEqual(1);
    expect(errorTitles(r).at(-1)).toBe('Rollout failed');
  });

  test.each([
    ['a body and headers', () => ({ urls: `${server.url}/health` })],
    ['a redirect location', () => ({ urls: `${server.url}/redirect` })],
  ])('verify-health: the server’s %s are quoted', async (_what, inputs) => {
    const r = await step('verify-health', { ...inputs(), timeout: '3s', interval: '500ms' });
    expectSafe(r, 'verify-health');
    expect(r.exitCode).toBe(1);
    expect(r.outputs.healthy).toBe('false');
    expect(errorTitles(r).at(-1)).toBe('Health check failed');
    // Quoted, not dropped: the runner would show the broken command.
    expect(r.log).toContain(`##\\[error]${FORGED_MARKER}`);
  });

  test('verify-health: a smoke test against a hostile server', async () => {
    await writeFile(
      join(workspace, 'smoke.yml'),
      `base-url: ${server.url}\nchecks:\n  - name: api\n    url: /api\n    expected-status: 200\n`,
    );
    const r = await step('verify-health', { 'smoke-tests': 'smoke.yml', timeout: '3s', interval: '500ms' });
    expectSafe(r, 'smoke tests');
    expect(r.exitCode).toBe(1);
    expect(r.outputs.healthy).toBe('false');
  });

  test('auto-rollback: a hostile reason input is quoted in the log and the summary', async () => {
    const { namespace } = await deployment();
    const r = await step('auto-rollback', {
      namespace,
      deployments: 'planner-app',
      reason: VALUE,
      timeout: '30s',
    });
    expectSafe(r, 'auto-rollback');
    expect(r.log).toContain('Reason: ');
    expect(r.summary).toContain('Reason: ');
    expect(r.summary).not.toMatch(/^::/m);
  });

  test('rds-backup: the RDS API’s error message is quoted in the step’s own error annotation', async () => {
    // An RDS endpoint (Query protocol) whose error Message carries the hostile lines, as a proxy or a forged
    // endpoint could send it: the SDK parses it into the error the step reports.
    const xml = (text: string): string =>
      text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    const rds = createServer((req, res) => {
      req.resume();
      res.writeHead(400, { 'content-type': 'text/xml', 'x-amzn-requestid': 'hostile-1' });
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>${xml(VALUE)}</Message></Error><RequestId>hostile-1</RequestId></ErrorResponse>`,
      );
    });
    await new Promise<void>((resolve) => rds.listen(0, '127.0.0.1', resolve));
    try {
      const r = await step(
        'rds-backup',
        { 'db-instance-identifier': 'planner-production-db', region: 'us-east-1' },
        {
          AWS_ACCESS_KEY_ID: 'AKIAHOSTILETEST00001',
          AWS_SECRET_ACCESS_KEY: 'hostile-test-secret-key-0000000000000000',
          AWS_ENDPOINT_URL_RDS: `http://127.0.0.1:${(rds.address() as AddressInfo).port}`,
        },
      );
      expectSafe(r, 'rds-backup');
      expect(r.exitCode).toBe(1);
      expect(errorTitles(r)).toHaveLength(1);
      const error = r.annotations.find((a) => a.level === 'error');
      expect(error?.title).toBe('AWS InvalidParameterValue');
      expect(error?.message).toMatch(
        /^The AWS service refused the request: InvalidParameterValue \(HTTP 400, request id hostile-1\): INFO {2}starting\\n/,
      );
    } finally {
      rds.closeAllConnections();
      await new Promise<void>((resolve) => rds.close(() => resolve()));
    }
  });

  test('create-release: GitHub’s error body is quoted in the step’s own error annotation', async () => {
    const r = await step(
      'create-release',
      {},
      { GITHUB_API_URL: jsonServer.url, GITHUB_REF: 'refs/tags/v9.9.9' },
    );
    expectSafe(r, 'create-release');
    expect(r.exitCode).toBe(1);
    expect(errorTitles(r)).toHaveLength(1);
    expect(r.annotations.find((a) => a.level === 'error')?.message).toContain('422');
  });

  test('build-push: docker’s output is fenced and its last error line quoted', async () => {
    // A stand-in docker: a server version, no buildx, and a build that prints the hostile lines and fails.
    const bin = join(workspace, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(
      join(workspace, 'hostile-lines.txt'),
      `${LINES.join('\n')}\nerror: FORGED build failed ##[error]x\n`,
    );
    await writeFile(join(workspace, 'Dockerfile'), 'FROM scratch\n');
    await writeFile(
      join(bin, 'docker'),
      [
        '#!/bin/sh',
        'case "$1" in',
        '  version) echo 27.0.0 ;;',
        '  buildx) exit 1 ;;',
        `  build) cat '${join(workspace, 'hostile-lines.txt')}'; exit 1 ;;`,
        '  *) exit 0 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    await chmod(join(bin, 'docker'), 0o755);
    const r = await step(
      'build-push',
      { repository: 'planner-app', push: 'false', cache: 'none' },
      { PATH: `${bin}:${process.env.PATH ?? ''}` },
    );
    expectSafe(r, 'build-push');
    expect(r.exitCode).toBe(1);
    expect(errorTitles(r)).toEqual(['Image build failed']);
    expect(r.lines).toContain(HOSTILE_LINES[0]);
  });
});
