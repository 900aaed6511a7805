import { spawn } from 'node:child_process';
import {
  CancelledError,
  LineSplitter,
  logUntrusted,
  OutputTail,
  quoteUntrusted,
  type Logger,
} from '@planner-deploy/core';
import { inspectDriver } from './docker-build.js';

/**
 * What a finished command printed and how it ended. Output is kept bounded: the last OUTPUT_TAIL_CHARS of
 * each stream (a build can print gigabytes; results and errors are at the end).
 */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Written to stdin, then stdin is closed (passwords go here, never into the arguments). */
  stdin?: string | undefined;
  /** The whole environment of the command (default: this process's). */
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
  /** Aborting sends SIGINT (docker stops a build or push cleanly on it), SIGKILL 5 s later. */
  signal?: AbortSignal | undefined;
  /** Each output line as it comes, for a live log. */
  onLine?: ((line: string, stream: 'stdout' | 'stderr') => void) | undefined;
}

/** Runs an executable with an argument array, never through a shell. */
export type CommandRunner = (
  file: string,
  args: string[],
  options?: CommandOptions,
) => Promise<CommandResult>;

/**
 * A short command that needs no cancellation (`docker version`, `buildx version`, `buildx inspect`, login
 * and logout), through @actions/exec: an argument array, no shell, nothing echoed. Loaded on first use, so an
 * action that never runs docker does not load it. A command given stdin (login's password) goes through the
 * small spawn instead: @actions/exec writes its `input` with no error handler on the child's stdin, so a
 * docker that exits before reading it would end the step with an unhandled EPIPE.
 */
export const execCommand: CommandRunner = async (file, args, options = {}) => {
  if (options.signal?.aborted) throw new CancelledError(`Cancelled before running ${file} ${args[0] ?? ''}.`);
  if (options.stdin !== undefined) return spawnCommand(file, args, options);
  const { getExecOutput } = await import('@actions/exec');
  const env = Object.fromEntries(
    Object.entries(options.env ?? process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
  const result = await getExecOutput(file, args, {
    env,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    silent: true,
    ignoreReturnCode: true,
  });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
};

/**
 * The runner for builds and pushes: child_process.spawn with an argument array and no shell. It stays ours
 * rather than @actions/exec because a cancelled step must stop docker cleanly, and @actions/exec takes no
 * signal: on abort this sends SIGINT (docker stops the build or push), then SIGKILL 5 s later.
 */
export const spawnCommand: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new CancelledError(`Cancelled before running ${file} ${args[0] ?? ''}.`));
      return;
    }
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
    });
    const stdout = new OutputTail();
    const stderr = new OutputTail();
    const collect = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void => {
      // Linear in the output, each line capped for display (a line without a newline can be any length).
      const splitter = new LineSplitter();
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        (name === 'stdout' ? stdout : stderr).push(chunk);
        if (!options.onLine) return;
        for (const line of splitter.push(chunk)) options.onLine(line, name);
      });
      stream.on('end', () => {
        if (options.onLine) for (const line of splitter.end()) options.onLine(line, name);
      });
    };
    collect(child.stdout, 'stdout');
    collect(child.stderr, 'stderr');
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      killTimer.unref();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (options.signal?.aborted) {
        reject(new CancelledError(`Cancelled: stopped ${file} ${args[0] ?? ''}.`));
        return;
      }
      resolve({ code: code ?? (signal ? 128 : 1), stdout: stdout.text(), stderr: stderr.text() });
    });
    // A command that exits before reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });

/** `docker login` reading the password from stdin: never `-p`, which shows it in the process list. */
export function loginArgs(host: string, username: string): string[] {
  return ['login', '--username', username, '--password-stdin', host];
}

export function logoutArgs(host: string): string[] {
  return ['logout', host];
}

/** The manifest digest `docker push` reports (`<tag>: digest: sha256:… size: N`), the last one printed. */
export function pushedDigest(output: string): string | undefined {
  const all = [...output.matchAll(/digest: (sha256:[0-9a-f]{64})/g)];
  return all.at(-1)?.[1];
}

