// A job's `services:` in `pnpm workflow` (docs/workflow-runner.md, "Job services"): their definitions read and
// refused where they cannot run; without a Docker engine (or the image) PostgreSQL and Redis run as local
// stand-ins the steps connect to; with an engine (DOCKER_HOST) a locally built image runs as a container; in
// every case they are gone after the job, a failed one too, and one that never becomes healthy fails the job.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerUnavailableReason, ensureBusyboxBase } from '@planner-deploy/sandbox';
import { portFree } from '../tool-stand-ins/local-servers.mjs';
import { parseOptions, readServices, splitOptions } from '../src/workflow/services.js';
import { loadWorkflow, runWorkflow, type RunRecord, type WorkflowRunOptions } from '../src/workflow/index.js';
import { tokenAt } from '../src/workflow/load.js';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(import.meta.dirname, 'fixtures', 'workflows');

async function run(file: string, options: Partial<WorkflowRunOptions> = {}): Promise<RunRecord> {
  const workDir = await mkdtemp(join(tmpdir(), 'services-test-'));
  try {
    return await runWorkflow({
      file: file.startsWith('/') ? file : join(fixtures, file),
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

const steps = (r: RunRecord) => r.jobs.flatMap((j) => j.steps);
const outcomes = (r: RunRecord): string[] => steps(r).map((s) => `${s.name}: ${s.outcome}`);
const stepNamed = (r: RunRecord, name: string) => {
  const found = steps(r).find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name} in ${outcomes(r).join(', ')}`);
  return found;
};

/** A job's services read from a workflow text (written to a temp file, parsed by GitHub's parser). */
async function servicesOf(yaml: string, secrets: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'services-unit-'));
  try {
    const file = join(dir, 'w.yml');
    await writeFile(file, yaml);
    const workflow = await loadWorkflow(file, dir);
    return readServices(tokenAt(workflow.root, 'jobs', 'j'), { secrets, github: {}, vars: {} });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
const job = (services: string) =>
  `on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    services:\n${services}\n    steps:\n      - run: true\n`;

describe('service definitions', () => {
  it("reads ci.yml's backend services: image, env, ports, the health flags of options", async () => {
    const [postgres, redis] = await servicesOf(
      job(
        [
          '      postgres:',
          '        image: postgres:16',
          "        env: { POSTGRES_USER: planner, POSTGRES_PASSWORD: '${{ secrets.PW }}' }",
          "        ports: ['5432:5432']",
          '        options: >-',
          '          --health-cmd "pg_isready -U planner" --health-interval 5s --health-timeout 5s --health-retries 10',
          '      redis: redis:7',
        ].join('\n'),
      ),
      { PW: 's3cret' },
    );
    expect(postgres).toEqual({
      id: 'postgres',
      image: 'postgres:16',
      env: { POSTGRES_USER: 'planner', POSTGRES_PASSWORD: 's3cret' },
      ports: [5432],
      health: {
        cmd: 'pg_isready -U planner',
        interval: '5s',
        timeout: '5s',
        startPeriod: '0s',
        retries: 10,
        none: false,
      },
    });
    expect(redis).toMatchObject({ id: 'redis', image: 'redis:7', ports: [], env: {} });
    expect(redis?.health.cmd).toBeUndefined();
  });

  it('splits options as the shell would for docker', () => {
    expect(splitOptions(`--health-cmd "redis-cli -a \\"x y\\" ping" --health-cmd='a b' c\\ d`, 'o')).toEqual([
      '--health-cmd',
      'redis-cli -a "x y" ping',
      '--health-cmd=a b',
      'c d',
    ]);
    expect(() => splitOptions('--health-cmd "pg_isready', 'services.db.options')).toThrow(
      `services.db.options: unterminated " in '--health-cmd "pg_isready'`,
    );
  });

  it('refuses options other than the health flags, naming the option and what is supported', () => {
    expect(() => parseOptions('--health-cmd true --network other', 'services.db.options')).toThrow(
      "services.db.options: '--network' is not supported by pnpm workflow's job services (supported: --health-cmd, --health-interval, --health-timeout, --health-start-period, --health-retries, --no-healthcheck; the container runs with --network host)",
    );
    expect(() => parseOptions('--health-retries many', 'services.db.options')).toThrow(
      "services.db.options: --health-retries must be a whole number, got 'many'",
    );
    expect(() => parseOptions('--health-interval 5', 'services.db.options')).toThrow(
      "services.db.options: --health-interval must be a duration (like 5s, 1m30s, 500ms), got '5'",
    );
    expect(() => parseOptions('--health-cmd', 'services.db.options')).toThrow(
      'services.db.options: --health-cmd needs a value',
    );
  });

  it('refuses a host port other than the container port (host networking), and keys it does not support', async () => {
    await expect(
      servicesOf(job("      db:\n        image: postgres:16\n        ports: ['15432:5432']")),
    ).rejects.toThrow(
      "services.db.ports: '15432:5432' maps container port 5432 to host port 15432; pnpm workflow runs service containers with host networking (CI's dockerd has no bridge network), so the two must be equal (write '5432:5432')",
    );
    await expect(
      servicesOf(job('      db:\n        image: postgres:16\n        volumes: [/data:/var/lib/postgresql]')),
    ).rejects.toThrow(
      "services.db: key 'volumes' is not supported by pnpm workflow's job services (supported: image, env, ports, options, credentials)",
    );
  });

  it('fails the job before its steps when a service is refused, saying why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'services-bad-'));
    try {
      await writeFile(
        join(dir, 'bad.yml'),
        job('      db:\n        image: postgres:16\n        options: --cpus 2').replace(
          'run: true',
          'run: echo ran',
        ),
      );
      const r = await run(join(dir, 'bad.yml'));
      expect(r.conclusion).toBe('failure');
      expect(outcomes(r)).toEqual(['Start services: failure', 'Run echo ran: skipped']);
      expect(stepNamed(r, 'Start services').error).toBe(
        "services.db.options: '--cpus' is not supported by pnpm workflow's job services (supported: --health-cmd, --health-interval, --health-timeout, --health-start-period, --health-retries, --no-healthcheck; the container runs with --network host)",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Runs a workflow in a runner process of its own (vars.MARKER: a file its step writes once it reached its
 * service), waits for the marker, checks `whileRunning`, sends the runner SIGTERM; resolves the marker's text
 * and the signal that ended the runner.
 */
async function runThenStop(
  file: string,
  dir: string,
  env: Record<string, string>,
  whileRunning: () => Promise<void>,
): Promise<{ marker: string; signal: NodeJS.Signals | null }> {
  const marker = join(dir, 'marker');
  const script = join(dir, 'run.mjs');
  await writeFile(
    script,
    [
      `import { runWorkflow } from ${JSON.stringify(join(root, 'packages/runner-harness/src/workflow/index.ts'))};`,
      'await runWorkflow({',
      `  file: ${JSON.stringify(file)},`,
      `  repoRoot: ${JSON.stringify(root)}, fixture: ${JSON.stringify(join(root, 'examples', 'planner-app'))},`,
      `  awsEnv: {}, awsAccountId: '123456789012', workDir: ${JSON.stringify(join(dir, 'work'))},`,
      `  vars: { MARKER: ${JSON.stringify(marker)} },`,
      '});',
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      join(root, 'scripts/ts-register.mjs'),
      '--experimental-transform-types',
      '--no-warnings',
      script,
    ],
    { stdio: 'ignore', env: { ...process.env, ...env } },
  );
  const ended = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  const text = async (): Promise<string> =>
    existsSync(marker) ? (await readFile(marker, 'utf8')).trim() : '';
  for (let i = 0; i < 600 && (await text()) === ''; i++) await new Promise((r) => setTimeout(r, 100));
  await whileRunning();
  child.kill('SIGTERM');
  return { marker: await text(), signal: await ended };
}

const postgresHere = ['15', '16', '17'].some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`));
const redisHere = existsSync('/usr/bin/redis-server') && existsSync('/usr/bin/redis-cli');
const standInsHere = postgresHere && redisHere;
if (!standInsHere)
  console.warn(
    "services.test: the stand-in tests are skipped: install Debian's postgresql and redis-server (.ci/run does)",
  );
// Without DOCKER_HOST the engine path is not taken: the machine's default socket may belong to someone else.
const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

describe('without a Docker engine: the local stand-ins', () => {
  const itStandIn = standInsHere || process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1' ? it : it.skip;
  const saved = process.env['DOCKER_HOST'];
  beforeAll(() => {
    process.env['DOCKER_HOST'] = noEngine.DOCKER_HOST;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env['DOCKER_HOST'];
    else process.env['DOCKER_HOST'] = saved;
  });

  itStandIn(
    'runs PostgreSQL and Redis on their ports; the steps connect; they are gone after the job',
    async () => {
      const r = await run('services.yml', { secrets: { DB_PASSWORD: 'pw-of-the-test' } });
      expect(outcomes(r)).toEqual([
        'Start service postgres: success',
        'Start service redis: success',
        'Query PostgreSQL: success',
        'Ping Redis: success',
        'Context: success',
        'Stop service redis: success',
        'Stop service postgres: success',
      ]);
      expect(r.conclusion).toBe('success');
      const start = stepNamed(r, 'Start service postgres');
      expect(start.annotations).toEqual([
        {
          level: 'warning',
          message: expect.stringMatching(
            /^stand-in: no Docker engine answers here .*; service postgres runs as a throwaway PostgreSQL \d+ cluster of this machine on 127\.0\.0\.1:55432 instead$/,
          ),
        },
      ]);
      expect(start.lines).toContain('postgres is healthy');
      expect(stepNamed(r, 'Start service redis').annotations[0]?.message).toMatch(
        /service redis runs as this machine's redis-server \(in memory\) on 127\.0\.0\.1:56379 instead$/,
      );
      expect(stepNamed(r, 'Query PostgreSQL').lines).toEqual(['planner in planner_test']);
      expect(stepNamed(r, 'Ping Redis').lines).toEqual(['PONG']);
      expect(stepNamed(r, 'Context').lines).toEqual(['network=host ports=56379']);
      expect(await portFree(55432)).toBe(true);
      expect(await portFree(56379)).toBe(true);
    },
  );

  itStandIn('removes the services after a failed step too', async () => {
    const r = await run('services-failing.yml');
    expect(r.conclusion).toBe('failure');
    expect(outcomes(r)).toEqual([
      'Start service cache: success',
      'Run redis-cli -p 56380 set key value: success',
      'Run exit 4: failure',
      'Run echo never: skipped',
      'Stop service cache: success',
    ]);
    expect(await portFree(56380)).toBe(true);
  });

  itStandIn(
    'fails the job when a service never becomes healthy, quoting its last log lines as untrusted text',
    async () => {
      const r = await run('services-unhealthy.yml');
      expect(r.conclusion).toBe('failure');
      expect(outcomes(r)).toEqual([
        'Start service cache: failure',
        'Run echo never: skipped',
        'Stop service cache: success',
      ]);
      const start = stepNamed(r, 'Start service cache');
      expect(start.error).toMatch(
        /^service cache did not become healthy: its health command kept failing \(2 times; last output: '\\::error::from the health command'\)\nits last log lines:\n {2}cache \| /,
      );
      expect(start.error).toMatch(/cache \| .*Ready to accept connections/);
      // The health command's output is text, not a command: the only error is the runner's own.
      expect(start.annotations.map((a) => a.level)).toEqual(['warning', 'error']);
      const quoted = start.lines.filter((l) => l.startsWith('  cache | '));
      expect(quoted.length).toBeGreaterThan(0);
      expect(start.lines).toContain(
        `  its last ${quoted.length} log lines (text from the service, not the runner's):`,
      );
      expect(await portFree(56381)).toBe(true);
    },
  );

  itStandIn('a health command that outlives --health-timeout counts as failed, and is killed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'services-timeout-'));
    try {
      await writeFile(
        join(dir, 'w.yml'),
        job(
          [
            '      cache:',
            '        image: redis:7',
            "        ports: ['56383:56383']",
            '        options: --health-cmd "sleep 30" --health-timeout 300ms --health-interval 100ms --health-retries 1',
          ].join('\n'),
        ),
      );
      const r = await run(join(dir, 'w.yml'));
      expect(outcomes(r)).toEqual([
        'Start service cache: failure',
        'Run true: skipped',
        'Stop service cache: success',
      ]);
      expect(stepNamed(r, 'Start service cache').error).toMatch(
        /^service cache did not become healthy: its health command kept failing \(1 times; last output: '\(timed out after 300 ms\)'\)/,
      );
      expect(await portFree(56383)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  itStandIn(
    'removes the services when the runner itself is stopped (SIGTERM) mid-job',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'services-stopped-'));
      try {
        const stopped = await runThenStop(
          join(fixtures, 'services-interrupted.yml'),
          dir,
          { DOCKER_HOST: noEngine.DOCKER_HOST },
          async () => expect(await portFree(56382)).toBe(false),
        );
        expect(stopped).toEqual({ marker: 'PONG', signal: 'SIGTERM' });
        for (let i = 0; i < 50 && !(await portFree(56382)); i++) await new Promise((r) => setTimeout(r, 100));
        expect(await portFree(56382)).toBe(true);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );

  it('a service with no stand-in is not started, with a warning; the job runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'services-none-'));
    try {
      await writeFile(
        join(dir, 'w.yml'),
        job('      mq:\n        image: rabbitmq:3').replace('run: true', 'run: echo ran'),
      );
      const r = await run(join(dir, 'w.yml'));
      expect(r.conclusion).toBe('success');
      expect(outcomes(r)).toEqual(['Start service mq: skipped', 'Run echo ran: success']);
      expect(stepNamed(r, 'Start service mq').annotations).toEqual([
        {
          level: 'warning',
          message: expect.stringMatching(
            /^service mq \(rabbitmq:3\) is NOT started: no Docker engine answers here/,
          ),
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function docker(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile('docker', args, { timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` }),
    ),
  );
}

// The engine path needs DOCKER_HOST (a private dockerd: .ci/run starts one); PLANNER_DEPLOY_REQUIRE_DOCKER=1
// forbids skipping.
const withEngine = process.env['DOCKER_HOST'] || process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1';
if (!withEngine) console.warn('services.test: the Docker engine tests are skipped: DOCKER_HOST is not set');

describe('with a Docker engine: a container on the host network', () => {
  const itEngine = withEngine ? it : it.skip;
  const image = 'planner-deploy-service-test:1';
  beforeAll(async () => {
    if (!withEngine) return;
    const why = await dockerUnavailableReason();
    if (why) throw new Error(`no Docker engine for the engine tests: ${why}`);
    const base = await ensureBusyboxBase();
    const dir = await mkdtemp(join(tmpdir(), 'services-image-'));
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        `FROM ${base}`,
        'RUN mkdir -p /www && echo "served from the service container" > /www/index.html',
        'CMD ["httpd", "-f", "-p", "127.0.0.1:58080", "-h", "/www"]',
        '',
      ].join('\n'),
    );
    const built = await docker(['build', '--quiet', '--tag', image, dir]);
    await rm(dir, { recursive: true, force: true });
    if (built.code !== 0) throw new Error(`docker build failed: ${built.out}`);
  }, 180_000);

  itEngine(
    'runs the local image, waits until healthy, fills job.services, and removes it after the job',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'services-engine-'));
      try {
        await writeFile(
          join(dir, 'w.yml'),
          [
            'on: push',
            'jobs:',
            '  j:',
            '    runs-on: ubuntu-latest',
            '    services:',
            '      web:',
            `        image: ${image}`,
            "        ports: ['58080:58080']",
            '        env: { GREETING: hello }',
            '        options: --health-cmd "wget -q -O- http://127.0.0.1:58080/" --health-interval 1s --health-retries 20',
            '    steps:',
            "      - run: curl -fsS http://127.0.0.1:${{ job.services.web.ports['58080'] }}/",
            '      - run: docker inspect --format "{{.HostConfig.NetworkMode}} {{.Config.Env}}" ${{ job.services.web.id }}',
            '      - run: exit 3',
            '',
          ].join('\n'),
        );
        const r = await run(join(dir, 'w.yml'));
        expect(outcomes(r).map((o) => o.replace(/ [0-9a-f]{64}/, ' <id>'))).toEqual([
          'Start service web: success',
          "Run curl -fsS http://127.0.0.1:${{ job.services.web.ports['58080'] }}/: success",
          'Run docker inspect --format "{{.HostConfig.NetworkMode}} {{.Config.Env}}" ${{ job.services.web.id }}: success',
          'Run exit 3: failure',
          'Stop service web: success',
        ]);
        expect(steps(r)[0]?.annotations).toEqual([]);
        expect(steps(r)[0]?.lines).toContain('web is healthy');
        expect(steps(r)[1]?.lines).toEqual(['served from the service container']);
        expect(steps(r)[2]?.lines[0]).toMatch(/^host \[GREETING=hello /);
        const left = await docker([
          'ps',
          '--all',
          '--quiet',
          '--filter',
          'label=io.planner-deploy.workflow.service',
        ]);
        expect(left.out.trim()).toBe('');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );

  (withEngine && standInsHere ? it : it.skip)(
    'an image the engine cannot have (no registry here) runs as its stand-in, saying why',
    async () => {
      const r = await run('services-failing.yml');
      expect(outcomes(r)).toEqual([
        'Start service cache: success',
        'Run redis-cli -p 56380 set key value: success',
        'Run exit 4: failure',
        'Run echo never: skipped',
        'Stop service cache: success',
      ]);
      expect(steps(r)[0]?.annotations[0]?.message).toMatch(
        /^stand-in: the image redis:7 is not here and cannot be pulled \(.+\); service cache runs as this machine's redis-server \(in memory\) on 127\.0\.0\.1:56380 instead$/,
      );
      expect(await portFree(56380)).toBe(true);
    },
    120_000,
  );

  itEngine(
    'removes the container when the runner itself is stopped (SIGTERM) mid-job',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'services-engine-stopped-'));
      try {
        await writeFile(
          join(dir, 'w.yml'),
          job(
            [
              '      web:',
              `        image: ${image}`,
              "        ports: ['58080:58080']",
              '        options: --health-cmd "wget -q -O- http://127.0.0.1:58080/" --health-interval 1s --health-retries 20',
            ].join('\n'),
          ).replace('run: true', 'run: curl -fsS http://127.0.0.1:58080/ > "${{ vars.MARKER }}"; sleep 15'),
        );
        const label = ['ps', '--all', '--quiet', '--filter', 'label=io.planner-deploy.workflow.service'];
        const stopped = await runThenStop(join(dir, 'w.yml'), dir, {}, async () =>
          expect((await docker(label)).out.trim()).not.toBe(''),
        );
        expect(stopped).toEqual({ marker: 'served from the service container', signal: 'SIGTERM' });
        expect((await docker(label)).out.trim()).toBe('');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );

  itEngine(
    'a container that never becomes healthy fails the job with its last log lines, and is removed',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'services-engine-'));
      try {
        await writeFile(
          join(dir, 'w.yml'),
          [
            'on: push',
            'jobs:',
            '  j:',
            '    runs-on: ubuntu-latest',
            '    services:',
            '      web:',
            `        image: ${image}`,
            '        options: --health-cmd "wget -q -O- http://127.0.0.1:1/" --health-interval 500ms --health-retries 2',
            '    steps:',
            '      - run: echo never',
            '',
          ].join('\n'),
        );
        const r = await run(join(dir, 'w.yml'));
        expect(r.conclusion).toBe('failure');
        expect(outcomes(r)).toEqual([
          'Start service web: failure',
          'Run echo never: skipped',
          'Stop service web: success',
        ]);
        expect(steps(r)[0]?.error).toMatch(
          /^service web did not become healthy: its health command kept failing/,
        );
        const left = await docker([
          'ps',
          '--all',
          '--quiet',
          '--filter',
          'label=io.planner-deploy.workflow.service',
        ]);
        expect(left.out.trim()).toBe('');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
