/**
 * Throwaway local servers that stand in for a container image that cannot be had here (no registry is
 * reachable on CI's machine): `postgres:*` → a PostgreSQL cluster of Debian's `postgresql` package, `redis:*`
 * → Debian's `redis-server`, each listening on 127.0.0.1 at the port asked for, its data and log in a
 * directory of the caller's. Shared by the compose stand-in (compose.mjs, `docker compose up`) and
 * `pnpm workflow`'s job `services:` (src/workflow/services.ts), so both start and stop them the same way.
 *
 * Each start writes `stand-in.json` into its directory; `fromState` reads what a later process (compose's
 * `down`) needs back from it. Errors are LocalServerError with a message naming the service; the caller puts
 * its own prefix in front.
 *
 * Plain JavaScript, so compose.mjs runs with any node.
 */
import { spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

/** What a local server could not do (a busy port, a failed initdb …); the message names the service. */
export class LocalServerError extends Error {}

// C0 controls but TAB, LF and CR (lines are split on those first), DEL and C1 controls.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u000c\u000e-\u001f\u007f-\u009f]/g;

/** Text we do not control (a file's value, a server's log line) made harmless to print in one line. */
export function quote(value) {
  return `'${defuse(String(value)).replace(/[\r\n]/g, (c) => (c === '\n' ? '\\n' : '\\r'))}'`;
}

/**
 * The rule of core's defuseLine, by hand because this file is plain JavaScript and core is TypeScript: the
 * runner acts on a line whose first non-blank characters are `::` and on `##[` anywhere; control characters
 * other than TAB (ESC starts terminal sequences) are shown escaped.
 */
export function defuse(line) {
  return line
    .replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/##\[/g, '##\\[')
    .replace(/^(\s*)::/, '$1\\::');
}

/** `postgres:16`, `docker.io/library/postgres@sha256:…`, `postgres` → true. */
export const isPostgresImage = (image) => /^(docker\.io\/)?(library\/)?postgres(:|@|$)/.test(image);
/** `redis:7`, `docker.io/library/redis:7-alpine`, `redis` → true. */
export const isRedisImage = (image) => /^(docker\.io\/)?(library\/)?redis(:|@|$)/.test(image);

/** The newest /usr/lib/postgresql/<version>/bin with a postgres server, if any. */
export function findPostgres() {
  const root = process.env.PLANNER_COMPOSE_PG_ROOT ?? '/usr/lib/postgresql';
  let versions;
  try {
    versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres')));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? { version: versions[0], bin: join(root, versions[0], 'bin') } : undefined;
}

/** Debian's redis-server and redis-cli, if installed (PLANNER_REDIS_BIN: another directory to look in). */
export function findRedis() {
  const dir = process.env.PLANNER_REDIS_BIN ?? '/usr/bin';
  const server = join(dir, 'redis-server');
  const cli = join(dir, 'redis-cli');
  return existsSync(server) && existsSync(cli) ? { bin: dir, server, cli } : undefined;
}

export function portFree(port) {
  return new Promise((r) => {
    const server = createServer();
    server.once('error', () => r(false));
    server.listen(port, '127.0.0.1', () => server.close(() => r(true)));
  });
}

/**
 * Runs a command to its end; resolves `{ code, output }` (stdout and stderr together). With `timeoutMs`, its
 * process group is killed then, and the code is 124 (as timeout(1) says).
 */
export function run(cmd, args, { env, input, timeoutMs } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('error', (err) => reject(new LocalServerError(`cannot run ${cmd}: ${err.message}`)));
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise(
        timedOut ? { code: 124, output: `${output}(timed out after ${timeoutMs} ms)` } : { code, output },
      );
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

function postgresIds() {
  const pw = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!pw) return undefined;
  const [, , uid, gid] = pw.split(':');
  return [Number(uid), Number(gid)];
}

/**
 * PostgreSQL cannot run as root: as root the cluster belongs to the `postgres` user Debian's package made,
 * and its commands run through runuser.
 */
function asPgUser(bin, tool, args) {
  if (userInfo().uid !== 0) return [join(bin, tool), args];
  return ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]];
}

