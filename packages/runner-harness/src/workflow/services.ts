/**
 * A job's `services:` (docs/workflow-runner.md, "Job services"): started before its first step, removed after
 * its last (post steps included), whatever the job's outcome — and on SIGINT/SIGTERM/exit of the runner.
 *
 * - With a Docker engine that has the image or can pull it: `docker run --detach --network host` (CI's dockerd
 *   has no bridge network, so a published port must be the container's own), the service's `env:` and the
 *   `--health-*` flags of its `options:`, labelled with the run; the job waits until each is healthy (or
 *   running, without a healthcheck), and `job.services.<id>` has its `id`, `ports` and `network`.
 * - Else, for `postgres:*` and `redis:*` where Debian's server is installed, a throwaway local server on the
 *   service's port (tool-stand-ins/local-servers.mjs, shared with the compose stand-in), with a warning
 *   saying so; its health command runs on this machine as given, pointed at that server.
 * - Else a warning that the service is not started.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteUntrusted } from '@planner-deploy/core';
import {
  findPostgres,
  findRedis,
  fromState,
  isPostgresImage,
  isRedisImage,
  LocalServerError,
  quote,
  run,
  startPostgres,
  startRedis,
  type LocalServer,
} from '../../tool-stand-ins/local-servers.mjs';
import { asText, evaluateToken, type Contexts, type Value } from './expressions.js';
import { tokenAt } from './load.js';
import { maskSecrets } from '../masks.js';
import { failRecord } from './step-record.js';
import type { StepRecord } from './types.js';

/** The label every service container of `pnpm workflow` carries (the value: the run's own token). */
export const SERVICE_RUN_LABEL = 'io.planner-deploy.workflow.run';
export const SERVICE_ID_LABEL = 'io.planner-deploy.workflow.service';

/** A mistake in a service's definition: the job fails before anything starts. */
export class ServiceDefinitionError extends Error {}

export interface HealthCheck {
  cmd?: string;
  /** As given (docker reads them), and in milliseconds (the stand-ins' own loop). */
  interval: string;
  timeout: string;
  startPeriod: string;
  retries: number;
  none: boolean;
}

export interface ServiceSpec {
  id: string;
  image: string;
  env: Record<string, string>;
  /** Container ports, each equal to its host port (host networking). */
  ports: number[];
  health: HealthCheck;
}

