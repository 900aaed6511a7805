import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseFileCommands } from './file-commands.js';
import { maskSecrets } from './masks.js';
import { CommandReader, type Annotation, type WorkflowCommand } from './workflow-commands.js';
import { collectSecrets, findLeaks, type KnownSecret } from './secret-scan.js';

/** When set, every run's visible output (and the secrets it knew) is appended to files in this folder. */
export const CAPTURE_DIR_ENV = 'PLANNER_DEPLOY_CAPTURE_DIR';
/** The sidecar file (in the capture folder) holding the secret values runs knew, one JSON per line. */
export const CAPTURED_SECRETS_FILE = 'secrets.jsonl';

/** The runner's cancel sequence: SIGINT, SIGTERM 7.5 s later, then the tree is killed 2.5 s after that. */
export const SIGTERM_AFTER_MS = 7500;
export const KILL_AFTER_MS = 2500;

interface ActionManifest {
  inputs?: Record<string, { default?: string; required?: boolean; description?: string }>;
  outputs?: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string; 'post-if'?: string };
}

export interface RunStepOptions {
  /** The action's folder (holding action.yml), absolute or relative to the repository root. */
  action: string;
  /** Inputs as a workflow's `with:` gives them; action.yml defaults fill the rest. */
  inputs?: Record<string, string>;
  /** Extra environment (the step's `env:`); the process otherwise gets a minimal runner environment. */
  env?: Record<string, string | undefined>;
  /** Values for `${{ github.* }}` expressions in action.yml defaults (e.g. token). */
  github?: Record<string, string>;
  /** Cancel the run: send SIGINT after this many ms, or when a log line matches. */
  cancel?: { afterMs?: number; whenLog?: RegExp };
  /** Run the post step (default: when action.yml has one). */
  post?: boolean;
  /**
   * Run only the post step, later, as the runner does at the end of a job: with the main step's saved
   * state (`STATE_*`) and the environment it exported. The result is the post step's, in `post` too.
   */
  postOf?: Pick<StepResult, 'state' | 'env'>;
  /** GITHUB_WORKSPACE (default: a new temp folder). */
  workspace?: string;
  /** A hard limit for the harness itself; the process is killed past it (default 120 s). */
  limitMs?: number;
  /** Node options before the entry file (tests run TypeScript fixtures through the repo's TS hooks). */
  nodeArgs?: string[];
  /** More secret values the run knows, by name (e.g. `{ 'ECR password': cloud.aws.ecr.password }`). */
  secrets?: Record<string, string>;
  /**
   * Return leaks in `leaks` instead of throwing (and keep the run out of $PLANNER_DEPLOY_CAPTURE_DIR).
   * Only for a test that proves the secret scan works: any other run that shows a secret fails.
   */
  allowLeaks?: boolean;
}

export interface StepResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The log as the runner shows it: masks applied from the moment they are registered, commands kept. */
  log: string;
  /** Log lines without workflow commands, masked. */
  lines: string[];
  outputs: Record<string, string>;
  state: Record<string, string>;
  env: Record<string, string>;
  summary: string;
  commands: WorkflowCommand[];
  annotations: Annotation[];
  masks: string[];
  /** True when the step ended with runner commands stopped (`::stop-commands::` never resumed). */
  commandsStoppedAtEnd: boolean;
  durationMs: number;
  /** When SIGINT was sent, and how long the process took to exit after it. */
  cancelledAtMs?: number;
  exitAfterCancelMs?: number;
}

export interface RunResult extends StepResult {
  post?: StepResult;
  /**
   * Secrets that showed in the log, summary, outputs or annotations of either phase, as
   * `<source> in the <place>` — names, never the values. Empty when none leaked.
   */
  leaks: string[];
}

/** Node options that run a TypeScript entry of this repository directly (for fixtures in tests). */
export function typeScriptNodeArgs(): string[] {
  return [
    '--import',
    join(repoRoot(), 'scripts/ts-register.mjs'),
    '--experimental-transform-types',
    '--no-warnings',
  ];
}

