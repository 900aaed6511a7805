// The example workflows as shipped, run through `pnpm workflow`'s engine on the sandbox (the Planner app
// seeded: v1.0.0 in planner-staging and planner-production): cd-staging with its CI gate, the hotfix image,
// deploy-manual's three use cases from the pipeline guide, and the reusable deploy workflow called from
// another repository's layout with a ref. cd-staging's gate runs ci.yml for real where a Docker engine is
// present (its docker and integration jobs need one; CI has it) and is taken as concluded (`assumeJobs`, as
// `--assume-job` does) where none is, said in the log; a red CI is real either way (a fixture copy with a lint
// error). ci.yml's own jobs are checked in ci-workflow.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  commitOf,
  runWorkflow,
  type RunRecord,
  type StepRecord,
  type WorkflowRunOptions,
} from '@planner-deploy/runner-harness/workflow';
import { PLANNER_REPOSITORY } from '@planner-deploy/sandbox';
import { root, workflowSandbox, type WorkflowSandbox } from '../scripts/workflow-sandbox.js';

let sandbox: WorkflowSandbox;
let workDir: string;

beforeAll(async () => {
  sandbox = await workflowSandbox({ timeScale: 0.1, env: {} });
  workDir = await mkdtemp(join(tmpdir(), 'workflows-run-'));
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  await rm(workDir, { recursive: true, force: true });
});

function run(file: string, options: Partial<WorkflowRunOptions> = {}): Promise<RunRecord> {
  return runWorkflow({
    ...sandbox.options,
    file: file.startsWith('/') ? file : join(root, file),
    workDir,
    ...options,
    secrets: { ...sandbox.options.secrets, ...options.secrets },
  });
}
const steps = (r: RunRecord): StepRecord[] => r.jobs.flatMap((j) => j.steps);
const outcome = (r: RunRecord, name: string): string | undefined =>
  steps(r).find((s) => s.name === name)?.outcome;
const failures = (r: RunRecord): string[] =>
  steps(r)
    .filter((s) => s.outcome === 'failure')
    .map((s) => `${s.job} › ${s.name}: ${s.annotations.map((a) => a.message.split('\n')[0]).join(' | ')}`);

async function version(environment: string): Promise<string> {
  const response = await fetch(sandbox.seed!.appUrl(environment, '/health'));
  return ((await response.json()) as { version?: string }).version ?? '';
}
const image = async (tag: string, appVersion = tag): Promise<void> => {
  await sandbox.cloud!.aws.ecr.addImage(PLANNER_REPOSITORY, tag, undefined, {
    env: { APP_VERSION: appVersion },
  });
};

describe('cd-staging.yml as shipped', () => {
  // ci.yml's docker and integration jobs need a Docker engine: without one the gate is taken as passed.
  const gate = (): Partial<WorkflowRunOptions> => {
    if (sandbox.docker) return {};
    console.warn('NOTICE: cd-staging: CI taken as passed (assumeJobs ci=success): no Docker engine here');
    return { assumeJobs: { ci: 'success' } };
  };
  const topLevel = (r: RunRecord): string[] =>
    r.jobs.filter((j) => !j.id.includes('/')).map((j) => `${j.id}:${j.result}`);

  it('a push to develop: CI passed → build, migrate, roll out, verify the commit serves', async () => {
    const sha = '5ca1ab1e0000000000000000000000000000beef';
    const r = await run('examples/workflows/cd-staging.yml', { ref: 'develop', sha, ...gate() });
    expect(failures(r)).toEqual([]);
    expect(r.conclusion).toBe('success');
    expect(topLevel(r)).toEqual(['ci:success', 'deploy:success']);
    if (sandbox.docker)
      expect(r.jobs.map((j) => j.name)).toEqual(
        expect.arrayContaining(['CI / Backend tests', 'CI / Integration tests']),
      );
    for (const step of ['Build and push image', 'Database migration', 'EKS deployment', 'Verification'])
      expect([step, outcome(r, step)]).toEqual([step, 'success']);
    expect(outcome(r, 'Rollback on failure')).toBe('skipped');
    expect(await version('staging')).toBe(sha);
  }, 900_000);

  it('a red CI never deploys: a lint error fails CI, the deploy job is skipped and the run fails', async () => {
    const before = await version('staging');
    const app = await mkdtemp(join(tmpdir(), 'planner-app-red-'));
    try {
      await cp(join(root, 'examples/planner-app'), app, { recursive: true, dereference: true });
      await writeFile(join(app, 'backend', 'lint_bait.py'), 'import os\n');
      const r = await run('examples/workflows/cd-staging.yml', {
        ref: 'develop',
        sha: 'badc1000000000000000000000000000000000ff',
        fixture: app,
      });
      expect(r.conclusion).toBe('failure');
      expect(topLevel(r)).toEqual(['ci:failure', 'deploy:skipped']);
      expect(outcome(r, 'Lint (flake8)')).toBe('failure');
      expect(await version('staging')).toBe(before);
    } finally {
      await rm(app, { recursive: true, force: true });
    }
  }, 900_000);

  it('a CI taken as failed (--assume-job ci=failure) never deploys either', async () => {
    const r = await run('examples/workflows/cd-staging.yml', {
      ref: 'develop',
      sha: 'badc2000000000000000000000000000000000ff',
      assumeJobs: { ci: 'failure' },
    });
    expect(r.conclusion).toBe('failure');
    expect(r.jobs.map((j) => `${j.id}:${j.result}`)).toEqual(['ci:failure', 'deploy:skipped']);
  }, 60_000);
});

