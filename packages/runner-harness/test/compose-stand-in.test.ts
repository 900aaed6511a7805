// The `docker compose` tool stand-in (tool-stand-ins/bin/docker and compose.mjs, docs/workflow-runner.md):
// its command line, how a compose file maps to docker run arguments, what it refuses, the shim's forwarding,
// and — with a Docker engine (DOCKER_HOST) — up/exec/logs/down of the fixture app's stack for real.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerUnavailableReason, ensureBusyboxBase } from '@planner-deploy/sandbox';
// @ts-expect-error -- plain JavaScript (it runs with any node), no declarations
import * as compose from '../tool-stand-ins/compose.mjs';
import { TOOL_STAND_INS_BIN } from '../src/workflow/job.js';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtureApp = join(root, 'examples', 'planner-app');

const { parseCommandLine, loadProject, runArgs, buildArgs, makeOutput, ComposeError } = compose as any;

async function composeFile(text: string, dirName = 'demo-app'): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'compose-unit-')), dirName);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'docker-compose.yml'), text);
  return dir;
}

/** Runs a command; resolves its exit code and output, never rejects on a non-zero exit. */
function runCommand(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe('the command line', () => {
  it('parses what ci.yml runs', () => {
    expect(parseCommandLine(['up', '--build', '--detach', '--wait'])).toMatchObject({
      command: 'up',
      options: { build: true, detach: true, wait: true },
      services: [],
    });
    expect(parseCommandLine(['exec', '-T', 'backend', 'alembic', 'upgrade', 'head'])).toMatchObject({
      command: 'exec',
      options: { noTty: true },
      service: 'backend',
      args: ['alembic', 'upgrade', 'head'],
    });
    expect(parseCommandLine(['logs', '--no-color', '--timestamps'])).toMatchObject({
      command: 'logs',
      options: { noColor: true, timestamps: true },
    });
    expect(parseCommandLine(['down', '--volumes'])).toMatchObject({
      command: 'down',
      options: { volumes: true },
    });
    expect(parseCommandLine(['-f', 'other.yml', '-p', 'x', 'ps'])).toMatchObject({
      files: ['other.yml'],
      projectName: 'x',
      command: 'ps',
    });
  });

  it("passes the command's own options through exec untouched", () => {
    expect(parseCommandLine(['exec', '-T', 'backend', 'sh', '-c', 'echo --volumes'])).toMatchObject({
      service: 'backend',
      args: ['sh', '-c', 'echo --volumes'],
    });
  });

  it('refuses what it does not support, naming it and what is supported', () => {
    expect(() => parseCommandLine(['build'])).toThrow(
      "docker compose: subcommand 'build' is not supported by the compose stand-in (supported: up, exec, logs, down, ps)",
    );
    expect(() => parseCommandLine(['up', '-d', '--force-recreate'])).toThrow(
      "docker compose up: option '--force-recreate' is not supported by the compose stand-in (supported: --build, -d/--detach, --wait, --wait-timeout)",
    );
    expect(() => parseCommandLine(['logs', '-f'])).toThrow(
      /option '-f' is not supported.*--no-color, -t\/--timestamps/,
    );
    expect(() => parseCommandLine(['--profile', 'x', 'up'])).toThrow(
      /option '--profile' is not supported .*-f\/--file FILE, -p\/--project-name NAME/,
    );
    expect(() => parseCommandLine(['up'])).toThrow(/pass -d\/--detach \(or --wait\)/);
    expect(() => parseCommandLine(['up', '-d', '--wait-timeout', 'soon'])).toThrow(
      "docker compose up: --wait-timeout must be a whole number, got 'soon'",
    );
    expect(() => parseCommandLine(['exec', '-T', 'backend'])).toThrow(
      /usage: exec \[-T\] <service> <command>/,
    );
    expect(() => parseCommandLine(['down', 'db'])).toThrow(/takes no arguments here, got 'db'/);
  });
});

describe('the compose file mapped to docker', () => {
  it("runs the fixture app's services on the host network, each service name resolving to 127.0.0.1", () => {
    const project = loadProject({ cwd: fixtureApp, env: {} });
    expect(project.name).toBe('planner-app');
    expect(project.order.indexOf('db')).toBeLessThan(project.order.indexOf('backend'));

    const backend = project.services.backend;
    expect(buildArgs(project, backend)).toEqual([
      'build',
      '--force-rm',
      '--tag',
      'planner-app-backend',
      '--target',
      'development',
      '--label',
      'io.planner-deploy.compose.project=planner-app',
      fixtureApp,
    ]);
    const args: string[] = runArgs(project, backend);
    const pairs = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
    expect(args.slice(0, 6)).toEqual([
      'run',
      '--detach',
      '--name',
      'planner-app-backend-1',
      '--network',
      'host',
    ]);
    expect(pairs('--add-host').sort()).toEqual(['backend:127.0.0.1', 'db:127.0.0.1', 'frontend:127.0.0.1']);
    expect(pairs('--env')).toEqual(['DATABASE_URL=postgresql://planner:planner@db:5432/planner']);
    expect(pairs('--health-cmd')).toEqual(['wget -qO- http://127.0.0.1:8000/health']);
    expect(pairs('--health-interval')).toEqual(['2s']);
    expect(pairs('--health-retries')).toEqual(['15']);
    expect(pairs('--label')).toEqual([
      'io.planner-deploy.compose.project=planner-app',
      'io.planner-deploy.compose.service=backend',
    ]);
    expect(args.at(-1)).toBe('planner-app-backend');

    const frontend: string[] = runArgs(project, project.services.frontend);
    expect(frontend.slice(-7)).toEqual([
      'planner-app-frontend',
      'httpd',
      '-f',
      '-p',
      '3000',
      '-h',
      '/app/frontend',
    ]);

    const db: string[] = runArgs(project, project.services.db);
    expect(db).toContain('postgres:16');
    expect(db[db.indexOf('--health-cmd') + 1]).toBe('pg_isready -U planner');
  });

  it('quotes a CMD healthcheck for the shell docker runs it with, and maps entrypoint, volumes and substitution', async () => {
    const dir = await composeFile(
      [
        'volumes: { data: {} }',
        'services:',
        '  web:',
        '    image: ${WEB_IMAGE:-busybox:1.36}',
        '    entrypoint: ["sh", "-c"]',
        '    command: ["echo $$HOME; sleep 1"]',
        '    environment: ["GREETING=hello world", "FROM_ENV"]',
        '    volumes: ["data:/data", "./conf:/conf:ro"]',
        '    healthcheck:',
        '      test: ["CMD", "sh", "-c", "test -f \'/tmp/it is ready\'"]',
        '      timeout: 1m30s',
        '      start_period: 500ms',
        '',
      ].join('\n'),
      'My App!',
    );
    const project = loadProject({ cwd: dir, env: { FROM_ENV: 'set' } });
    expect(project.name).toBe('myapp');
    const args: string[] = runArgs(project, project.services.web);
    const pairs = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
    expect(pairs('--health-cmd')).toEqual([`sh -c 'test -f '\\''/tmp/it is ready'\\'''`]);
    expect(pairs('--health-timeout')).toEqual(['1m30s']);
    expect(pairs('--health-start-period')).toEqual(['500ms']);
    expect(pairs('--env')).toEqual(['GREETING=hello world', 'FROM_ENV=set']);
    expect(pairs('--volume')).toEqual(['myapp_data:/data', `${join(dir, 'conf')}:/conf:ro`]);
    expect(pairs('--entrypoint')).toEqual(['sh']);
    expect(args.slice(-3)).toEqual(['busybox:1.36', '-c', 'echo $HOME; sleep 1']);
    expect(runArgs(loadProject({ cwd: dir, env: { WEB_IMAGE: 'other:1' } }), project.services.web)).toContain(
      'busybox:1.36',
    );
    expect(loadProject({ cwd: dir, env: { WEB_IMAGE: 'other:1' } }).services.web.image).toBe('other:1');
  });

  it.each([
    [
      'a published port other than the container port',
      'services:\n  a:\n    image: x\n    ports: ["8080:8000"]\n',
      "docker-compose.yml: services.a.ports: '8080:8000' publishes container port 8000 on host port 8080; the compose stand-in runs containers with host networking (no bridge network here), so the two must be equal",
    ],
    [
      'a key it does not map',
      'services:\n  a:\n    image: x\n    networks: [front]\n',
      "docker-compose.yml: services.a: key 'networks' is not supported by the compose stand-in (supported: image, build, command, entrypoint, environment, ports, expose, depends_on, healthcheck, working_dir, user, volumes, restart, labels)",
    ],
    [
      'a dependency on a service that does not exist',
      'services:\n  a:\n    image: x\n    depends_on: [b]\n',
      "docker-compose.yml: services.a.depends_on: no service named 'b'",
    ],
    [
      'a dependency cycle',
      'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n',
      'docker-compose.yml: depends_on has a cycle: a → b → a',
    ],
    [
      'service_healthy on a service without a healthcheck',
      'services:\n  a:\n    image: x\n    depends_on: { b: { condition: service_healthy } }\n  b:\n    image: x\n',
      'docker-compose.yml: services.a.depends_on: b has condition service_healthy but no healthcheck: in the compose file (the compose stand-in reads it from there)',
    ],
    [
      'an unknown condition',
      'services:\n  a:\n    image: x\n    depends_on: { b: { condition: service_ready } }\n  b:\n    image: x\n',
      "docker-compose.yml: services.a.depends_on.b.condition: 'service_ready' is not one of service_started, service_healthy, service_completed_successfully",
    ],
    [
      'a bad duration',
      'services:\n  a:\n    image: x\n    healthcheck: { test: ["CMD", "true"], interval: soon }\n',
      "docker-compose.yml: services.a.healthcheck.interval: 'soon' is not a duration (like 2s, 1m30s, 500ms)",
    ],
    [
      'a required-variable substitution',
      'services:\n  a:\n    image: ${IMAGE:?set it}\n',
      "docker-compose.yml.services.a.image: the substitution '${IMAGE:?set it}' is not supported by the compose stand-in (supported: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, $$ for a $)",
    ],
    [
      'a string command with quotes',
      'services:\n  a:\n    image: x\n    command: sh -c "echo hi"\n',
      `docker-compose.yml: services.a.command: 'sh -c "echo hi"' has quotes or backslashes; write it as a list (["cmd", "arg"]) for the compose stand-in`,
    ],
    [
      'a service with neither image nor build',
      'services:\n  a:\n    command: [x]\n',
      'docker-compose.yml: services.a: needs image: or build:',
    ],
  ])('refuses %s, before anything runs', async (_what, text, message) => {
    const dir = await composeFile(text);
    let error: unknown;
    try {
      loadProject({ cwd: dir, env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as Error).message).toBe(message);
  });

  it('says where it looked when there is no compose file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'compose-none-'));
    expect(() => loadProject({ cwd: dir, env: {} })).toThrow(
      `docker compose: no compose file in ${dir} (looked for compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml; or pass -f FILE)`,
    );
  });
});

describe('text from docker and the containers', () => {
  it('is printed with runner commands stopped, each line defused; its own warnings resume them first', () => {
    const lines: string[] = [];
    const out = makeOutput(
      (s: string) => lines.push(s),
      (s: string) => lines.push(`stderr: ${s}`),
    );
    out.untrusted('::error::from the container', 'web-1  | ');
    out.untrusted('  ::add-mask::x ##[error]y \u001b[31mred');
    out.warn('stand-in: 100% sure\nnext');
    const text = lines.join('');
    const [open, first, second, close, warning] = text.split('\n');
    expect(open).toMatch(/^::stop-commands::(untrusted-[0-9a-f]{32})$/);
    const token = open!.split('::')[2];
    expect(first).toBe('web-1  | \\::error::from the container');
    expect(second).toBe('  \\::add-mask::x ##\\[error]y \\u001b[31mred');
    expect(close).toBe(`::${token}::`);
    expect(warning).toBe('::warning::stand-in: 100%25 sure%0Anext');
  });
});

describe('bin/docker, the shim', () => {
  let dir: string;
  let log: string;
  /** A PATH with the shim first and a recording docker after it, whose `compose version` succeeds or not. */
  async function fakeDocker(withCompose: boolean): Promise<NodeJS.ProcessEnv> {
    dir = await mkdtemp(join(tmpdir(), 'compose-shim-'));
    log = join(dir, 'calls');
    await writeFile(
      join(dir, 'docker'),
      [
        '#!/bin/sh',
        `printf '%s\\n' "$*" >>'${log}'`,
        `if [ "$1 $2" = "compose version" ]; then ${withCompose ? 'echo "Docker Compose version v2"; exit 0' : 'echo "docker: unknown command: docker compose" >&2; exit 1'}; fi`,
        'if [ "$1" = ps ]; then exit 0; fi',
        'echo "real docker ran: $*"',
        '',
      ].join('\n'),
    );
    await chmod(join(dir, 'docker'), 0o755);
    return { ...process.env, PATH: `${TOOL_STAND_INS_BIN}:${dir}:${process.env['PATH']}` };
  }
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('hands anything but compose to the real docker unchanged, printing nothing of its own', async () => {
    const env = await fakeDocker(false);
    const r = await runCommand('docker', ['run', '--rm', 'a b', '--', '$x'], { env });
    expect(r).toEqual({ code: 0, stdout: 'real docker ran: run --rm a b -- $x\n', stderr: '' });
  });

  it('hands compose to the real docker when it has the plugin', async () => {
    const env = await fakeDocker(true);
    const r = await runCommand('docker', ['compose', 'up', '--whatever'], { env, cwd: fixtureApp });
    expect(r.stdout).toBe('real docker ran: compose up --whatever\n');
    expect(await readFile(log, 'utf8')).toBe('compose version\ncompose up --whatever\n');
  });

  it('runs the compose stand-in, saying so first, when the real docker has no compose plugin', async () => {
    const env = await fakeDocker(false);
    const r = await runCommand('docker', ['compose', 'ps'], { env, cwd: fixtureApp });
    expect(r.stdout.split('\n')[0]).toBe(
      '::warning::stand-in: docker compose is not installed here; the compose stand-in of planner-deploy runs the compose file\'s services with plain docker instead (host networking; see docs/workflow-runner.md, "docker compose")',
    );
    expect(r.stdout).toContain('NAME   SERVICE   STATUS   IMAGE');
    expect(r.code).toBe(0);
    // The stand-in asked the real docker (the one behind the shim) for the project's containers.
    expect(await readFile(log, 'utf8')).toContain(
      'ps --all --filter label=io.planner-deploy.compose.project=planner-app',
    );

    const bad = await runCommand('docker', ['compose', 'pull'], { env, cwd: fixtureApp });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "docker compose: subcommand 'pull' is not supported by the compose stand-in (supported: up, exec, logs, down, ps)\n" +
        'For all of docker compose, install the Docker Compose plugin: https://docs.docker.com/compose/install/linux/\n',
    );
  });
});