const SERVICE_KEYS = ['image', 'env', 'ports', 'options', 'credentials'];
const HEALTH_FLAGS: Record<string, keyof HealthCheck> = {
  '--health-cmd': 'cmd',
  '--health-interval': 'interval',
  '--health-timeout': 'timeout',
  '--health-start-period': 'startPeriod',
  '--health-retries': 'retries',
};
const SUPPORTED_OPTIONS = [...Object.keys(HEALTH_FLAGS), '--no-healthcheck'].join(', ');
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** A Go duration (what docker's --health-* flags take: 5s, 1m30s, 500ms) in milliseconds. */
export function durationMs(text: string): number {
  const factor: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * factor[m[2]!]!;
  return ms;
}

/**
 * Splits `options:` into words as a shell would, for the quoting that appears there (`--health-cmd "pg_isready
 * -U planner"`): blanks separate, '…' is literal, "…" keeps blanks and takes \" \\ \$ \`, a backslash outside
 * quotes escapes the next character. By hand: no shell-words library is kept in this repository, and the
 * runner itself passes the string to `docker create` unparsed, so this is the docker CLI's (shell's) view.
 */
export function splitOptions(text: string, where: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  const add = (s: string): void => {
    word = (word ?? '') + s;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ServiceDefinitionError(`${where}: unterminated ' in ${quote(text)}`);
      add(text.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        s += text[j];
      }
      if (j >= text.length) throw new ServiceDefinitionError(`${where}: unterminated " in ${quote(text)}`);
      add(s);
      i = j + 1;
    } else if (c === '\\' && i + 1 < text.length) {
      add(text[i + 1]!);
      i += 2;
    } else {
      add(c);
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The `--health-*` flags of `options:`; anything else is refused, naming it and what is supported. */
export function parseOptions(text: string, where: string): HealthCheck {
  const health: HealthCheck = { interval: '30s', timeout: '30s', startPeriod: '0s', retries: 3, none: false };
  const words = splitOptions(text, where);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const eq = word.indexOf('=');
    const flag = word.startsWith('--') && eq > 0 ? word.slice(0, eq) : word;
    if (flag === '--no-healthcheck' && flag === word) {
      health.none = true;
      continue;
    }
    const key = Object.hasOwn(HEALTH_FLAGS, flag) ? HEALTH_FLAGS[flag] : undefined;
    if (key === undefined) {
      throw new ServiceDefinitionError(
        `${where}: ${quote(word)} is not supported by pnpm workflow's job services (supported: ${SUPPORTED_OPTIONS}; the container runs with --network host)`,
      );
    }
    let value: string;
    if (eq > 0 && word.startsWith('--')) value = word.slice(eq + 1);
    else {
      i++;
      if (i >= words.length) throw new ServiceDefinitionError(`${where}: ${flag} needs a value`);
      value = words[i]!;
    }
    if (key === 'retries') {
      if (!/^\d+$/.test(value))
        throw new ServiceDefinitionError(`${where}: ${flag} must be a whole number, got ${quote(value)}`);
      health.retries = Number(value);
    } else if (key === 'cmd') health.cmd = value;
    else if (key !== 'none') {
      if (!DURATION.test(value))
        throw new ServiceDefinitionError(
          `${where}: ${flag} must be a duration (like 5s, 1m30s, 500ms), got ${quote(value)}`,
        );
      health[key] = value;
    }
  }
  return health;
}

function portsOf(value: Value, where: string): number[] {
  if (value === null) return [];
  if (!Array.isArray(value)) throw new ServiceDefinitionError(`${where}: must be a list of ports`);
  return value.map((entry) => {
    const text = asText(entry);
    const m = /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}):)?(?:(\d+):)?(\d+)(?:\/tcp)?$/.exec(text);
    if (!m) {
      throw new ServiceDefinitionError(
        `${where}: ${quote(text)} is not supported (supported: PORT, HOST:CONTAINER, IP:HOST:CONTAINER, optionally /tcp)`,
      );
    }
    if (m[1] !== undefined && m[1] !== m[2]) {
      throw new ServiceDefinitionError(
        `${where}: ${quote(text)} maps container port ${m[2]} to host port ${m[1]}; pnpm workflow runs service containers with host networking (CI's dockerd has no bridge network), so the two must be equal (write '${m[2]}:${m[2]}')`,
      );
    }
    const port = Number(m[2]);
    if (port < 1 || port > 65535)
      throw new ServiceDefinitionError(`${where}: port ${port} is out of range 1-65535`);
    return port;
  });
}