/**
 * The last meaningful line of a failed command's output, for an error message: quoted (the registry's or
 * the build's words can carry runner commands) and capped.
 */
export function lastErrorLine(result: CommandResult): string {
  return quoteUntrusted(lastErrorLineText(result), 500);
}

function lastErrorLineText(result: CommandResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^DEPRECATED|^\s*Install the buildx|^\s*BuildKit is currently/i.test(l));
  // "received unexpected HTTP status: 503 Service Unavailable" (a registry under load) names no "error".
  const error = lines
    .filter((l) =>
      /error|denied|unauthorized|invalid|unknown|failed|unexpected http status|unavailable|too many requests|connection reset|timeout/i.test(
        l,
      ),
    )
    .at(-1);
  return error ?? lines.at(-1) ?? `exit code ${result.code}`;
}

export interface DockerOptions {
  /** Runs builds and pushes (cancellable). Default: spawnCommand. */
  runner?: CommandRunner | undefined;
  /** Runs the short probes, login and logout. Default: `runner` when given, else execCommand. */
  probeRunner?: CommandRunner | undefined;
  /** The docker executable (default `docker` on the PATH). */
  executable?: string | undefined;
  /** Environment of every docker command (DOCKER_HOST, DOCKER_CONFIG…); default this process's. */
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
  logger: Logger;
  signal?: AbortSignal | undefined;
}

/** The docker CLI, one method per command, each with an argument array. */
export class DockerCli {
  readonly runner: CommandRunner;
  readonly probeRunner: CommandRunner;
  readonly executable: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;
  readonly cwd: string | undefined;

  constructor(options: DockerOptions) {
    this.runner = options.runner ?? spawnCommand;
    this.probeRunner = options.probeRunner ?? options.runner ?? execCommand;
    this.executable = options.executable ?? 'docker';
    this.env = options.env ?? process.env;
    this.logger = options.logger;
    this.signal = options.signal;
    this.cwd = options.cwd;
  }

  /** Runs `docker <args>` (cancellable); `live` streams the output to the log as it comes. */
  run(
    args: string[],
    options: { stdin?: string; live?: boolean; env?: NodeJS.ProcessEnv } = {},
  ): Promise<CommandResult> {
    return this.runner(this.executable, args, {
      stdin: options.stdin,
      env: { ...this.env, ...options.env },
      cwd: this.cwd,
      signal: this.signal,
      // Docker's output holds the build's and the registry's words: a stream we do not control.
      onLine: options.live ? (line) => logUntrusted(this.logger, line) : undefined,
    });
  }

  /** Runs a short `docker <args>` that needs no cancellation. */
  probe(args: string[], options: { stdin?: string } = {}): Promise<CommandResult> {
    return this.probeRunner(this.executable, args, {
      stdin: options.stdin,
      env: this.env,
      cwd: this.cwd,
      signal: this.signal,
    });
  }

  /** The server's version, or undefined with the reason when no daemon answers. */
  async serverVersion(): Promise<{ version?: string; problem?: string }> {
    const result = await this.probe(['version', '--format', '{{.Server.Version}}']);
    if (result.code === 0 && result.stdout.trim() !== '') return { version: result.stdout.trim() };
    return { problem: lastErrorLine(result) };
  }

  /** The buildx plugin's version line, or undefined when docker has no buildx. */
  async buildxVersion(): Promise<string | undefined> {
    const result = await this.probe(['buildx', 'version']);
    return result.code === 0 ? result.stdout.trim() || 'buildx' : undefined;
  }

  /** The current buildx builder's driver (docker, docker-container, kubernetes, remote), if buildx says. */
  async buildxDriver(): Promise<string | undefined> {
    const result = await this.probe(['buildx', 'inspect']);
    if (result.code !== 0) return undefined;
    return inspectDriver(result.stdout);
  }

  async login(host: string, username: string, password: string): Promise<CommandResult> {
    return this.probe(loginArgs(host, username), { stdin: password });
  }

  async logout(host: string): Promise<CommandResult> {
    return this.probe(logoutArgs(host));
  }
}
