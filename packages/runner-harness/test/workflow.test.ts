// pnpm workflow's engine on small workflows of its own (test/fixtures/workflows): GitHub's parser and
// expression engine, the contexts, `if:` with the status functions, `needs` order, outputs, inputs,
// reusable workflows, and what it refuses. Only `run:` steps and stand-ins: no sandbox needed.
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  evaluateCondition,
  evaluateExpression,
  expandMatrix,
  loadWorkflow,
  machineNetworkEnv,
  runWorkflow,
  STAND_INS,
  WorkflowFileError,
  workflowReport,
  type RunRecord,
  type WorkflowRunOptions,
} from '../src/workflow/index.js';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(import.meta.dirname, 'fixtures', 'workflows');

async function run(file: string, options: Partial<WorkflowRunOptions> = {}): Promise<RunRecord> {
  const workDir = await mkdtemp(join(tmpdir(), 'workflow-test-'));
  try {
    return await runWorkflow({
      file: join(fixtures, file),
      repoRoot: root,
      fixture: join(root, 'examples', 'planner-app'),
      awsEnv: {},
      awsAccountId: '123456789012',
      workDir,
      ...options,
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

const job = (r: RunRecord, name: string) => {
  const found = r.jobs.find((j) => j.name === name);
  if (!found) throw new Error(`no job ${name} in ${r.jobs.map((j) => j.name).join(', ')}`);
  return found;
};
const lines = (r: RunRecord, name: string): string[] => job(r, name).steps.flatMap((s) => s.lines);
const outcomes = (r: RunRecord, name: string): string[] =>
  job(r, name).steps.map((s) => `${s.name}: ${s.outcome}/${s.conclusion}`);

describe('expressions (GitHub’s engine)', () => {
  const contexts = {
    github: { ref: 'refs/tags/v1.2.0', event_name: 'push', sha: 'abc' },
    inputs: { environment: 'production', skip_migrations: false },
    steps: { rollout: { outputs: { 'previous-revision': '4' }, outcome: 'failure' } },
  };
  it.each([
    ["startsWith(github.ref, 'refs/tags/v')", true],
    ["inputs.environment == 'production' && '60s' || '10s'", '60s'],
    ['!inputs.skip_migrations', true],
    ["steps.rollout.outputs.previous-revision != ''", true],
    ["steps.missing.outputs.x == ''", true],
    ["format('{0}-{1}', github.event_name, 'it''s ''quoted''')", "push-it's 'quoted'"],
    ['contains(fromJSON(\'["a","b"]\'), \'b\')', true],
    ['toJSON(inputs.environment)', '"production"'],
  ])('%s → %j', (expression, expected) => {
    expect(evaluateExpression(expression, contexts)).toEqual(expected);
  });

  it.each([
    ['success()', { success: true, failure: false, cancelled: false }, true],
    ['success()', { success: false, failure: true, cancelled: false }, false],
    ['failure()', { success: false, failure: true, cancelled: false }, true],
    ['always()', { success: false, failure: true, cancelled: false }, true],
    ['cancelled()', { success: true, failure: false, cancelled: false }, false],
    [
      "failure() && steps.rollout.outputs.previous-revision != ''",
      { success: false, failure: true, cancelled: false },
      true,
    ],
  ])('%s with %j → %s', (expression, status, expected) => {
    expect(evaluateCondition(expression, contexts, status)).toBe(expected);
  });

  it('names the expression when it cannot be evaluated', () => {
    expect(() => evaluateExpression('nosuch.context', contexts)).toThrow(/nosuch\.context/);
  });

  it('matrix: the product of the lists, include merged or added, exclude removed', () => {
    expect(
      expandMatrix({
        matrix: { a: [1, 2], b: ['x'], include: [{ a: 2, c: 'extra' }, { a: 3 }], exclude: [{ a: 1 }] },
      }),
    ).toEqual([{ a: 2, b: 'x', c: 'extra' }, { a: 3 }]);
    expect(expandMatrix(null)).toEqual([undefined]);
  });
});

describe('pnpm workflow runs a workflow as written', () => {
  it('contexts, env levels, GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY, needs, job outputs, skipped jobs', async () => {
    const r = await run('basics.yml', {
      event: 'workflow_dispatch',
      ref: 'v1.0.0',
      sha: 'a'.repeat(40),
      inputs: { loud: 'true', count: '5' },
    });
    expect(r.conclusion).toBe('success');
    expect(r.jobs.map((j) => `${j.name}:${j.result}`)).toEqual([
      'first:success',
      'second:success',
      'skipped:skipped',
      'after-skipped:skipped',
    ]);
    expect(lines(r, 'first')).toEqual([
      'levels from-workflow from-job from-job-and-step',
      'exported=later env=later',
      'LOUD',
    ]);
    expect(job(r, 'first').outputs).toEqual({ word: 'hello-workflow_dispatch', 'path-seen': 'tool-ran' });
    expect(lines(r, 'second')).toEqual(['got hello-workflow_dispatch success tool-ran ref=v1.0.0 count=5']);
    expect(job(r, 'first').steps[0]?.summary).toBe(`### made ${'a'.repeat(40)}\n`);
    expect(outcomes(r, 'first').slice(2)).toEqual(['Loud only: success/success', 'Never: skipped/skipped']);
  });

  it('defaults of workflow_dispatch inputs; a push has no inputs', async () => {
    const dispatched = await run('basics.yml', { event: 'workflow_dispatch' });
    expect(lines(dispatched, 'second')).toEqual([
      'got hello-workflow_dispatch success tool-ran ref=main count=2',
    ]);
    expect(outcomes(dispatched, 'first')[2]).toBe('Loud only: skipped/skipped');
    const pushed = await run('basics.yml');
    expect(job(pushed, 'first').outputs['word']).toBe('push-push');
  });

  it.each([
    [{ nope: '1' }, /--input nope: .* declares no input "nope" \(it has: greeting, loud, count\)/],
    [{ greeting: 'yo' }, /--input greeting: "yo" is not one of the choices \(hello, hi\)/],
    [{ loud: 'yes' }, /--input loud: "yes" is not a boolean \(true or false\)/],
    [{ count: 'many' }, /--input count: "many" is not a number/],
  ])('refuses the inputs %j before running anything', async (inputs, message) => {
    await expect(run('basics.yml', { event: 'workflow_dispatch', inputs })).rejects.toThrow(message);
  });

  it('refuses an event the workflow does not run on, and a bad SHA', async () => {
    await expect(run('failing.yml', { event: 'workflow_dispatch' })).rejects.toThrow(
      /--event workflow_dispatch: .*failing\.yml does not run on workflow_dispatch \(it runs on: push\)/,
    );
    await expect(run('failing.yml', { sha: 'main' })).rejects.toThrow(/--sha main: not a 40-digit/);
  });

  it('a failed step: later steps skipped, always() and failure() run, continue-on-error, job-level failure()', async () => {
    const r = await run('failing.yml');
    expect(r.conclusion).toBe('failure');
    expect(outcomes(r, 'build')).toEqual([
      'Run exit 3: failure/success',
      'Run echo "::error title=Broken::the build broke": failure/failure',
      'Skipped after the failure: skipped/skipped',
      'Cleanup: success/success',
      'On failure: success/success',
    ]);
    expect(lines(r, 'build')).toContain('soft=failure/success hard=failure status=failure');
    expect(job(r, 'build').steps[1]?.annotations[0]).toEqual({
      level: 'error',
      title: 'Broken',
      message: 'the build broke',
    });
    expect(r.jobs.map((j) => `${j.name}:${j.result}`)).toEqual([
      'build:failure',
      'notify:success',
      'deploy:skipped',
    ]);
    expect(lines(r, 'notify')).toEqual(['build failure']);
  });

  it('a local reusable workflow: typed inputs with defaults, secrets, outputs back to the caller', async () => {
    const r = await run('caller.yml', { secrets: { DEPLOY_TOKEN: 'tok-12345' } });
    expect(r.conclusion).toBe('success');
    expect(r.jobs.map((j) => `${j.name}:${j.result}`)).toEqual([
      'prepare:success',
      'call / work:success',
      'call:success',
      'after:success',
    ]);
    // The secret reaches the called workflow, masked in what the run shows.
    expect(lines(r, 'call / work')).toEqual(['deploying 3 to staging dry=true event=push token=***']);
    expect(lines(r, 'after')).toEqual(['called said staging-x3 (success)']);
  });

  it('a reusable workflow without its required secret fails the calling job, saying which', async () => {
    const r = await run('caller.yml');
    expect(job(r, 'call')).toMatchObject({
      result: 'failure',
      error: expect.stringMatching(/requires the secret token/),
    });
    expect(job(r, 'after').result).toBe('skipped');
  });

  it('an action without a stand-in fails its step with a clear error; stand-ins say what they do', async () => {
    const r = await run('unknown-action.yml');
    expect(r.conclusion).toBe('failure');
    const [unknown, after, setupNode] = job(r, 'lint').steps;
    expect(unknown?.error).toMatch(/uses: some-org\/some-action@v1 — pnpm workflow has no local stand-in/);
    expect(unknown?.error).toMatch(/act/);
    expect(after?.outcome).toBe('skipped');
    expect(setupNode?.outcome).toBe('success');
    expect(setupNode?.lines.join('\n')).toMatch(/stand-in: uses the runner's Node/);
  });

  it('every stand-in is documented in docs/workflow-runner.md', async () => {
    const doc = await readFile(join(root, 'docs', 'workflow-runner.md'), 'utf8');
    expect(Object.keys(STAND_INS).filter((uses) => !doc.includes(uses))).toEqual([]);
  });

  it('--assume-job takes a job as concluded without running it, and names an unknown one', async () => {
    const r = await run('failing.yml', { assumeJobs: { build: 'success' } });
    expect(r.jobs.map((j) => `${j.name}:${j.result}`)).toEqual([
      'build:success',
      'notify:skipped',
      'deploy:success',
    ]);
    expect(job(r, 'build').steps[0]?.annotations[0]?.message).toMatch(/not run, taken as success/);
    await expect(run('failing.yml', { assumeJobs: { nope: 'success' } })).rejects.toThrow(
      /--assume-job nope: .* has no job "nope" \(it has: build, notify, deploy\)/,
    );
  });

  it('a matrix runs one job per combination, with matrix and strategy contexts', async () => {
    const r = await run('matrix.yml');
    expect(r.jobs.map((j) => j.name)).toEqual(['Build development on linux', 'Build production on linux']);
    expect(r.jobs.flatMap((j) => j.steps.flatMap((s) => s.lines))).toEqual([
      'target=development extra= total=2',
      'target=production extra=slim total=2',
    ]);
  });

  it('a file GitHub would reject is refused with the parser’s reasons', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'workflow-bad-'));
    try {
      const file = join(dir, 'bad.yml');
      await writeFile(file, 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n');
      await expect(loadWorkflow(file, dir)).rejects.toThrow(WorkflowFileError);
      await expect(loadWorkflow(file, dir)).rejects.toThrow(/bad\.yml is not a valid workflow:[\s\S]*stepz/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the report has every step with its outcome and every job summary', async () => {
    const r = await run('basics.yml', { sha: 'b'.repeat(40) });
    const report = workflowReport([r]);
    expect(report).toMatch(/\| first \| Loud only \| ⏭️ skipped \|/);
    expect(report).toContain(`### made ${'b'.repeat(40)}`);
    expect(await readFile(join(fixtures, 'basics.yml'), 'utf8')).toContain('GITHUB_STEP_SUMMARY');
  });
});

describe("the machine's network settings reach run: steps, nothing else of the caller's environment", () => {
  it('keeps proxies, CA files and package index settings, and drops everything else', () => {
    const kept = machineNetworkEnv({
      https_proxy: 'http://proxy:3128',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/extra.pem',
      PIP_FIND_LINKS: '/opt/wheels',
      npm_config_cafile: '/etc/ssl/ca.pem',
      AWS_SECRET_ACCESS_KEY: 'not-for-steps',
      GITHUB_TOKEN: 'not-for-steps',
      npm_config_userconfig: '/root/.npmrc',
      DOCKER_HOST: 'unix:///tmp/docker.sock',
    });
    expect(kept).toEqual({
      https_proxy: 'http://proxy:3128',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/extra.pem',
      PIP_FIND_LINKS: '/opt/wheels',
      npm_config_cafile: '/etc/ssl/ca.pem',
      DOCKER_HOST: 'unix:///tmp/docker.sock',
    });
  });
});
