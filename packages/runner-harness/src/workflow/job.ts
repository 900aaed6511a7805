/**
 * One job's steps, as the runner runs them: each `if:` with the status functions, `run:` in bash, our
 * actions from their built dists through runStep (their post steps at the end of the job, in reverse
 * order), third-party actions through their stand-ins; GITHUB_ENV / GITHUB_PATH carried to later steps,
 * `steps.<id>.outputs/outcome/conclusion`, the job's outputs evaluated at the end.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBasicExpression, isBoolean, isString } from '@actions/workflow-parser';
import type { Job, Step } from '@actions/workflow-parser/model/workflow-template';
import { readManifest, runStep } from '../run-step.js';
import type { Annotation } from '../workflow-commands.js';
import {
  asText,
  evaluateCondition,
  evaluateMapping,
  evaluateToken,
  type Contexts,
  type Status,
  type Value,
} from './expressions.js';
import { rawStep, tokenAt, type LoadedWorkflow } from './load.js';
import { maskSecrets } from '../masks.js';
import { CommandReader, runScript } from './shell.js';
import { JobServices, readServices } from './services.js';
import { findStandIn, NoStandInError } from './stand-ins.js';
import { failRecord } from './step-record.js';
import type { JobRecord, Result, StepRecord, WorkflowRunOptions } from './types.js';

export interface JobScope {
  options: WorkflowRunOptions;
  workflow: LoadedWorkflow;
  /** The job's key in the workflow file. */
  jobId: string;
  display: string;
  /** github, vars, secrets, inputs, needs, matrix, strategy. */
  contexts: Contexts;
  /** Workflow `env:` and the job's `env:`, evaluated. */
  env: Record<string, string>;
  workspace: string;
  temp: string;
  /** Values masked wherever the run shows text (the secrets; steps add theirs with add-mask). */
  masks: string[];
  t0: number;
}

/** `org/planner-deploy/actions/<name>@ref` (any owner) or `./actions/<name>` → <name>. */
export function ourActionName(uses: string): string | undefined {
  return (
    /^[\w.-]+\/planner-deploy\/actions\/([a-z0-9-]+)@[\w./-]+$/.exec(uses)?.[1] ??
    /^\.\/actions\/([a-z0-9-]+)\/?$/.exec(uses)?.[1]
  );
}

interface StepContext {
  outputs: Record<string, string>;
  outcome: Result;
  conclusion: Result;
}

interface PendingPost {
  name: string;
  action: string;
  inputs: Record<string, string>;
  env: Record<string, string>;
  state: Record<string, string>;
  exported: Record<string, string>;
}

const now = (t0: number): number => (performance.now() - t0) / 1000;

/**
 * Runs a (non-reusable) job: its services started before its first step and removed after its last (post
 * steps included) — and, should anything in between throw, here on the way out.
 */
export async function runJob(scope: JobScope, job: Job): Promise<JobRecord> {
  const services = jobServices(scope);
  try {
    return await runSteps(scope, job, services);
  } finally {
    if (services instanceof JobServices) await services.stop();
  }
}