function repoRoot(): string {
  let dir = process.cwd();
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = resolve(dir, '..');
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** `INPUT_<NAME>`: upper case, spaces to underscores, hyphens kept — as actions/runner does. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

function evaluateDefault(value: string, github: Record<string, string>): string {
  return value.replace(/\$\{\{\s*github\.([A-Za-z_]+)\s*\}\}/g, (_, key: string) => github[key] ?? '');
}

export async function readManifest(actionDir: string): Promise<ActionManifest> {
  return parseYaml(await readFile(join(actionDir, 'action.yml'), 'utf8')) as ActionManifest;
}

/**
 * Runs a built action (`dist/index.js`) exactly as the GitHub runner does, then its post step, and returns
 * what a person reading the run would see: exit code, outputs, summary, log and annotations.
 */
export async function runStep(options: RunStepOptions): Promise<RunResult> {
  const actionDir = resolve(repoRoot(), options.action);
  const manifest = await readManifest(actionDir);
  const declared = manifest.inputs ?? {};
  for (const name of Object.keys(options.inputs ?? {})) {
    if (!(name in declared))
      throw new Error(`Input "${name}" is not declared in ${options.action}/action.yml`);
  }
  const github = { token: 'ghs_harnessTokenValue0000000000000000', ...options.github };
  const inputEnv: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const value =
      options.inputs?.[name] ??
      (spec.default !== undefined ? evaluateDefault(String(spec.default), github) : '');
    inputEnv[inputVariable(name)] = value;
  }

  const temp = await mkdtemp(join(tmpdir(), 'runner-'));
  const workspace = options.workspace ?? join(temp, 'workspace');
  await mkdir(workspace, { recursive: true });
  await mkdir(join(temp, 'runner-temp'), { recursive: true });
  const summaryFile = join(temp, 'step_summary.md');
  await writeFile(summaryFile, '');

  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? temp,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_ACTION_PATH: actionDir,
    GITHUB_REPOSITORY: 'example-org/planner-app',
    GITHUB_REPOSITORY_OWNER: 'example-org',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ID: '1234567890',
    GITHUB_RUN_NUMBER: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'cd-production',
    GITHUB_JOB: 'deploy',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: join(temp, 'runner-temp'),
    RUNNER_TOOL_CACHE: join(temp, 'tool-cache'),
    GITHUB_STEP_SUMMARY: summaryFile,
  };
  const extraEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env ?? {}))
    if (value !== undefined) extraEnv[key] = value;

  const resolvedInputs: Record<string, string> = {};
  for (const name of Object.keys(declared)) resolvedInputs[name] = inputEnv[inputVariable(name)] ?? '';
  const secrets = collectSecrets(extraEnv, resolvedInputs, options.secrets);

  if (options.postOf) {
    if (!manifest.runs.post) throw new Error(`${options.action}/action.yml has no post step`);
    const stateEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.postOf.state)) stateEnv[`STATE_${key}`] = value;
    const post = await runPhase({
      entry: join(actionDir, manifest.runs.post),
      env: { ...baseEnv, ...extraEnv, ...inputEnv, ...options.postOf.env, ...stateEnv },
      temp,
      phase: 'post',
      cancel: undefined,
      limitMs: options.limitMs ?? 120_000,
      nodeArgs: options.nodeArgs ?? [],
    });
    const result: RunResult = { ...post, post, leaks: findLeaks(secrets, post, 'post step ') };
    if (!options.allowLeaks && result.leaks.length === 0) await capture(options.action, result, secrets);
    if (result.leaks.length > 0 && !options.allowLeaks)
      throw new Error(`Secret leak in ${options.action} (post): ${result.leaks.join('; ')}.`);
    return result;
  }
  const main = await runPhase({
    entry: join(actionDir, manifest.runs.main),
    env: { ...baseEnv, ...extraEnv, ...inputEnv },
    temp,
    phase: 'main',
    cancel: options.cancel,
    limitMs: options.limitMs ?? 120_000,
    nodeArgs: options.nodeArgs ?? [],
  });
  const result: RunResult = { ...main, leaks: [] };
  const runPost = options.post ?? manifest.runs.post !== undefined;
  if (runPost && manifest.runs.post) {
    const stateEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries(main.state)) stateEnv[`STATE_${key}`] = value;
    result.post = await runPhase({
      entry: join(actionDir, manifest.runs.post),
      env: { ...baseEnv, ...extraEnv, ...inputEnv, ...main.env, ...stateEnv },
      temp,
      phase: 'post',
      cancel: undefined,
      limitMs: options.limitMs ?? 120_000,
      nodeArgs: options.nodeArgs ?? [],
    });
  }
  result.leaks = [
    ...findLeaks(secrets, result),
    ...(result.post ? findLeaks(secrets, result.post, 'post step ') : []),
  ];
  // Only clean runs are captured for the suite's final scan: a run allowed to leak (the scan's own tests)
  // would fail it, and a leak found here already fails its test by the throw below.
  if (!options.allowLeaks && result.leaks.length === 0) await capture(options.action, result, secrets);
  if (result.leaks.length > 0 && !options.allowLeaks) {
    throw new Error(
      `Secret leak in ${options.action}: ${result.leaks.join('; ')}. A secret must be masked before anything prints it, and never go into the job summary or an output.`,
    );
  }
  return result;
}

