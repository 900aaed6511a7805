// examples/workflows/ci.yml as shipped, run through `pnpm workflow`'s engine: the backend's flake8, mypy and
// pytest, the frontend's npm scripts, bandit and the rest run for real with this machine's tools; where a tool
// is missing or too old, its stand-in (packages/runner-harness/tool-stand-ins) says so in the step's
// annotations. The Docker build jobs and the integration job need a Docker engine (DOCKER_HOST): without one
// their assertions are skipped, said in the log; CI sets PLANNER_DEPLOY_REQUIRE_DOCKER=1, where they must run.
// A red CI: a copy of the fixture app with a lint error fails the backend job and skips the integration job.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  runWorkflow,
  type JobRecord,
  type RunRecord,
  type StepRecord,
  type WorkflowRunOptions,
} from '@planner-deploy/runner-harness/workflow';
import { dockerUnavailableReason } from '@planner-deploy/sandbox';
import { root, workflowSandbox, type WorkflowSandbox } from '../scripts/workflow-sandbox.js';

const REQUIRE_DOCKER = process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1';
const noDocker = await dockerUnavailableReason();
if (noDocker !== undefined && !REQUIRE_DOCKER)
  console.warn(`NOTICE: ci.yml's docker and integration jobs are not checked here: ${noDocker}`);
const withDocker = noDocker === undefined || REQUIRE_DOCKER ? it : it.skip;

const CI = join(root, 'examples/workflows/ci.yml');
const DOCKER_JOBS = [
  'Docker build test (development)',
  'Docker build test (production)',
  'Integration tests',
];

let sandbox: WorkflowSandbox;
let workDir: string;

beforeAll(async () => {
  sandbox = await workflowSandbox({ timeScale: 0.1, env: {} });
  workDir = await mkdtemp(join(tmpdir(), 'ci-workflow-'));
}, 120_000);
afterAll(async () => {
  await sandbox?.stop();
  await rm(workDir, { recursive: true, force: true });
});

function run(options: Partial<WorkflowRunOptions> = {}): Promise<RunRecord> {
  return runWorkflow({
    ...sandbox.options,
    file: CI,
    event: 'pull_request',
    ref: 'refs/pull/42/merge',
    sha: 'c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1',
    workDir,
    ...options,
  });
}
const job = (r: RunRecord, name: string): JobRecord | undefined => r.jobs.find((j) => j.name === name);
const step = (r: RunRecord, jobName: string, name: string): StepRecord | undefined =>
  job(r, jobName)?.steps.find((s) => s.name === name);
const standIns = (s: StepRecord | undefined): string[] =>
  (s?.annotations ?? [])
    .filter((a) => a.level === 'warning' && /stand-in/i.test(`${a.title ?? ''} ${a.message}`))
    .map((a) => a.message);
const failures = (r: RunRecord): string[] =>
  r.jobs
    .flatMap((j) => j.steps)
    .filter((s) => s.outcome === 'failure')
    .map(
      (s) =>
        `${s.job} › ${s.name}: ${[...s.annotations.map((a) => a.message), ...s.lines.slice(-5)].join(' | ')}`,
    );

let shipped: RunRecord;