function lastLinesOf(file, count) {
  try {
    const lines = readFileSync(file, 'utf8')
      .split(/\r\n|\r|\n/)
      .filter(Boolean);
    return count === Infinity ? lines : lines.slice(-count);
  } catch {
    return [];
  }
}

/**
 * Starts a throwaway PostgreSQL cluster in `dir` (made; as root owned by the postgres user) on 127.0.0.1:`port`
 * with the image's POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB of `env`. Reuses the cluster already in
 * `dir`. Resolves its state (also written to `dir`/stand-in.json).
 */
export async function startPostgres({ name, dir, port, env = {}, found = findPostgres() }) {
  if (!found)
    throw new LocalServerError(
      `${name}: no PostgreSQL server is installed here (apt-get install postgresql)`,
    );
  if (!(await portFree(port))) {
    throw new LocalServerError(
      `${name}: port ${port} on 127.0.0.1 is already in use, so the PostgreSQL stand-in cannot listen there`,
    );
  }
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const user = env.POSTGRES_USER || 'postgres';
  const password = env.POSTGRES_PASSWORD ?? '';
  const database = env.POSTGRES_DB || user;
  const root = userInfo().uid === 0;
  const ids = root ? postgresIds() : undefined;
  if (root) {
    if (!ids)
      throw new LocalServerError(
        `${name}: running as root, and there is no postgres user to own the stand-in cluster`,
      );
    chownSync(dir, ...ids);
  }
  const log = join(dir, 'postgres.log');
  if (!existsSync(join(data, 'PG_VERSION'))) {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (root) chownSync(pwfile, ...ids);
    const [cmd, args] = asPgUser(found.bin, 'initdb', [
      '--pgdata',
      data,
      '--username',
      user,
      '--pwfile',
      pwfile,
      '--auth-local',
      'trust',
      '--auth-host',
      password ? 'scram-sha-256' : 'trust',
      '--encoding',
      'UTF8',
      '--no-instructions',
    ]);
    const init = await run(cmd, args);
    rmSync(pwfile, { force: true });
    if (init.code !== 0)
      throw new LocalServerError(
        `${name}: initdb failed:\n${init.output.split('\n').map(defuse).join('\n')}`,
      );
  }
  const [cmd, args] = asPgUser(found.bin, 'pg_ctl', [
    '--pgdata',
    data,
    '--log',
    log,
    '--wait',
    '--options',
    `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`,
    'start',
  ]);
  const started = await run(cmd, args);
  if (started.code !== 0)
    throw new LocalServerError(
      `${name}: pg_ctl start failed:\n${started.output.split('\n').map(defuse).join('\n')}`,
    );
  if (database !== 'postgres') {
    const psql = (tool, extra) =>
      asPgUser(found.bin, tool, ['-h', dir, '-p', String(port), '-U', user, ...extra]);
    const [c2, a2] = psql('psql', [
      '-d',
      'postgres',
      '-tAc',
      `SELECT 1 FROM pg_database WHERE datname = '${database.replace(/'/g, "''")}'`,
    ]);
    const exists = await run(c2, a2);
    if (exists.output.trim() !== '1') {
      const [c3, a3] = psql('createdb', [database]);
      const created = await run(c3, a3);
      if (created.code !== 0)
        throw new LocalServerError(`${name}: createdb ${database} failed: ${quote(created.output.trim())}`);
    }
  }
  const state = {
    kind: 'postgres',
    bin: found.bin,
    version: found.version,
    port,
    data,
    log,
    socketDir: dir,
    user,
    database,
  };
  writeFileSync(join(dir, 'stand-in.json'), JSON.stringify(state));
  return state;
}

/**
 * Starts Debian's redis-server in `dir` on 127.0.0.1:`port`, in memory only (no RDB or AOF files), and
 * waits until it answers PING. Resolves its state (also written to `dir`/stand-in.json).
 */