let captured = 0;

/** Appends what the run showed to $PLANNER_DEPLOY_CAPTURE_DIR (one log and one summary file per run). */
async function capture(action: string, result: RunResult, secrets: readonly KnownSecret[]): Promise<void> {
  const dir = process.env[CAPTURE_DIR_ENV];
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  captured++;
  const base = join(dir, `run-${process.pid}-${captured}-${action.replace(/[^A-Za-z0-9-]+/g, '_')}`);
  const visible = (phase: string, step: StepResult): string =>
    [
      `## ${action} (${phase}), exit ${step.exitCode ?? step.signal}`,
      step.log,
      ...step.annotations.map((a) => `[${a.level}] ${a.title ?? ''}: ${a.message}`),
      ...Object.entries(step.outputs).map(([k, v]) => `output ${k}=${v}`),
    ].join('\n');
  await writeFile(
    `${base}.log`,
    [visible('main', result), ...(result.post ? [visible('post', result.post)] : [])].join('\n') + '\n',
  );
  const summary = [result.summary, result.post?.summary ?? ''].join('');
  if (summary.trim() !== '') await writeFile(`${base}.summary.md`, summary);
  if (secrets.length > 0) {
    await appendFile(
      join(dir, CAPTURED_SECRETS_FILE),
      secrets.map((s) => JSON.stringify(s)).join('\n') + '\n',
      { mode: 0o600 },
    );
  }
}

interface PhaseOptions {
  entry: string;
  env: Record<string, string>;
  temp: string;
  phase: string;
  cancel: RunStepOptions['cancel'];
  limitMs: number;
  nodeArgs: string[];
}