// With a Docker engine: the fixture app's stack for real. CI sets PLANNER_DEPLOY_REQUIRE_DOCKER=1, which
// forbids skipping.
const dockerReason =
  process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1' ? undefined : await dockerUnavailableReason();
if (dockerReason !== undefined)
  console.warn(`NOTICE: the compose stand-in's engine tests are SKIPPED: ${dockerReason}`);
const withDocker = dockerReason === undefined ? describe : describe.skip;
const postgresHere = ['15', '16', '17'].some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`));

withDocker('with a Docker engine', () => {
  let work: string;
  let app: string;
  let env: NodeJS.ProcessEnv;
  const dc = (args: string[], cwd = app) => runCommand('docker', ['compose', ...args], { cwd, env });
  const engine = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('docker', args, (err, stdout, stderr) =>
        err ? reject(new Error(`${stdout}${stderr}`)) : resolve(stdout),
      ),
    );

  beforeAll(async () => {
    await ensureBusyboxBase();
    work = await mkdtemp(join(tmpdir(), 'compose-engine-'));
    app = join(work, 'planner-app');
    await cp(fixtureApp, app, { recursive: true, dereference: true });
    env = { ...process.env, PATH: `${TOOL_STAND_INS_BIN}:${process.env['PATH']}` };
  }, 120_000);

  afterAll(async () => {
    if (app) await dc(['down', '--volumes']);
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  it("brings the fixture app's stack up as ci.yml does; it answers on the published ports", async () => {
    const upped = await dc(['up', '--build', '--detach', '--wait']);
    expect(upped.stderr).toMatch(/✔ backend healthy\n✔ frontend healthy/);
    expect(upped.code).toBe(0);
    if (postgresHere) {
      expect(upped.stdout).toMatch(
        /::warning::stand-in: the image postgres:16 of db is not here and cannot be pulled .*db runs as a throwaway PostgreSQL \d+ cluster/,
      );
      expect(upped.stderr).toContain('✔ db healthy');
      // What the compose file asks of it: its user, password and database, on db:5432.
      const bin = ['17', '16', '15']
        .map((v) => `/usr/lib/postgresql/${v}/bin/psql`)
        .find((p) => existsSync(p))!;
      const query = await runCommand(
        bin,
        [
          'postgresql://planner:planner@127.0.0.1:5432/planner',
          '-tAc',
          'select current_user, current_database()',
        ],
        { env: { ...env, PGCONNECT_TIMEOUT: '5' } },
      );
      expect(query.stdout.trim()).toBe('planner|planner');
    } else {
      expect(upped.stdout).toContain(
        '::warning::stand-in: db is NOT started: its image postgres:16 is not here and cannot be pulled',
      );
      expect(upped.stdout).toContain(
        '::warning::stand-in: backend depends on db (service_healthy), which is not running here',
      );
    }
    const health = await fetch('http://localhost:8000/api/health');
    expect(await health.json()).toEqual({ status: 'ok', version: 'dev', environment: 'development' });
    expect((await fetch('http://localhost:3000/')).status).toBe(200);

    const ps = await dc(['ps']);
    expect(ps.stdout).toMatch(/planner-app-backend-1\s+backend\s+Up .*\(healthy\)/);
  }, 180_000);

  it('execs in a service container with its environment, and passes on the exit code', async () => {
    const migrated = await dc(['exec', '-T', 'backend', 'alembic', 'upgrade', 'head']);
    expect(migrated.stdout).toContain('Running upgrade  -> 0001, create tasks');
    expect(migrated.stdout).toContain('Running upgrade 0001 -> 0002');
    expect(migrated.code).toBe(0);
    const env = await dc([
      'exec',
      '-T',
      'backend',
      'sh',
      '-c',
      'echo "$DATABASE_URL"; cat /etc/hosts; exit 3',
    ]);
    expect(env.stdout).toContain('postgresql://planner:planner@db:5432/planner');
    expect(env.stdout).toMatch(/127\.0\.0\.1\s+db/);
    expect(env.code).toBe(3);
  }, 60_000);

  it('shows the logs with timestamps, each line prefixed with its service', async () => {
    const logs = await dc(['logs', '--no-color', '--timestamps']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(
      /^backend-1 +\| \d{4}-\d\d-\d\dT[\d:.]+Z planner-app dev \(development\) listening on :8000$/m,
    );
  }, 60_000);

  it('leaves an up-to-date stack as it is on a second up', async () => {
    const before = await engine(['inspect', '--format', '{{.Id}}', 'planner-app-backend-1']);
    const again = await dc(['up', '--detach', '--wait']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('planner-app-backend-1 is up to date');
    expect(await engine(['inspect', '--format', '{{.Id}}', 'planner-app-backend-1'])).toBe(before);
  }, 120_000);

  it('takes down what it started, and nothing is left listening', async () => {
    const down = await dc(['down', '--volumes']);
    expect(down.code).toBe(0);
    expect(down.stderr).toContain('removed planner-app-backend-1');
    expect(
      await engine([
        'ps',
        '--all',
        '--quiet',
        '--filter',
        'label=io.planner-deploy.compose.project=planner-app',
      ]),
    ).toBe('');
    await expect(fetch('http://localhost:8000/health')).rejects.toThrow();
    const again = await dc(['down', '--volumes']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing of project planner-app is running');
  }, 60_000);

  it("shows a failed build's output as untrusted text, and starts nothing", async () => {
    const dir = join(work, 'badbuild');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'Dockerfile'),
      'FROM busybox:1.36\nRUN echo "::error::from the build" && exit 4\n',
    );
    await writeFile(
      join(dir, 'compose.yaml'),
      'services:\n  app:\n    build: .\n    command: ["sleep", "600"]\n',
    );
    const containersBefore = await engine(['ps', '--all', '--quiet']);
    const r = await dc(['up', '--build', '--detach'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'docker compose up: building app failed (docker build exited 4; its output is above)',
    );
    const fenced = /::stop-commands::(\S+)\n([\s\S]*?)::\1::/.exec(r.stdout);
    expect(fenced?.[2]).toContain('\n  \\::error::from the build\n');
    // Nothing started, and no container of the failed build step left behind.
    expect(await engine(['ps', '--all', '--quiet'])).toBe(containersBefore);
  }, 120_000);

  it('without a PostgreSQL server here, leaves postgres out with a warning and starts its dependents, saying their condition is not met; --wait waits for an image healthcheck', async () => {
    const dir = join(work, 'nopg');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'compose.yaml'),
      [
        'services:',
        '  db:',
        '    image: postgres:16',
        '    healthcheck: { test: ["CMD", "pg_isready"], interval: 1s }',
        '  app:',
        '    build: .',
        '    depends_on: { db: { condition: service_healthy } }',
        '',
      ].join('\n'),
    );
    // The image's own healthcheck is what --wait waits for when the compose file has none.
    await writeFile(
      join(dir, 'Dockerfile'),
      'FROM busybox:1.36\nHEALTHCHECK --interval=1s CMD test -e /tmp\nCMD ["sleep", "600"]\n',
    );
    const noPostgres = { ...env, PLANNER_COMPOSE_PG_ROOT: join(work, 'no-postgresql-here') };
    try {
      const r = await runCommand('docker', ['compose', 'up', '--detach', '--wait'], {
        cwd: dir,
        env: noPostgres,
      });
      expect(r.stdout).toContain(
        '::warning::stand-in: db is NOT started: its image postgres:16 is not here and cannot be pulled',
      );
      expect(r.stdout).toContain(
        'no PostgreSQL server is installed here to stand in for it (apt-get install postgresql)',
      );
      expect(r.stdout).toContain(
        '::warning::stand-in: app depends on db (service_healthy), which is not running here (its image postgres:16 is not here and cannot be pulled): that condition is NOT met; starting app anyway',
      );
      expect(r.stderr).toContain('✔ app healthy');
      expect(r.stderr).toContain('not started: db (see the warnings above)');
      expect(r.code).toBe(0);
    } finally {
      await runCommand('docker', ['compose', 'down'], { cwd: dir, env: noPostgres });
    }
  }, 120_000);

  it('names the service that did not become healthy, quoting its last log lines as untrusted text', async () => {
    const dir = join(work, 'sick');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'compose.yaml'),
      [
        'services:',
        '  sick:',
        '    image: busybox:1.36',
        `    command: ["sh", "-c", "echo '::error::written by the container'; sleep 600"]`,
        '    healthcheck: { test: ["CMD", "false"], interval: 1s, retries: 2 }',
        '  needs-missing:',
        '    image: busybox:1.36',
        '    command: ["sleep", "600"]',
        '    depends_on: [missing]',
        '  missing:',
        '    image: planner-compose-test-absent:1',
        '',
      ].join('\n'),
    );
    try {
      const r = await dc(['up', '--detach', '--wait', '--wait-timeout', '60'], dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        '::warning::stand-in: missing is NOT started: its image planner-compose-test-absent:1 is not here and cannot be pulled',
      );
      expect(r.stdout).toContain(
        '::warning::stand-in: needs-missing depends on missing (service_started), which is not running here (its image planner-compose-test-absent:1 is not here and cannot be pulled): that condition is NOT met; starting needs-missing anyway',
      );
      expect(r.stderr).toContain('✘ sick: its healthcheck reports unhealthy');
      expect(r.stderr).toContain(
        'docker compose up --wait: sick did not become ready within 60s: its healthcheck reports unhealthy',
      );
      const fenced = /::stop-commands::(\S+)\n([\s\S]*?)::\1::/.exec(r.stdout);
      expect(fenced?.[2]).toBe('  sick | \\::error::written by the container\n');
    } finally {
      await dc(['down'], dir);
    }
  }, 120_000);
});