export async function startRedis({ name, dir, port, found = findRedis() }) {
  if (!found)
    throw new LocalServerError(`${name}: no Redis server is installed here (apt-get install redis-server)`);
  if (!(await portFree(port))) {
    throw new LocalServerError(
      `${name}: port ${port} on 127.0.0.1 is already in use, so the Redis stand-in cannot listen there`,
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = join(dir, 'redis.log');
  const pidfile = join(dir, 'redis.pid');
  const fd = openSync(log, 'a');
  const child = spawn(
    found.server,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--pidfile',
      pidfile,
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', fd, fd], detached: true },
  );
  closeSync(fd);
  const exited = new Promise((r) => child.once('exit', (code) => r(code ?? 1)));
  child.unref();
  const state = { kind: 'redis', bin: found.bin, cli: found.cli, pid: child.pid, port, log, dir };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 200))]);
    if (done !== undefined)
      throw new LocalServerError(
        `${name}: redis-server exited with code ${done}; its log:\n${lastLinesOf(log, 20).map(defuse).join('\n')}`,
      );
    const ping = await run(found.cli, ['-h', '127.0.0.1', '-p', String(port), 'ping']);
    if (ping.output.trim() === 'PONG') break;
    if (Date.now() > deadline) {
      process.kill(child.pid, 'SIGKILL');
      throw new LocalServerError(`${name}: redis-server did not answer PING within 20 s`);
    }
  }
  writeFileSync(join(dir, 'stand-in.json'), JSON.stringify(state));
  return state;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A started server, from its state: `running()`, `lastLines(n)` of its log (text from the server: quote it),
 * `healthEnv` (what a health command run on this machine needs to reach it: PGHOST/PGPORT, a PATH whose
 * redis-cli talks to its port), `describe`, and `stop(removeData)`.
 */
export function fromState(state) {
  const lastLines = (count) => lastLinesOf(state.log, count);
  if (state.kind === 'redis') {
    // A health command like `redis-cli ping` names no port: the image's server listens on the port it
    // asks for. A redis-cli first on its PATH that adds `-p <port>` (a later -p of the command still wins)
    // makes the command, run as given, reach this server.
    const shimDir = join(state.dir, 'bin');
    return {
      description: `Redis (${join(state.bin, 'redis-server')}) on 127.0.0.1:${state.port}`,
      running: () => alive(state.pid),
      lastLines,
      healthEnv() {
        mkdirSync(shimDir, { recursive: true });
        writeFileSync(
          join(shimDir, 'redis-cli'),
          `#!/bin/sh\nexec '${state.cli}' -p ${Number(state.port)} "$@"\n`,
          { mode: 0o755 },
        );
        return { PATH: `${shimDir}:${process.env.PATH ?? '/usr/bin:/bin'}` };
      },
      async stop(removeData) {
        if (alive(state.pid)) {
          process.kill(state.pid, 'SIGTERM');
          for (let i = 0; i < 50 && alive(state.pid); i++) await new Promise((r) => setTimeout(r, 100));
          if (alive(state.pid)) process.kill(state.pid, 'SIGKILL');
        }
        if (removeData) rmSync(state.dir, { recursive: true, force: true });
        else rmSync(join(state.dir, 'stand-in.json'), { force: true });
      },
      /** For a process about to exit: no waiting. */
      stopNow() {
        if (alive(state.pid)) process.kill(state.pid, 'SIGKILL');
      },
    };
  }
  const running = () => existsSync(join(state.data, 'postmaster.pid'));
  return {
    description: `PostgreSQL ${state.version} (${state.bin}) on 127.0.0.1:${state.port}`,
    running,
    lastLines,
    healthEnv: () => ({
      PATH: `${state.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      PGHOST: state.socketDir,
      PGPORT: String(state.port),
    }),
    async stop(removeData) {
      if (running()) {
        const [cmd, args] = asPgUser(state.bin, 'pg_ctl', [
          '--pgdata',
          state.data,
          '--mode',
          'fast',
          '--wait',
          'stop',
        ]);
        const r = await run(cmd, args);
        if (r.code !== 0 && running())
          throw new LocalServerError(`pg_ctl stop failed: ${quote(r.output.trim())}`);
      }
      if (removeData) rmSync(state.socketDir, { recursive: true, force: true });
      else rmSync(join(state.socketDir, 'stand-in.json'), { force: true });
    },
    /** For a process about to exit: signals the postmaster (SIGQUIT: immediate shutdown), no waiting. */
    stopNow() {
      try {
        const pid = Number(readFileSync(join(state.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGQUIT');
      } catch {
        // not running
      }
    },
  };
}