async function runPhase(options: PhaseOptions): Promise<StepResult> {
  if (!existsSync(options.entry)) {
    throw new Error(`${options.entry} does not exist: build the actions first (pnpm build)`);
  }
  const files = {
    GITHUB_OUTPUT: join(options.temp, `${options.phase}_output`),
    GITHUB_STATE: join(options.temp, `${options.phase}_state`),
    GITHUB_ENV: join(options.temp, `${options.phase}_env`),
    GITHUB_PATH: join(options.temp, `${options.phase}_path`),
  };
  for (const file of Object.values(files)) await writeFile(file, '');

  const started = performance.now();
  const child = spawn(process.execPath, [...options.nodeArgs, options.entry], {
    env: { ...options.env, ...files },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const masks: string[] = [];
  const commands: WorkflowCommand[] = [];
  const annotations: Annotation[] = [];
  const logLines: string[] = [];
  const plainLines: string[] = [];
  let cancelledAt: number | undefined;
  const timers: NodeJS.Timeout[] = [];

  const cancel = (): void => {
    if (cancelledAt !== undefined || child.exitCode !== null) return;
    cancelledAt = performance.now();
    child.kill('SIGINT');
    timers.push(setTimeout(() => child.kill('SIGTERM'), SIGTERM_AFTER_MS));
    timers.push(setTimeout(() => child.kill('SIGKILL'), SIGTERM_AFTER_MS + KILL_AFTER_MS));
  };
  if (options.cancel?.afterMs !== undefined) timers.push(setTimeout(cancel, options.cancel.afterMs));
  timers.push(setTimeout(() => child.kill('SIGKILL'), options.limitMs));

  const applyMasks = (line: string): string => maskSecrets(line, masks);
  // One reader for both streams: the runner keeps one stop-commands state for the step.
  const reader = new CommandReader();
  const onLine = (line: string): void => {
    const command = reader.read(line);
    if (command) {
      commands.push(command);
      if (command.command === 'add-mask') {
        for (const value of [command.message, ...command.message.split(/\r?\n/)]) {
          if (value.trim() !== '' && !masks.includes(value)) masks.push(value);
        }
        logLines.push('::add-mask::***');
        return;
      }
      if (command.command === 'error' || command.command === 'warning' || command.command === 'notice') {
        annotations.push({
          level: command.command,
          message: applyMasks(command.message),
          ...(command.properties.title !== undefined ? { title: applyMasks(command.properties.title) } : {}),
        });
      }
      const masked = applyMasks(line);
      logLines.push(masked);
      if (
        !['group', 'endgroup', 'stop-commands'].includes(command.command) &&
        !reader.stopped &&
        command.message !== ''
      )
        plainLines.push(applyMasks(command.message));
      return;
    }
    const masked = applyMasks(line);
    logLines.push(masked);
    plainLines.push(masked);
    if (options.cancel?.whenLog?.test(line)) cancel();
  };
  // Lines end at LF, CRLF or a lone CR, as the runner reads them. Each chunk is scanned once (a long line
  // without a line end must not cost quadratic time here either).
  const lineReader = (stream: NodeJS.ReadableStream): void => {
    let parts: string[] = [];
    let pendingCR = false;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      let start = 0;
      if (pendingCR && chunk.startsWith('\n')) start = 1;
      pendingCR = false;
      const ends = /\r\n|\r|\n/g;
      ends.lastIndex = start;
      let match: RegExpExecArray | null;
      while ((match = ends.exec(chunk)) !== null) {
        parts.push(chunk.slice(start, match.index));
        onLine(parts.join(''));
        parts = [];
        start = match.index + match[0].length;
        if (match[0] === '\r' && start === chunk.length) pendingCR = true;
      }
      if (start < chunk.length) parts.push(chunk.slice(start));
    });
    stream.on('end', () => {
      if (parts.length > 0) onLine(parts.join(''));
    });
  };
  lineReader(child.stdout);
  lineReader(child.stderr);

  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolveExit) => {
    child.on('close', (code, sig) => resolveExit([code, sig]));
  });
  const ended = performance.now();
  for (const timer of timers) clearTimeout(timer);

  const read = async (file: string): Promise<Record<string, string>> =>
    parseFileCommands(await readFile(file, 'utf8'));
  return {
    exitCode,
    signal,
    log: logLines.join('\n'),
    lines: plainLines,
    outputs: await read(files.GITHUB_OUTPUT),
    state: await read(files.GITHUB_STATE),
    env: await read(files.GITHUB_ENV),
    summary: await readFile(options.env.GITHUB_STEP_SUMMARY as string, 'utf8'),
    commands,
    annotations,
    masks,
    commandsStoppedAtEnd: reader.stopped,
    durationMs: ended - started,
    ...(cancelledAt !== undefined
      ? { cancelledAtMs: cancelledAt - started, exitAfterCancelMs: ended - cancelledAt }
      : {}),
  };
}