describe('ci.yml as shipped, on a pull request', () => {
  beforeAll(async () => {
    shipped = await run();
  }, 900_000);

  it('backend: pip, flake8, mypy and pytest with coverage ran for real and passed', () => {
    const backend = 'Backend tests';
    expect([backend, job(shipped, backend)?.result]).toEqual([backend, 'success']);
    for (const name of [
      'Install dependencies',
      'Lint (flake8)',
      'Type check (mypy)',
      'Tests with coverage (pytest)',
    ])
      expect([name, step(shipped, backend, name)?.outcome]).toEqual([name, 'success']);
    // pytest-cov's terminal report: the tests ran and coverage was measured.
    const pytest = step(shipped, backend, 'Tests with coverage (pytest)')?.lines.join('\n') ?? '';
    expect(pytest).toMatch(/^TOTAL\s+\d+/m);
    expect(pytest).toMatch(/\b\d+ passed\b/);
    // Where pip could not install the pins (no package index, PEP 668), the stand-in names every tool it used
    // instead, with its version; where it could, there is no stand-in line at all.
    const install = step(shipped, backend, 'Install dependencies');
    const pip = standIns(install);
    if (pip.length) {
      expect(pip).toHaveLength(1);
      for (const tool of ['flake8', 'mypy', 'pytest', 'pytest-cov'])
        expect(pip[0]).toMatch(new RegExp(`pip could not install .*using the installed .*\\b${tool} \\d`));
    } else expect(install?.lines.join('\n')).toMatch(/Requirement already satisfied|Successfully installed/);
  });

  it('frontend: npm ci, ESLint, tsc, the tests and the build passed; the build was archived', () => {
    expect(job(shipped, 'Frontend tests')?.result).toBe('success');
    for (const name of [
      'Lint (ESLint)',
      'Type check (tsc)',
      'Tests with coverage',
      'Production build',
      'Archive the build',
    ])
      expect([name, step(shipped, 'Frontend tests', name)?.outcome]).toEqual([name, 'success']);
  });

  it('security: bandit ran (SARIF stood in where it lacks it), Trivy is a stated stand-in', () => {
    const security = 'Security scanning';
    expect(job(shipped, security)?.result).toBe('success');
    expect(standIns(step(shipped, security, 'Trivy filesystem scan'))[0]).toMatch(
      /No vulnerability scan ran/,
    );
    const bandit = step(shipped, security, 'Bandit (Python security linter)');
    expect(bandit?.outcome).toBe('success');
    const said = standIns(bandit).join('\n');
    // What this machine's bandit can do decides what the step must say: Debian 12's 1.6.2 has no SARIF
    // formatter, so its JSON became SARIF; no bandit at all, no scan — never a silent success.
    const help = spawnSync('bandit', ['--help'], { encoding: 'utf8' });
    if (help.error) expect(said).toMatch(/No security scan ran: bandit is not installed here/);
    else if (!/-f \{[^}]*sarif/.test(help.stdout))
      expect(said).toMatch(/bandit \S+ here has no sarif formatter.*wrote SARIF 2\.1\.0/);
    else expect(said).toBe('');
    // The SARIF uploads parsed what the step wrote.
    expect(step(shipped, security, 'Upload Bandit results to the Security tab')?.lines.join('\n')).toMatch(
      /bandit-results\.sarif is SARIF with 1 run\(s\)/,
    );
  });

  // A job added to ci.yml is a job this test must check.
  it('has the jobs this test checks', () => {
    expect(shipped.jobs.map((j) => j.name).sort()).toEqual(
      ['Backend tests', 'Frontend tests', 'Security scanning', ...DOCKER_JOBS].sort(),
    );
  });

  withDocker('docker and integration: both targets built, the compose stack tested — every job green', () => {
    expect(failures(shipped)).toEqual([]);
    for (const name of DOCKER_JOBS) expect([name, job(shipped, name)?.result]).toEqual([name, 'success']);
    expect(shipped.conclusion).toBe('success');
  });
});

describe('a red CI', () => {
  it('a lint error in the backend fails its job and skips the integration tests that need it', async () => {
    const app = await mkdtemp(join(tmpdir(), 'planner-app-red-'));
    try {
      await cp(join(root, 'examples/planner-app'), app, { recursive: true, dereference: true });
      await writeFile(
        join(app, 'backend', 'lint_bait.py'),
        'import os\n\n\ndef unused() -> None:\n    pass\n',
      );
      const r = await run({ fixture: app, sha: 'bad0000000000000000000000000000000000bad' });
      expect(r.conclusion).toBe('failure');
      expect(job(r, 'Backend tests')?.result).toBe('failure');
      const lint = step(r, 'Backend tests', 'Lint (flake8)');
      expect(lint?.outcome).toBe('failure');
      // flake8's own report of the real error (F401: 'os' imported but unused).
      expect(lint?.lines.join('\n')).toMatch(/lint_bait\.py:1:1: F401 'os' imported but unused/);
      expect(step(r, 'Backend tests', 'Tests with coverage (pytest)')?.outcome).toBe('skipped');
      expect(job(r, 'Frontend tests')?.result).toBe('success');
      expect(job(r, 'Integration tests')?.result).toBe('skipped');
    } finally {
      await rm(app, { recursive: true, force: true });
    }
  }, 900_000);
});