describe("deploy-manual.yml as shipped: the pipeline guide's three use cases", () => {
  const manual = (inputs: Record<string, string>): Promise<RunRecord> =>
    run('examples/workflows/deploy-manual.yml', { event: 'workflow_dispatch', inputs });

  it('1. a specific version to production: backup, migrations, rollout, verification', async () => {
    await image('v1.2.3');
    const r = await manual({ environment: 'production', image_tag: 'v1.2.3' });
    expect(failures(r)).toEqual([]);
    expect(r.conclusion).toBe('success');
    for (const step of [
      'Image to deploy',
      'Database backup',
      'Database migration',
      'EKS deployment',
      'Verification',
    ])
      expect([step, outcome(r, step)]).toEqual([step, 'success']);
    expect(r.jobs[0]?.name).toBe('Deploy v1.2.3 to production');
    expect(await version('production')).toBe('v1.2.3');
  }, 180_000);

  it('2. a hotfix: build-hotfix.yml tags hotfix-<sha7>, deploy-manual ships it without migrations', async () => {
    const sha = 'abc1234def5678901234567890abcdef12345678';
    const built = await run('examples/workflows/build-hotfix.yml', {
      ref: 'hotfix/login-fix',
      sha,
      assumeJobs: { ci: 'success' },
    });
    expect(failures(built)).toEqual([]);
    const tag = built.jobs.find((j) => j.id === 'build')?.outputs['tag'];
    expect(tag).toBe('hotfix-abc1234');
    const r = await manual({
      environment: 'production',
      image_tag: 'hotfix-abc1234',
      skip_migrations: 'true',
      force_deployment: 'true',
    });
    expect(failures(r)).toEqual([]);
    expect(outcome(r, 'Database backup')).toBe('skipped');
    expect(outcome(r, 'Database migration')).toBe('skipped');
    expect(outcome(r, 'EKS deployment')).toBe('success');
    expect(await version('production')).toBe(sha);
  }, 180_000);

  it('3. back to a previous version: rolled out as a new revision, migrations skipped', async () => {
    await image('v1.2.2');
    const r = await manual({
      environment: 'production',
      image_tag: 'v1.2.2',
      skip_migrations: 'true',
      force_deployment: 'true',
    });
    expect(failures(r)).toEqual([]);
    expect(outcome(r, 'Database migration')).toBe('skipped');
    expect(await version('production')).toBe('v1.2.2');
  }, 180_000);

  it('refuses an environment that is not a choice, and a tag that is not a Docker tag', async () => {
    await expect(manual({ environment: 'prod' })).rejects.toThrow(
      /--input environment: "prod" is not one of the choices \(staging, production\)/,
    );
    const r = await manual({ environment: 'staging', image_tag: 'x;rm -rf /' });
    expect(r.conclusion).toBe('failure');
    expect(failures(r)[0]).toMatch(/Image to deploy: .*is not a Docker tag/);
    expect(outcome(r, 'EKS deployment')).toBe('skipped');
  }, 60_000);
});

describe('the reusable deploy workflow, called from another repository', () => {
  it("deploys its ref's commit: build-push tags what was checked out, and that version serves", async () => {
    // Another repository's layout: its own .github/workflows calling planner-deploy's deploy.yml.
    const repo = await mkdtemp(join(tmpdir(), 'other-repo-'));
    try {
      await mkdir(join(repo, '.github', 'workflows'), { recursive: true });
      const caller = join(repo, '.github', 'workflows', 'deploy.yml');
      await writeFile(
        caller,
        [
          'name: Deploy a release branch',
          'on: push',
          'permissions:',
          '  id-token: write',
          '  contents: read',
          'jobs:',
          '  staging:',
          '    uses: some-org/planner-deploy/.github/workflows/deploy.yml@v1',
          '    with:',
          '      environment: staging',
          '      app-url: ${{ vars.STAGING_URL }}',
          '      ref: release/1.3',
          '    secrets: inherit',
          '',
        ].join('\n'),
      );
      const runSha = '0000000000000000000000000000000000c0ffee';
      const r = await run(caller, {
        ref: 'main',
        sha: runSha,
        vars: { STAGING_URL: sandbox.options.environments!['staging']!.vars!['APP_URL']! },
      });
      expect(failures(r)).toEqual([]);
      expect(r.conclusion).toBe('success');
      const refCommit = commitOf('release/1.3', {
        sha: runSha,
        ref: 'refs/heads/main',
        refName: 'main',
        repository: 'example-org/planner-app',
      });
      expect(refCommit).not.toBe(runSha);
      expect(await version('staging')).toBe(refCommit);
      expect(r.jobs.map((j) => j.name)).toContain('staging');
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('deploy-with-reusable.yml as shipped', () => {
  it("a push to develop: the called workflow reads the staging environment's APP_URL and RDS_DB_INSTANCE", async () => {
    const sha = 'feed000000000000000000000000000000d00d1e';
    const r = await run('examples/workflows/deploy-with-reusable.yml', { ref: 'develop', sha });
    expect(failures(r)).toEqual([]);
    expect(r.conclusion).toBe('success');
    for (const step of ['Database backup', 'Database migration', 'EKS deployment', 'Verification'])
      expect([step, outcome(r, step)]).toEqual([step, 'success']);
    for (const step of ['No verification configured', 'No database backup configured'])
      expect([step, outcome(r, step)]).toEqual([step, 'skipped']);
    expect(await version('staging')).toBe(sha);
  }, 180_000);
});
