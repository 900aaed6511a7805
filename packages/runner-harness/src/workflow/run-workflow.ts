/**
 * `pnpm workflow`'s engine: a workflow file's jobs run as written, in `needs` order, each `if:` through
 * GitHub's expression engine, `workflow_dispatch` inputs checked against their declarations, reusable
 * workflows (`uses: ./.github/workflows/x.yml`, `<owner>/planner-deploy/.github/workflows/x.yml@ref`)
 * called with their inputs, secrets and outputs.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Job, ReusableWorkflowJob, WorkflowJob } from '@actions/workflow-parser/model/workflow-template';
import {
  asText,
  evaluateCondition,
  evaluateMapping,
  evaluateToken,
  type Contexts,
  type Value,
} from './expressions.js';
import {
  deepMerge,
  eventPayload,
  expandMatrix,
  fullRef,
  resolveInputs,
  WorkflowUsageError,
} from './inputs.js';
import { runJob, type JobScope } from './job.js';
import { loadWorkflow, tokenAt, type LoadedWorkflow } from './load.js';
import type { JobRecord, Result, RunRecord, WorkflowRunOptions } from './types.js';

interface Run {
  options: WorkflowRunOptions;
  t0: number;
  github: Record<string, Value>;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  masks: string[];
  temp: string;
}

/** Runs a workflow file; resolves with what happened (it does not throw for a failed job). */
export async function runWorkflow(options: WorkflowRunOptions): Promise<RunRecord> {
  const t0 = performance.now();
  const workflow = await loadWorkflow(resolve(options.file), options.repoRoot);
  const events = workflow.template.events;
  const declared = Object.keys(events);
  const event = options.event ?? (declared.includes('push') ? 'push' : (declared[0] ?? 'push'));
  for (const id of Object.keys(options.assumeJobs ?? {}))
    if (!workflow.template.jobs.some((j) => j.id.value === id))
      throw new WorkflowUsageError(
        `--assume-job ${id}: ${workflow.file} has no job "${id}" (it has: ${workflow.template.jobs.map((j) => j.id.value).join(', ')})`,
      );
  if (!declared.includes(event))
    throw new WorkflowUsageError(
      `--event ${event}: ${workflow.file} does not run on ${event} (it runs on: ${declared.join(', ')})`,
    );
  if (event !== 'workflow_dispatch' && Object.keys(options.inputs ?? {}).length > 0)
    throw new WorkflowUsageError(`--input is for --event workflow_dispatch (this run is ${event})`);
  const inputs =
    event === 'workflow_dispatch'
      ? resolveInputs(
          events.workflow_dispatch?.inputs,
          options.inputs ?? {},
          '--input',
          workflow.file,
          {},
          tokenAt(workflow.root, 'on', 'workflow_dispatch', 'inputs'),
        )
      : {};
  const ref = fullRef(options.ref ?? 'main');
  const sha = options.sha ?? createHash('sha1').update(`planner-app:${ref}`).digest('hex');
  if (!/^[0-9a-f]{40}$/.test(sha))
    throw new WorkflowUsageError(`--sha ${sha}: not a 40-digit hexadecimal commit SHA`);
  const repository = options.repository ?? 'example-org/planner-app';
  await mkdir(options.workDir, { recursive: true });
  const temp = await mkdtemp(join(options.workDir, 'run-'));
  const eventPath = join(temp, 'event.json');
  const secrets = { ...options.secrets };
  const runId = String(8_000_000_000 + Math.floor(Math.random() * 1e8));
  const github: Record<string, Value> = {
    event_name: event,
    sha,
    ref,
    ref_name: ref.replace(/^refs\/(heads|tags)\//, ''),
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    ref_protected: false,
    repository,
    repository_owner: repository.split('/')[0] ?? '',
    repositoryUrl: `git://github.com/${repository}.git`,
    run_id: runId,
    run_number: '1',
    run_attempt: '1',
    actor: options.actor ?? 'octocat',
    triggering_actor: options.actor ?? 'octocat',
    workflow: workflow.name,
    workflow_ref: `${repository}/${workflow.file}@${ref}`,
    server_url: 'https://github.com',
    api_url: options.runnerEnv?.['GITHUB_API_URL'] ?? 'https://api.github.com',
    graphql_url: 'https://api.github.com/graphql',
    token: secrets['GITHUB_TOKEN'] ?? '',
    event_path: eventPath,
    head_ref: '',
    base_ref: '',
    action: '',
    retention_days: '90',
  };
  github['event'] = deepMerge(eventPayload(event, github, inputs), options.eventPayload ?? {});
  await writeFile(eventPath, JSON.stringify(github['event'], null, 2));
  const run: Run = {
    options,
    t0,
    github,
    vars: { ...options.vars },
    secrets,
    masks: [],
    temp,
  };
  const jobs = await runJobs(run, workflow, { inputs, secrets, prefix: '' });
  return {
    workflow: workflow.file,
    event,
    ref,
    sha,
    conclusion:
      jobs.every((j) => j.result === 'success' || j.result === 'skipped') &&
      jobs.some((j) => j.result === 'success')
        ? 'success'
        : 'failure',
    jobs,
    seconds: (performance.now() - t0) / 1000,
  };
}

interface Call {
  inputs: Record<string, Value>;
  secrets: Record<string, string>;
  /** `caller / ` inside a reusable workflow. */
  prefix: string;
}

/** The jobs of one workflow in `needs` order; returns every job's record (reusable calls flattened). */
async function runJobs(run: Run, workflow: LoadedWorkflow, call: Call): Promise<JobRecord[]> {
  const results = new Map<string, { result: Result; outputs: Record<string, string> }>();
  const records: JobRecord[] = [];
  const pending = [...workflow.template.jobs];
  while (pending.length > 0) {
    const index = pending.findIndex((j) => (j.needs ?? []).every((n) => results.has(n.value)));
    if (index < 0) throw new WorkflowUsageError(`${workflow.file}: the jobs' needs form a cycle`);
    const job = pending.splice(index, 1)[0] as WorkflowJob;
    const jobRecords = await runWorkflowJob(run, workflow, call, job, results);
    const own = jobRecords.filter((r) => r.id === job.id.value);
    const result: Result = own.some((r) => r.result === 'failure')
      ? 'failure'
      : own.every((r) => r.result === 'skipped')
        ? 'skipped'
        : 'success';
    results.set(job.id.value, {
      result,
      outputs: Object.assign({}, ...own.map((r) => r.outputs)) as Record<string, string>,
    });
    records.push(...jobRecords);
  }
  return records;
}

async function runWorkflowJob(
  run: Run,
  workflow: LoadedWorkflow,
  call: Call,
  job: WorkflowJob,
  results: Map<string, { result: Result; outputs: Record<string, string> }>,
): Promise<JobRecord[]> {
  const id = job.id.value;
  const needs: Record<string, Value> = {};
  for (const n of job.needs ?? []) needs[n.value] = results.get(n.value) as unknown as Value;
  const needResults = (job.needs ?? []).map((n) => results.get(n.value)?.result);
  const base: Contexts = {
    github: { ...run.github, job: id },
    needs,
    vars: run.vars,
    inputs: call.inputs,
  };
  const display = (name: string): string => `${call.prefix}${name}`;
  const failedRecord = (name: string, error: string, result: Result = 'failure'): JobRecord =>
    jobEndedBeforeSteps(run, id, display(name), error, result);

  const assumed = call.prefix === '' ? run.options.assumeJobs?.[id] : undefined;
  if (assumed) {
    const at = (performance.now() - run.t0) / 1000;
    const message = `stand-in: job ${id} not run, taken as ${assumed} (--assume-job ${id}=${assumed})`;
    const record: JobRecord = {
      id,
      name: display(assumedName(job, base)),
      result: assumed,
      outputs: {},
      steps: [
        {
          job: display(id),
          id: 'assumed',
          name: `Assumed ${assumed}`,
          kind: 'stand-in',
          outcome: assumed,
          conclusion: assumed,
          startedAt: at,
          seconds: 0,
          outputs: {},
          summary: '',
          annotations: [{ level: 'warning', message }],
          lines: [message],
        },
      ],
      startedAt: at,
      seconds: 0,
    };
    run.options.onEvent?.({ type: 'step-end', step: record.steps[0]! });
    run.options.onEvent?.({ type: 'job-end', job: record });
    return [record];
  }
  let go: boolean;
  try {
    go = evaluateCondition(job.if.expression, base, {
      success: needResults.every((r) => r === 'success'),
      failure: needResults.some((r) => r === 'failure'),
      cancelled: false,
    });
  } catch (e) {
    return [failedRecord(id, `if: ${(e as Error).message}`)];
  }
  let matrices: Array<Record<string, Value> | undefined>;
  try {
    matrices = expandMatrix(job.strategy ? evaluateToken(job.strategy, base) : null);
  } catch (e) {
    return [failedRecord(id, `strategy: ${(e as Error).message}`)];
  }
  const records: JobRecord[] = [];
  for (const matrix of matrices) {
    const contexts: Contexts = {
      ...base,
      matrix: matrix ?? {},
      strategy: { 'fail-fast': true, 'job-total': matrices.length },
    };
    let name = id;
    try {
      if (job.name) name = asText(evaluateToken(job.name, contexts));
      else if (matrix) name = `${id} (${Object.values(matrix).map(asText).join(', ')})`;
    } catch {
      name = id;
    }
    if (!go) {
      const skipped = failedRecord(name, '', 'skipped');
      delete skipped.error;
      records.push(skipped);
      continue;
    }
    if (job.type === 'reusableWorkflowJob') {
      records.push(...(await runReusable(run, workflow, call, job, contexts, display(name))));
      continue;
    }
    records.push(await runPlainJob(run, workflow, call, job, contexts, display(name)));
  }
  return records;
}

async function runPlainJob(
  run: Run,
  workflow: LoadedWorkflow,
  call: Call,
  job: Job,
  contexts: Contexts,
  display: string,
): Promise<JobRecord> {
  const id = job.id.value;
  let secrets = call.secrets;
  let vars = run.vars;
  let env: Record<string, string>;
  try {
    // The deployment environment's secrets and variables win over the repository's.
    if (job.environment) {
      const value = evaluateToken(job.environment, contexts);
      const envName =
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? asText(value['name'] ?? '')
          : asText(value);
      const scoped = run.options.environments?.[envName];
      if (scoped) {
        secrets = { ...secrets, ...scoped.secrets };
        vars = { ...vars, ...scoped.vars };
      }
    }
    const withSecrets = { ...contexts, vars, secrets };
    const workflowEnv = evaluateMapping(workflow.template.env, withSecrets);
    env = { ...workflowEnv, ...evaluateMapping(job.env, { ...withSecrets, env: workflowEnv }) };
  } catch (e) {
    return jobEndedBeforeSteps(run, id, display, (e as Error).message);
  }
  for (const value of Object.values(secrets))
    if (value.length >= 3 && !run.masks.includes(value)) run.masks.push(value);
  const temp = await mkdtemp(join(run.temp, `${id}-`));
  const scope: JobScope = {
    options: run.options,
    workflow,
    jobId: id,
    display,
    contexts: {
      ...contexts,
      vars,
      secrets,
      github: { ...(contexts['github'] as Record<string, Value>), workspace: join(temp, 'workspace') },
    },
    env,
    workspace: join(temp, 'workspace'),
    temp,
    masks: run.masks,
    t0: run.t0,
  };
  return runJob(scope, job);
}

/**
 * Where a reusable workflow lives: `<owner>/planner-deploy/.github/workflows/x.yml@ref` is this checkout's;
 * `./.github/workflows/x.yml` is the caller's repository's (the folder holding its .github), else the
 * fixture app's, else the caller's own folder (examples/workflows keeps the app's workflows flat).
 */
export function reusableWorkflowPath(
  uses: string,
  callerFile: string,
  options: Pick<WorkflowRunOptions, 'repoRoot' | 'fixture'>,
): string {
  const ours = /^[\w.-]+\/planner-deploy\/(\.github\/workflows\/[\w.-]+\.ya?ml)@[\w./-]+$/.exec(uses);
  if (ours) return join(options.repoRoot, ours[1] as string);
  if (!uses.startsWith('./'))
    throw new WorkflowUsageError(
      `uses: ${uses} — only local reusable workflows and planner-deploy's own can run here (act runs others)`,
    );
  const relativePath = uses.slice(2);
  const callerDir = dirname(resolve(callerFile));
  const candidates: string[] = [];
  const marker = `${join('.github', 'workflows')}`;
  if (callerDir.endsWith(marker)) candidates.push(join(callerDir, '..', '..', relativePath));
  candidates.push(join(options.fixture, relativePath), join(callerDir, basename(relativePath)));
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new WorkflowUsageError(`uses: ${uses} — no such workflow (looked at ${candidates.join(', ')})`);
  return found;
}

async function runReusable(
  run: Run,
  caller: LoadedWorkflow,
  call: Call,
  job: ReusableWorkflowJob,
  contexts: Contexts,
  display: string,
): Promise<JobRecord[]> {
  const id = job.id.value;
  const fail = (error: string): JobRecord[] => [jobEndedBeforeSteps(run, id, display, error)];
  let callee: LoadedWorkflow;
  let inputs: Record<string, Value>;
  let secrets: Record<string, string>;
  try {
    const path = reusableWorkflowPath(job.ref.value, resolve(run.options.repoRoot, caller.file), run.options);
    callee = await loadWorkflow(path, run.options.repoRoot);
    const declared = callee.template.events.workflow_call;
    if (!declared) return fail(`uses: ${job.ref.value} — ${callee.file} has no "on: workflow_call"`);
    const given = job['input-values'] ? evaluateToken(job['input-values'], contexts) : {};
    inputs = resolveInputs(
      declared.inputs,
      given as Record<string, Value>,
      'with:',
      callee.file,
      { github: run.github, inputs: {}, vars: run.vars },
      tokenAt(callee.root, 'on', 'workflow_call', 'inputs'),
    );
    secrets = job['inherit-secrets']
      ? call.secrets
      : evaluateMapping(job['secret-values'], { ...contexts, secrets: call.secrets });
    for (const [name, def] of Object.entries(declared.secrets ?? {}))
      if (def.required && !secrets[name]) return fail(`secrets: ${callee.file} requires the secret ${name}`);
    secrets = { ...secrets, GITHUB_TOKEN: call.secrets['GITHUB_TOKEN'] ?? '' };
  } catch (e) {
    return fail((e as Error).message);
  }
  const started = (performance.now() - run.t0) / 1000;
  const records = await runJobs(run, callee, { inputs, secrets, prefix: `${display} / ` });
  const jobsContext: Record<string, Value> = {};
  for (const r of records) jobsContext[r.id] = { result: r.result, outputs: r.outputs };
  const outputs: Record<string, string> = {};
  let error: string | undefined;
  const declaredOutputs = tokenAt(callee.root, 'on', 'workflow_call', 'outputs');
  try {
    if (declaredOutputs) {
      const values = evaluateToken(declaredOutputs, {
        github: run.github,
        inputs,
        vars: run.vars,
        jobs: jobsContext,
      });
      for (const [name, spec] of Object.entries((values ?? {}) as Record<string, Value>))
        outputs[name] = asText((spec as Record<string, Value> | null)?.['value'] ?? '');
    }
  } catch (e) {
    error = `outputs of ${callee.file}: ${(e as Error).message}`;
  }
  const ok = records.every((r) => r.result === 'success' || r.result === 'skipped') && !error;
  // The calling job's own record carries the outcome and outputs; the called jobs' records keep the steps.
  return [
    ...records.map((r) => ({ ...r, id: `${id}/${r.id}` })),
    {
      id,
      name: display,
      result: ok ? 'success' : 'failure',
      outputs,
      steps: [],
      startedAt: started,
      seconds: (performance.now() - run.t0) / 1000 - started,
      ...(error ? { error } : {}),
    },
  ];
}

/** An assumed job's name: its `name:` when that needs no matrix, else its id. */

/** A job that ended before any step ran (a context it could not evaluate, a refused call, …), reported as ended. */
function jobEndedBeforeSteps(
  run: Run,
  id: string,
  name: string,
  error: string,
  result: Result = 'failure',
): JobRecord {
  const record: JobRecord = { id, name, result, outputs: {}, steps: [], startedAt: 0, seconds: 0, error };
  run.options.onEvent?.({ type: 'job-end', job: record });
  return record;
}
function assumedName(job: WorkflowJob, contexts: Contexts): string {
  try {
    return job.name ? asText(evaluateToken(job.name, contexts)) : job.id.value;
  } catch {
    return job.id.value;
  }
}