/** The job's services, or the record saying why its `services:` cannot be read. */
function jobServices(scope: JobScope): JobServices | StepRecord {
  try {
    return new JobServices(
      {
        jobDisplay: scope.display,
        env: { ...machineNetworkEnv(), PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        masks: scope.masks,
        now: () => now(scope.t0),
        onRecord: (r) => scope.options.onEvent?.({ type: 'step-end', step: r }),
      },
      readServices(tokenAt(scope.workflow.root, 'jobs', scope.jobId), scope.contexts),
    );
  } catch (e) {
    // A mistake in `services:` (ServiceDefinitionError), or an expression in it that cannot be evaluated.
    const record = baseRecord(scope, 'Start services', 'service', 'stand-in', now(scope.t0));
    failRecord(record, maskSecrets((e as Error).message, scope.masks));
    return record;
  }
}

async function runSteps(scope: JobScope, job: Job, services: JobServices | StepRecord): Promise<JobRecord> {
  const { options } = scope;
  const startedAt = now(scope.t0);
  options.onEvent?.({ type: 'job-start', job: scope.display, at: startedAt });
  await mkdir(scope.workspace, { recursive: true });
  const records: StepRecord[] = [];
  const steps: Record<string, StepContext> = {};
  const jobEnv: Record<string, string> = { ...scope.env };
  const pathAdds: string[] = [];
  const posts: PendingPost[] = [];
  let failed = false;

  for (const note of unsupportedJobKeys(scope)) records.push(noteRecord(scope, note));
  if (services instanceof JobServices) {
    if (!(await services.start())) failed = true;
    records.push(...services.records);
  } else {
    options.onEvent?.({ type: 'step-end', step: services });
    records.push(services);
    failed = true;
  }
  // A service that did not start fails the job before its steps, as on GitHub.
  const servicesFailed = failed;

  const github = scope.contexts['github'] as Record<string, Value>;
  const runner = {
    os: 'Linux',
    arch: 'X64',
    name: 'pnpm-workflow',
    temp: join(scope.temp, 'runner-temp'),
    tool_cache: join(scope.temp, 'tool-cache'),
    environment: 'self-hosted',
  };
  await mkdir(runner.temp, { recursive: true });
  const processEnv = (stepEnv: Record<string, string>): Record<string, string> => ({
    ...machineNetworkEnv(),
    PATH: [...[...pathAdds].reverse(), process.env['PATH'] ?? '/usr/bin:/bin'].join(':'),
    HOME: process.env['HOME'] ?? scope.temp,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: scope.workspace,
    GITHUB_EVENT_NAME: asText(github['event_name'] ?? null),
    GITHUB_EVENT_PATH: asText(github['event_path'] ?? null),
    GITHUB_SHA: asText(github['sha'] ?? null),
    GITHUB_REF: asText(github['ref'] ?? null),
    GITHUB_REF_NAME: asText(github['ref_name'] ?? null),
    GITHUB_REF_TYPE: asText(github['ref_type'] ?? null),
    GITHUB_REPOSITORY: asText(github['repository'] ?? null),
    GITHUB_REPOSITORY_OWNER: asText(github['repository_owner'] ?? null),
    GITHUB_RUN_ID: asText(github['run_id'] ?? null),
    GITHUB_RUN_NUMBER: asText(github['run_number'] ?? null),
    GITHUB_RUN_ATTEMPT: asText(github['run_attempt'] ?? null),
    GITHUB_ACTOR: asText(github['actor'] ?? null),
    GITHUB_WORKFLOW: asText(github['workflow'] ?? null),
    GITHUB_JOB: scope.jobId,
    GITHUB_SERVER_URL: asText(github['server_url'] ?? null),
    GITHUB_API_URL: asText(github['api_url'] ?? null),
    RUNNER_OS: runner.os,
    RUNNER_ARCH: runner.arch,
    RUNNER_NAME: runner.name,
    RUNNER_TEMP: runner.temp,
    RUNNER_TOOL_CACHE: runner.tool_cache,
    ...options.runnerEnv,
    ...stepEnv,
  });

  for (const [index, step] of job.steps.entries()) {
    const raw = rawStep(scope.workflow, scope.jobId, index);
    const status: Status = { success: !failed, failure: failed, cancelled: false };
    const contexts: Contexts = {
      ...scope.contexts,
      env: jobEnv,
      steps: steps as unknown as Value,
      job: {
        status: failed ? 'failure' : 'success',
        container: {},
        services: (services instanceof JobServices ? services.context : {}) as unknown as Value,
      },
      runner,
    };
    const record = await runOneStep(scope, step, raw, contexts, status, {
      processEnv,
      jobEnv,
      index,
      posts,
      skip: servicesFailed,
    });
    records.push(record);
    if (step.id)
      steps[step.id] = { outputs: record.outputs, outcome: record.outcome, conclusion: record.conclusion };
    if (record.conclusion === 'failure') failed = true;
    for (const [k, v] of Object.entries(record.exportedEnv ?? {})) jobEnv[k] = v;
    pathAdds.push(...(record.exportedPath ?? []));
    delete record.exportedEnv;
    delete record.exportedPath;
    options.onEvent?.({ type: 'step-end', step: record });
  }

  // Post steps: the reverse order of their main steps, `post-if: always()` (the runner's default).
  for (const post of posts.reverse()) {
    const started = now(scope.t0);
    options.onEvent?.({ type: 'step-start', job: scope.display, name: post.name, at: started });
    const record = baseRecord(scope, post.name, `post-${post.action}`, 'post', started);
    record.uses = `actions/${post.action}`;
    try {
      const result = await runStep({
        action: join(options.repoRoot, 'actions', post.action),
        inputs: post.inputs,
        env: { ...post.env, ...post.exported },
        github: githubForActions(scope, contexts0(scope)),
        workspace: scope.workspace,
        postOf: { state: post.state, env: post.exported },
        limitMs: options.stepLimitMs ?? 600_000,
      });
      fill(record, scope, result.exitCode === 0, result);
    } catch (e) {
      failRecord(record, (e as Error).message);
    }
    record.seconds = now(scope.t0) - started;
    if (record.conclusion === 'failure') failed = true;
    records.push(record);
    options.onEvent?.({ type: 'step-end', step: record });
  }

  if (services instanceof JobServices) {
    const stopped = await services.stop();
    records.push(...stopped);
    if (stopped.some((r) => r.outcome === 'failure')) failed = true;
  }

  let outputs: Record<string, string> = {};
  let error: string | undefined;
  try {
    outputs = evaluateMapping(job.outputs, {
      ...contexts0(scope),
      env: jobEnv,
      steps: steps as unknown as Value,
    });
  } catch (e) {
    error = `outputs: ${(e as Error).message}`;
    failed = true;
  }
  const record: JobRecord = {
    id: scope.jobId,
    name: scope.display,
    result: failed ? 'failure' : 'success',
    outputs,
    steps: records,
    startedAt,
    seconds: now(scope.t0) - startedAt,
    ...(error ? { error } : {}),
  };
  options.onEvent?.({ type: 'job-end', job: record });
  return record;
}

const contexts0 = (scope: JobScope): Contexts => scope.contexts;

function githubForActions(scope: JobScope, contexts: Contexts): Record<string, string> {
  const github = contexts['github'] as Record<string, Value>;
  return {
    token: asText(github['token'] ?? null),
    sha: asText(github['sha'] ?? null),
    ref: asText(github['ref'] ?? null),
    repository: asText(github['repository'] ?? null),
  };
}

type Record2 = StepRecord & { exportedEnv?: Record<string, string>; exportedPath?: string[] };

function baseRecord(
  scope: JobScope,
  name: string,
  id: string,
  kind: StepRecord['kind'],
  at: number,
): Record2 {
  return {
    job: scope.display,
    id,
    name,
    kind,
    outcome: 'success',
    conclusion: 'success',
    startedAt: at,
    seconds: 0,
    outputs: {},
    summary: '',
    annotations: [],
    lines: [],
  };
}

function fill(
  record: Record2,
  scope: JobScope,
  ok: boolean,
  result: {
    outputs: Record<string, string>;
    summary: string;
    annotations: Annotation[];
    lines: string[];
    masks: string[];
    env?: Record<string, string>;
  },
): void {
  for (const m of result.masks) if (!scope.masks.includes(m)) scope.masks.push(m);
  const reader = new CommandReader(scope.masks);
  record.outputs = result.outputs;
  record.summary = reader.mask(result.summary);
  record.annotations.push(
    ...result.annotations.map((a) => ({
      ...a,
      message: reader.mask(a.message),
      ...(a.title ? { title: reader.mask(a.title) } : {}),
    })),
  );
  record.lines.push(...result.lines.map((l) => reader.mask(l)));
  if (!ok) {
    record.outcome = 'failure';
    record.conclusion = 'failure';
  }
}

function noteRecord(scope: JobScope, note: string): StepRecord {
  const record = baseRecord(scope, note, 'note', 'stand-in', now(scope.t0));
  record.outcome = 'skipped';
  record.conclusion = 'skipped';
  record.annotations.push({ level: 'notice', message: note });
  scope.options.onEvent?.({ type: 'step-end', step: record });
  return record;
}

/**
 * `run:` steps find the tool stand-ins (tool-stand-ins/bin, docs/workflow-runner.md) first on their PATH. Each
 * shim runs the machine's real tool when it has one that can do the job, and otherwise runs its stated stand-in
 * with a warning annotation saying so — never silently. Our actions get the plain PATH.
 */
export const TOOL_STAND_INS_BIN = fileURLToPath(new URL('../../tool-stand-ins/bin', import.meta.url));

function withToolStandIns(env: Record<string, string>): Record<string, string> {
  return { ...env, PATH: `${TOOL_STAND_INS_BIN}:${env['PATH'] ?? ''}` };
}

/** `container:` (the job container) is not run: said, not silently dropped. (`services:`: services.ts.) */
function unsupportedJobKeys(scope: JobScope): string[] {
  const job = tokenAt(scope.workflow.root, 'jobs', scope.jobId);
  const notes: string[] = [];
  if (tokenAt(job, 'container'))
    notes.push('container: the steps run on this machine, not in the job container (act runs it)');
  return notes;
}

interface StepHelpers {
  processEnv: (stepEnv: Record<string, string>) => Record<string, string>;
  jobEnv: Record<string, string>;
  index: number;
  posts: PendingPost[];
  /** The job's services did not start: the step is skipped, whatever its `if:`. */
  skip?: boolean;
}

async function runOneStep(
  scope: JobScope,
  step: Step,
  raw: ReturnType<typeof rawStep>,
  contexts: Contexts,
  status: Status,
  helpers: StepHelpers,
): Promise<Record2> {
  const { options } = scope;
  const started = now(scope.t0);
  const uses = 'uses' in step ? step.uses.value : undefined;
  const run = 'run' in step ? step.run : undefined;
  let name: string;
  try {
    name = step.name
      ? asText(evaluateToken(step.name, contexts, status))
      : uses
        ? uses.replace(/@[0-9a-f]{40}$/, '')
        : `Run ${(run && isString(run) ? run.value : run && isBasicExpression(run) ? (run.source ?? '') : '').trim().split('\n')[0] ?? ''}`;
  } catch {
    name = step.id;
  }
  const kind: StepRecord['kind'] = run ? 'run' : uses && ourActionName(uses) ? 'action' : 'stand-in';
  const record = baseRecord(scope, name, step.id, kind, started);
  if (uses) record.uses = uses;
  const reader = new CommandReader(scope.masks, (line) =>
    options.onEvent?.({ type: 'step-line', job: scope.display, name, line }),
  );

  if (helpers.skip) {
    record.outcome = 'skipped';
    record.conclusion = 'skipped';
    return record;
  }
  const condition = 'if' in step && step.if ? step.if.expression : 'success()';
  let go: boolean;
  try {
    go = evaluateCondition(condition, contexts, status);
  } catch (e) {
    failRecord(record, `if: ${(e as Error).message}`);
    return record;
  }
  if (!go) {
    record.outcome = 'skipped';
    record.conclusion = 'skipped';
    return record;
  }
  options.onEvent?.({ type: 'step-start', job: scope.display, name, at: started });

  try {
    const stepEnv = {
      ...helpers.jobEnv,
      ...evaluateMapping('env' in step ? step.env : undefined, contexts, status),
    };
    const envContexts = { ...contexts, env: stepEnv };
    const limitMs = options.stepLimitMs ?? 600_000;
    if (run) {
      const script = asText(evaluateToken(run, envContexts, status));
      const jobToken = tokenAt(scope.workflow.root, 'jobs', scope.jobId);
      const setting = (key: string): string | undefined => {
        const token =
          tokenAt(raw, key) ??
          tokenAt(jobToken, 'defaults', 'run', key) ??
          tokenAt(scope.workflow.root, 'defaults', 'run', key);
        return token === undefined ? undefined : asText(evaluateToken(token, envContexts, status));
      };
      const cwd = resolve(scope.workspace, setting('working-directory') ?? '.');
      const shell = setting('shell');
      const result = await runScript({
        script,
        ...(shell !== undefined ? { shell } : {}),
        cwd,
        env: withToolStandIns(helpers.processEnv(stepEnv)),
        temp: scope.temp,
        reader,
        limitMs,
      });
      record.lines = reader.lines;
      record.annotations.push(...reader.annotations);
      record.outputs = result.outputs;
      record.summary = reader.mask(result.summary);
      record.exportedEnv = result.env;
      record.exportedPath = result.path;
      if (result.exitCode !== 0) {
        record.outcome = 'failure';
        record.conclusion = 'failure';
        record.annotations.push({
          level: 'error',
          message: `Process completed with exit code ${result.exitCode}.`,
        });
      }
    } else if (uses) {
      const inputs = evaluateMapping(tokenAt(raw, 'with'), envContexts, status);
      const action = ourActionName(uses);
      if (action) {
        const actionDir = join(options.repoRoot, 'actions', action);
        const manifest = await readManifest(actionDir).catch(() => {
          throw new Error(
            `uses: ${uses} — there is no action "${action}" in ${join(options.repoRoot, 'actions')}`,
          );
        });
        const env = helpers.processEnv(stepEnv);
        const result = await runStep({
          action: actionDir,
          inputs,
          env,
          github: githubForActions(scope, contexts),
          workspace: scope.workspace,
          post: false,
          limitMs,
        });
        fill(record, scope, result.exitCode === 0, result);
        for (const a of record.annotations)
          reader.line(`::${a.level}::${a.title ? `${a.title}: ` : ''}${a.message.split('\n')[0]}`);
        record.exportedEnv = result.env;
        if (manifest.runs.post)
          helpers.posts.push({
            name: `Post ${name}`,
            action,
            inputs,
            env,
            state: result.state,
            exported: result.env,
          });
      } else {
        const standIn = findStandIn(uses);
        if (!standIn) throw new NoStandInError(uses);
        const github = contexts['github'] as Record<string, Value>;
        const result = await standIn.run({
          inputs,
          workspace: scope.workspace,
          github: {
            sha: asText(github['sha'] ?? null),
            ref: asText(github['ref'] ?? null),
            refName: asText(github['ref_name'] ?? null),
            repository: asText(github['repository'] ?? null),
          },
          fixture: options.fixture,
          awsEnv: options.awsEnv,
          awsAccountId: options.awsAccountId,
          artifactsDir: join(options.workDir, 'artifacts'),
          ...(options.prepareCommit ? { prepareCommit: options.prepareCommit } : {}),
          log: (line) => reader.line(line),
          annotate: (a) => {
            record.annotations.push(a);
            reader.line(`${a.level}: ${a.title ? `${a.title}: ` : ''}${a.message}`);
          },
        });
        record.lines = reader.lines;
        record.outputs = result.outputs ?? {};
        record.exportedEnv = result.env ?? {};
        record.exportedPath = result.path ?? [];
        for (const [k, v] of Object.entries(result.env ?? {}))
          if (/SECRET|TOKEN/.test(k) && !scope.masks.includes(v)) scope.masks.push(v);
      }
    }
  } catch (e) {
    record.lines = reader.lines;
    failRecord(record, reader.mask((e as Error).message));
  }

  if (record.outcome === 'failure' && continueOnError(step, contexts, status)) record.conclusion = 'success';
  record.seconds = now(scope.t0) - started;
  return record;
}

function continueOnError(step: Step, contexts: Contexts, status: Status): boolean {
  const value = step['continue-on-error'];
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (isBoolean(value)) return value.value;
  try {
    return asText(evaluateToken(value, contexts, status)) === 'true';
  } catch {
    return false;
  }
}

/**
 * The machine's network and Docker settings (proxies, extra CA certificates, package index locations, the
 * Docker engine's address), passed to every step as a self-hosted runner passes the settings of its own
 * environment (its `.env` file): without them a `run:` step's `npm ci` or `pip install` fails here on the
 * machine's TLS interception or finds no index, and build-push finds no Docker engine where the machine
 * has one on a private socket. Nothing else of the caller's environment reaches a step.
 */
export function machineNetworkEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const kept: Record<string, string> = {};
  const pattern =
    /^(?:https?_proxy|no_proxy|all_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|PIP_[A-Z_]+|npm_config_(?:registry|cafile|ca|strict_ssl|proxy|https_proxy|noproxy)|DOCKER_HOST|DOCKER_CONTEXT|DOCKER_TLS_VERIFY|DOCKER_CERT_PATH)$/i;
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && pattern.test(name)) kept[name] = value;
  }
  return kept;
}