/** The job's `services:` as specs, evaluated (their values may use secrets, matrix, needs …). */
export function readServices(jobToken: Parameters<typeof tokenAt>[0], contexts: Contexts): ServiceSpec[] {
  const services = tokenAt(jobToken, 'services');
  if (services === undefined) return [];
  const value = evaluateToken(services, contexts);
  if (value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ServiceDefinitionError('services: must be a mapping of service ids');
  const specs: ServiceSpec[] = [];
  for (const [id, raw] of Object.entries(value)) {
    const where = `services.${id}`;
    // `services.<id>: <image>` is shorthand for `image: <image>`.
    const def: Record<string, Value> =
      typeof raw === 'string'
        ? { image: raw }
        : raw && typeof raw === 'object' && !Array.isArray(raw)
          ? raw
          : {};
    for (const key of Object.keys(def))
      if (!SERVICE_KEYS.includes(key))
        throw new ServiceDefinitionError(
          `${where}: key ${quote(key)} is not supported by pnpm workflow's job services (supported: ${SERVICE_KEYS.join(', ')})`,
        );
    const env: Record<string, string> = {};
    const envValue = def['env'] ?? null;
    if (envValue !== null) {
      if (typeof envValue !== 'object' || Array.isArray(envValue))
        throw new ServiceDefinitionError(`${where}.env: must be a mapping`);
      for (const [k, v] of Object.entries(envValue)) env[k] = asText(v);
    }
    specs.push({
      id,
      image: asText(def['image'] ?? null).trim(),
      env,
      ports: portsOf(def['ports'] ?? null, `${where}.ports`),
      health: parseOptions(asText(def['options'] ?? null), `${where}.options`),
    });
  }
  return specs;
}

interface Docker {
  (args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

function dockerCli(env: Record<string, string>): Docker {
  return (args, timeoutMs = 60_000) =>
    new Promise((resolve) => {
      execFile(
        'docker',
        args,
        { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({
            code,
            stdout,
            stderr: stderr || (err && code !== 0 && !stderr ? err.message : ''),
          });
        },
      );
    });
}

export interface ServicesScope {
  jobDisplay: string;
  /** For docker: the machine's network/Docker settings and a PATH. */
  env: Record<string, string>;
  masks: string[];
  /** Seconds to wait for a service to be healthy beyond what its healthcheck allows (default 60). */
  graceSeconds?: number;
  now: () => number;
  onRecord?: (record: StepRecord) => void;
}

type Started =
  | { kind: 'container'; spec: ServiceSpec; id: string }
  | { kind: 'local'; spec: ServiceSpec; server: LocalServer };

export interface ServiceContext {
  id: string;
  ports: Record<string, string>;
  network: string;
}

/**
 * The services of one job: `start` (one record per service, in order; stops at the first failure), the
 * `job.services` context, and `stop` (one record per started service), always to be called.
 */
export class JobServices {
  readonly context: Record<string, ServiceContext> = {};
  private readonly started: Started[] = [];
  private dataRoot: string | undefined;
  private readonly runLabel = randomBytes(8).toString('hex');
  private readonly docker: Docker;
  private readonly onExit = (): void => this.stopNow();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.stopNow();
    this.unhook();
    // Without other listeners (another job's services unhook theirs the same way) the signal would have ended
    // the process: end it the same way.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  constructor(
    private readonly scope: ServicesScope,
    private readonly specs: ServiceSpec[],
  ) {
    this.docker = dockerCli(scope.env);
  }

  /** Starts every service; resolves false when one failed (the job fails, its steps do not run). */
  async start(): Promise<boolean> {
    if (this.specs.length === 0) return true;
    process.on('exit', this.onExit);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    const version = await this.docker(['version', '--format', '{{.Server.Version}}'], 20_000).catch(() => ({
      code: 1,
      stdout: '',
      stderr: 'docker is not installed',
    }));
    const engine = version.code === 0;
    const engineWhy = engine
      ? ''
      : `no Docker engine answers here (${version.stderr.trim().split('\n').pop() || `exit ${version.code}`})`;
    for (const spec of this.specs) {
      const record = this.record(`Start service ${spec.id}`, spec.image);
      try {
        await this.startOne(spec, engine, engineWhy, record);
      } catch (e) {
        failRecord(record, this.mask(e instanceof Error ? e.message : String(e)));
      }
      record.seconds = this.scope.now() - record.startedAt;
      this.scope.onRecord?.(record);
      this.records.push(record);
      if (record.outcome === 'failure') return false;
    }
    return true;
  }

  readonly records: StepRecord[] = [];

  private record(name: string, image: string): StepRecord {
    return {
      job: this.scope.jobDisplay,
      id: 'service',
      name,
      kind: 'stand-in',
      uses: image,
      outcome: 'success',
      conclusion: 'success',
      startedAt: this.scope.now(),
      seconds: 0,
      outputs: {},
      summary: '',
      annotations: [],
      lines: [],
    };
  }

  private mask(text: string): string {
    return maskSecrets(text, this.scope.masks);
  }

  /** A line of text we do not control (a server's log, a health command's output), made safe to show. */
  private untrusted(line: string, prefix: string): string {
    return `${prefix}${quoteUntrusted(this.mask(line))}`;
  }

  private async startOne(
    spec: ServiceSpec,
    engine: boolean,
    engineWhy: string,
    record: StepRecord,
  ): Promise<void> {
    const say = (line: string): void => {
      record.lines.push(line);
    };
    if (spec.image === '') {
      say(`${spec.id}: its image is empty: not started (as on GitHub)`);
      record.outcome = 'skipped';
      record.conclusion = 'skipped';
      return;
    }
    let why = engineWhy;
    if (engine) {
      const have = await this.docker(['image', 'inspect', '--format', '{{.Id}}', spec.image]);
      let ok = have.code === 0;
      if (!ok) {
        say(`pulling ${spec.image} …`);
        const pulled = await this.docker(['pull', '--quiet', spec.image]);
        ok = pulled.code === 0;
        if (!ok)
          why = `the image ${spec.image} is not here and cannot be pulled (${quote(pulled.stderr.trim().split('\n').pop() || 'no answer within 60 s')})`;
      }
      if (ok) {
        await this.startContainer(spec, record);
        return;
      }
    }
    const kind = isPostgresImage(spec.image) ? 'postgres' : isRedisImage(spec.image) ? 'redis' : undefined;
    const found = kind === 'postgres' ? findPostgres() : kind === 'redis' ? findRedis() : undefined;
    if (!kind || !found) {
      const missing =
        kind === 'postgres'
          ? '; no PostgreSQL server is installed here to stand in for it (apt-get install postgresql)'
          : kind === 'redis'
            ? '; no Redis server is installed here to stand in for it (apt-get install redis-server)'
            : '';
      const message = `service ${spec.id} (${spec.image}) is NOT started: ${why}${missing}`;
      record.annotations.push({ level: 'warning', message });
      say(`warning: ${message}`);
      record.outcome = 'skipped';
      record.conclusion = 'skipped';
      return;
    }
    const port = spec.ports[0] ?? (kind === 'postgres' ? 5432 : 6379);
    // Under the machine's temp directory, traversable: as root the cluster runs as the postgres user, who
    // cannot enter the job's own (private) temp directory.
    this.dataRoot ??= await mkdtemp(join(tmpdir(), 'planner-services-'));
    await chmod(this.dataRoot, 0o755);
    const dir = join(this.dataRoot, spec.id);
    const what =
      kind === 'postgres'
        ? `a throwaway PostgreSQL ${(found as { version: string }).version} cluster of this machine`
        : `this machine's redis-server (in memory)`;
    const message = `stand-in: ${why}; service ${spec.id} runs as ${what} on 127.0.0.1:${port} instead`;
    record.annotations.push({ level: 'warning', message });
    say(`warning: ${message}`);
    let server: LocalServer;
    try {
      const state =
        kind === 'postgres'
          ? await startPostgres({ name: spec.id, dir, port, env: spec.env })
          : await startRedis({ name: spec.id, dir, port });
      server = fromState(state);
    } catch (e) {
      if (e instanceof LocalServerError) throw new Error(`service ${e.message}`, { cause: e });
      throw e;
    }
    this.started.push({ kind: 'local', spec, server });
    this.context[spec.id] = {
      id: '',
      ports: Object.fromEntries(spec.ports.map((p) => [String(p), String(p)])),
      network: 'host',
    };
    say(`started ${server.description}`);
    await this.waitLocal(spec, server, record);
  }

  private async startContainer(spec: ServiceSpec, record: StepRecord): Promise<void> {
    const args = ['run', '--detach', '--network', 'host'];
    args.push(
      '--label',
      `${SERVICE_RUN_LABEL}=${this.runLabel}`,
      '--label',
      `${SERVICE_ID_LABEL}=${spec.id}`,
    );
    for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
    const h = spec.health;
    if (h.none) args.push('--no-healthcheck');
    else if (h.cmd !== undefined) {
      args.push('--health-cmd', h.cmd, '--health-interval', h.interval, '--health-timeout', h.timeout);
      args.push('--health-retries', String(h.retries), '--health-start-period', h.startPeriod);
    }
    args.push(spec.image);
    const r = await this.docker(args);
    if (r.code !== 0) throw new Error(`service ${spec.id}: docker run failed: ${quote(r.stderr.trim())}`);
    const id = r.stdout.trim();
    this.started.push({ kind: 'container', spec, id });
    this.context[spec.id] = {
      id,
      ports: Object.fromEntries(spec.ports.map((p) => [String(p), String(p)])),
      network: 'host',
    };
    record.lines.push(`started container ${id.slice(0, 12)} of ${spec.image} (--network host)`);
    const deadline = Date.now() + this.allowanceMs(spec.health);
    for (;;) {
      const info = await this.docker(['inspect', '--format', '{{json .State}}', id]);
      if (info.code !== 0) throw new Error(`service ${spec.id}: its container is gone`);
      const state = JSON.parse(info.stdout) as {
        Status: string;
        Running: boolean;
        ExitCode: number;
        Health?: { Status: string; Log?: Array<{ Output: string }> };
      };
      const health = state.Health?.Status;
      if (!state.Running)
        return this.unhealthy(
          spec,
          record,
          `its container is ${state.Status} (exit code ${state.ExitCode})`,
          await this.containerLog(id),
        );
      if (health === undefined || health === 'healthy') {
        record.lines.push(`${spec.id} is ${health ?? 'running (no healthcheck)'}`);
        return;
      }
      if (health === 'unhealthy' || Date.now() > deadline) {
        const last = state.Health?.Log?.at(-1)?.Output.trim() ?? '';
        return this.unhealthy(
          spec,
          record,
          `${health === 'unhealthy' ? 'its health command kept failing' : `it was not healthy within ${Math.round(this.allowanceMs(spec.health) / 1000)} s`}${last ? ` (last output: ${quote(this.mask(last))})` : ''}`,
          await this.containerLog(id),
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async containerLog(id: string): Promise<string[]> {
    const r = await this.docker(['logs', '--tail', '20', id]);
    return `${r.stdout}${r.stderr}`.split(/\r\n|\r|\n/).filter((l) => l !== '');
  }

  /** What a healthcheck allows (start period, then retries of interval + timeout), and a grace. */
  private allowanceMs(h: HealthCheck): number {
    const grace = (this.scope.graceSeconds ?? 60) * 1000;
    if (h.none || h.cmd === undefined) return grace;
    return (
      durationMs(h.startPeriod) + (h.retries + 1) * (durationMs(h.interval) + durationMs(h.timeout)) + grace
    );
  }

  /**
   * The health command on this machine, as docker runs it (`sh -c`), pointed at the local server: first at
   * once, then every interval; failures count after the start period, `retries` in a row are unhealthy.
   */
  private async waitLocal(spec: ServiceSpec, server: LocalServer, record: StepRecord): Promise<void> {
    const h = spec.health;
    if (h.none || h.cmd === undefined) {
      record.lines.push(`${spec.id} is running (no health command)`);
      return;
    }
    record.lines.push(`health command, run here against the stand-in: ${h.cmd}`);
    const started = Date.now();
    const deadline = started + this.allowanceMs(h);
    let failures = 0;
    for (;;) {
      if (!server.running())
        return this.unhealthy(spec, record, 'the stand-in server is not running', server.lastLines(20));
      const r = await run('sh', ['-c', h.cmd], { env: server.healthEnv(), timeoutMs: durationMs(h.timeout) });
      if (r.code === 0) {
        record.lines.push(`${spec.id} is healthy`);
        return;
      }
      if (Date.now() - started >= durationMs(h.startPeriod)) failures++;
      if (failures >= Math.max(1, h.retries) || Date.now() > deadline)
        return this.unhealthy(
          spec,
          record,
          `its health command kept failing (${failures} times; last output: ${quote(this.mask(r.output.trim()))})`,
          server.lastLines(20),
        );
      await new Promise((resolve) => setTimeout(resolve, durationMs(h.interval)));
    }
  }

  private unhealthy(spec: ServiceSpec, record: StepRecord, why: string, log: string[]): never {
    record.lines.push(`✘ ${spec.id}: ${why}`);
    const quoted = log.map((l) => this.untrusted(l, `  ${spec.id} | `));
    if (quoted.length > 0) {
      record.lines.push(`  its last ${quoted.length} log lines (text from the service, not the runner's):`);
      record.lines.push(...quoted);
    } else record.lines.push(`  (${spec.id} logged nothing)`);
    throw new Error(
      `service ${spec.id} did not become healthy: ${why}${quoted.length > 0 ? `\nits last log lines:\n${quoted.join('\n')}` : ''}`,
    );
  }

  /** Removes every service it started, in reverse order: one record each. */
  async stop(): Promise<StepRecord[]> {
    const records: StepRecord[] = [];
    for (const s of [...this.started].reverse()) {
      const record = this.record(`Stop service ${s.spec.id}`, s.spec.image);
      try {
        if (s.kind === 'container') {
          const r = await this.docker(['rm', '--force', '--volumes', s.id]);
          if (r.code !== 0 && !/No such container/i.test(r.stderr))
            throw new Error(`docker rm of ${s.spec.id} failed: ${quote(r.stderr.trim())}`);
          record.lines.push(`removed container ${s.id.slice(0, 12)}`);
        } else {
          await s.server.stop(true);
          record.lines.push(`stopped ${s.server.description}; its data removed`);
        }
      } catch (e) {
        failRecord(record, this.mask((e as Error).message));
      }
      record.seconds = this.scope.now() - record.startedAt;
      this.scope.onRecord?.(record);
      records.push(record);
    }
    // Anything of this run left behind (a container whose `docker run` answered too late …), by its label.
    if (this.started.some((s) => s.kind === 'container')) {
      const left = await this.docker([
        'ps',
        '--all',
        '--quiet',
        '--filter',
        `label=${SERVICE_RUN_LABEL}=${this.runLabel}`,
      ]);
      const ids = left.stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await this.docker(['rm', '--force', '--volumes', ...ids]);
    }
    this.started.length = 0;
    if (this.dataRoot) await rm(this.dataRoot, { recursive: true, force: true });
    this.dataRoot = undefined;
    this.unhook();
    return records;
  }

  private unhook(): void {
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  /** For a runner about to end (a signal, process.exit): removes what it can without waiting. */
  private stopNow(): void {
    for (const s of this.started) {
      if (s.kind === 'local') s.server.stopNow();
    }
    const containers = this.started.filter((s) => s.kind === 'container');
    if (containers.length > 0) {
      try {
        // Synchronous: an exit handler cannot wait for a promise.
        execFileSync(
          'docker',
          ['rm', '--force', '--volumes', ...containers.map((c) => (c as { id: string }).id)],
          {
            env: this.scope.env,
            stdio: 'ignore',
            timeout: 10_000,
          },
        );
      } catch {
        // nothing more can be done on the way out
      }
    }
    this.started.length = 0;
    if (this.dataRoot) rmSync(this.dataRoot, { recursive: true, force: true });
    this.dataRoot = undefined;
  }
}
