// The fixture Planner app (examples/planner-app) is what the example workflows expect of an app, and stays in
// step with them: its .github/workflows are the examples themselves (symlinks, so they cannot drift), every
// example workflow has act event files whose refs and inputs its triggers accept, the smoke-tests file is valid
// for verify-health, the server answers the health contract, and — with a Docker engine — the production
// image built with GIT_SHA reports that commit, also through the sandbox's registry and apps endpoint.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { parseSmokeTests } from '../actions/verify-health/src/smoke-tests.js';
import {
  createDeployment,
  dockerUnavailableReason,
  ensureBusyboxBase,
  startCloud,
  waitForDeploymentReady,
  type Cloud,
} from '@planner-deploy/sandbox';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const app = join(root, 'examples/planner-app');
const examples = join(root, 'examples/workflows');
const events = join(root, 'examples/events');
/** The one example that is not the app's own pipeline: the alternative to cd-staging.yml for other repositories. */
const NOT_IN_APP = ['deploy-with-reusable.yml'];

type Json = Record<string, any>;
const load = (path: string): Json => parse(readFileSync(path, 'utf8')) as Json;

/**
 * GitHub's branch and tag filter patterns (`*` within a path segment, `**` across them), enough for the
 * examples' filters. Written here: the filter syntax is GitHub's, no kept library implements it.
 */
function filterMatches(pattern: string, name: string): boolean {
  const source = pattern
    .split(/(\*\*|\*)/)
    .map((part) =>
      part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`).test(name);
}

describe('the fixture app carries the example workflows', () => {
  const shipped = readdirSync(examples).filter((f) => f.endsWith('.yml'));
  const inApp = readdirSync(join(app, '.github/workflows'));

  it('as symlinks to examples/workflows, every example but the reusable caller', () => {
    expect(inApp.sort()).toEqual(shipped.filter((f) => !NOT_IN_APP.includes(f)).sort());
    for (const file of inApp) {
      const path = join(app, '.github/workflows', file);
      expect(lstatSync(path).isSymbolicLink()).toBe(true);
      expect(readlinkSync(path)).toBe(`../../../workflows/${file}`);
      expect(realpathSync(path)).toBe(realpathSync(join(examples, file)));
    }
  });

  it('whose local reusable workflows exist in the app', () => {
    for (const file of inApp) {
      for (const [id, job] of Object.entries<Json>(load(join(app, '.github/workflows', file)).jobs)) {
        if (typeof job.uses !== 'string' || !job.uses.startsWith('./')) continue;
        const called = load(join(app, job.uses));
        expect([file, id, called.on && 'workflow_call' in called.on]).toEqual([file, id, true]);
      }
    }
  });

  it('and the smoke-tests file cd-production and deploy-manual name is valid for verify-health', async () => {
    for (const file of ['cd-production.yml', 'deploy-manual.yml']) {
      const steps: Json[] = load(join(examples, file)).jobs.deploy.steps;
      const health = steps.find((s) => String(s.uses).includes('verify-health'));
      expect(health?.with['smoke-tests']).toBe('.github/smoke-tests.yml');
    }
    const text = readFileSync(join(app, '.github/smoke-tests.yml'), 'utf8');
    const checks = await parseSmokeTests(
      text,
      '.github/smoke-tests.yml',
      new URL('https://planner.example.com/health'),
    );
    expect(checks.map((c) => c.url.href)).toEqual([
      'https://planner.example.com/api/health',
      'https://planner.example.com/',
    ]);
    // Under a path prefix (the sandbox's apps endpoint) the checks stay under it.
    const prefixed = await parseSmokeTests(
      text,
      'x',
      new URL('http://127.0.0.1:1/_sandbox/apps/ns/app/health'),
    );
    expect(prefixed[0]?.url.pathname).toBe('/_sandbox/apps/ns/app/api/health');
  });
});

describe('act event files (examples/events)', () => {
  const files = readdirSync(events).filter((f) => f.endsWith('.json'));

  it('exist for every example workflow, named <workflow>.<case>.json', () => {
    const workflows = readdirSync(examples)
      .filter((f) => f.endsWith('.yml'))
      .map((f) => f.replace(/\.yml$/, ''));
    for (const workflow of workflows) {
      expect([workflow, files.some((f) => f.startsWith(`${workflow}.`))]).toEqual([workflow, true]);
    }
    for (const file of files) expect(workflows).toContain(file.split('.')[0]);
  });

  it.each(files)('%s is an event its workflow accepts', (file) => {
    const workflow = load(join(examples, `${file.split('.')[0]}.yml`));
    const event = JSON.parse(readFileSync(join(events, file), 'utf8')) as Json;
    if (event.pull_request) {
      expect(workflow.on.pull_request.branches).toContain(event.pull_request.base.ref);
    } else if (event.inputs) {
      const declared: Json = workflow.on.workflow_dispatch.inputs;
      expect(Object.keys(event.inputs).sort()).toEqual(Object.keys(declared).sort());
      for (const [name, value] of Object.entries<string>(event.inputs)) {
        if (declared[name].type === 'choice') expect(declared[name].options).toContain(value);
        if (declared[name].type === 'boolean') expect(['true', 'false']).toContain(value);
      }
    } else {
      const push: Json = workflow.on.push;
      const [, kind, name] = /^refs\/(heads|tags)\/(.+)$/.exec(event.ref) ?? [];
      const patterns: string[] = (kind === 'tags' ? push.tags : push.branches) ?? [];
      expect([event.ref, patterns.some((p) => filterMatches(p, name!))]).toEqual([event.ref, true]);
      expect(event.after).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it('the hotfix case deploys the tag build-hotfix makes of the hotfix push', () => {
    const push = JSON.parse(readFileSync(join(events, 'build-hotfix.push.json'), 'utf8')) as Json;
    const dispatch = JSON.parse(readFileSync(join(events, 'deploy-manual.hotfix.json'), 'utf8')) as Json;
    const script: string = load(join(examples, 'build-hotfix.yml')).jobs.build.steps.find(
      (s: Json) => s.id === 'tag',
    ).run;
    expect(script).toContain('hotfix-${GITHUB_SHA::7}');
    expect(dispatch.inputs.image_tag).toBe(`hotfix-${String(push.after).slice(0, 7)}`);
  });
});

/** One request through the app's handler, as `nc -ll -e` runs it. */
function request(line: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [join(app, 'backend/bin/planner-http')], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
    child.stdin.end(`${line}\r\nHost: planner\r\n\r\n`);
  });
}

describe('the app answers the health contract (docs/health-contract.md)', () => {
  it.each(['/health', '/api/health'])('GET %s → 200 with the baked-in version', async (path) => {
    const sha = '0123456789abcdef0123456789abcdef01234567';
    const raw = await request(`GET ${path} HTTP/1.1`, { APP_VERSION: sha, APP_ENV: 'staging' });
    const [head, body] = raw.split('\r\n\r\n');
    expect(head?.split('\r\n')[0]).toBe('HTTP/1.0 200 OK');
    expect(head).toContain('Content-Type: application/json');
    expect(JSON.parse(body ?? '')).toEqual({ status: 'ok', version: sha, environment: 'staging' });
  });

  it('an unknown path is 404, not a healthy answer', async () => {
    expect((await request('GET /healthz HTTP/1.1', {})).split('\r\n')[0]).toBe('HTTP/1.0 404 Not Found');
  });
});

const dockerReason =
  process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1' ? undefined : await dockerUnavailableReason();
if (dockerReason !== undefined) console.warn(`NOTICE: the fixture image tests are SKIPPED: ${dockerReason}`);
const withDocker = dockerReason === undefined ? describe : describe.skip;

withDocker('the fixture image (docker build, legacy builder)', () => {
  const sha = 'feedfacefeedfacefeedfacefeedfacefeedface';
  const tag = `planner-fixture:${sha.slice(0, 12)}-${process.pid}`;
  let cloud: Cloud;
  let dockerConfig: string;
  /** docker with a private DOCKER_CONFIG, so the test's login does not touch the user's. */
  const docker = (args: string[]) =>
    run('docker', args, { env: { ...process.env, DOCKER_CONFIG: dockerConfig } });

  beforeAll(async () => {
    dockerConfig = await mkdtemp(join(tmpdir(), 'planner-fixture-docker-'));
    await ensureBusyboxBase();
    cloud = await startCloud({ registry: 'auto', timeScale: 0.01, github: false });
  }, 120_000);

  afterAll(async () => {
    await cloud?.stop();
    await docker(['image', 'rm', '--force', tag]).catch(() => undefined);
    await rm(dockerConfig, { recursive: true, force: true });
  });

  it('the production target refuses to build without the commit', async () => {
    const build = docker(['build', '--target', 'production', '--tag', `${tag}-bad`, app]);
    await expect(build).rejects.toThrow(/GIT_SHA must be the full commit SHA/);
  }, 120_000);

  it('built with GIT_SHA, it serves that version; pushed, the sandbox reports the same', async () => {
    await docker(['build', '--target', 'production', '--build-arg', `GIT_SHA=${sha}`, '--tag', tag, app]);
    const { stdout: config } = await docker(['image', 'inspect', '--format', '{{json .Config.Env}}', tag]);
    expect(JSON.parse(config)).toContain(`APP_VERSION=${sha}`);

    // The image really serves it: its own server, asked from inside the container (no network here).
    const { stdout: id } = await docker(['run', '--detach', '--network', 'none', tag]);
    try {
      let body = '';
      for (let attempt = 0; attempt < 50 && body === ''; attempt += 1) {
        body = await docker(['exec', id.trim(), 'wget', '-qO-', 'http://127.0.0.1:8000/api/health'])
          .then((r) => r.stdout)
          .catch(() => '');
        if (body === '') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(JSON.parse(body)).toEqual({ status: 'ok', version: sha, environment: 'production' });
    } finally {
      await docker(['rm', '--force', id.trim()]);
    }

    // Pushed to the sandbox's ECR (a real registry behind it), a Deployment of it reports that commit.
    const ecr = cloud.aws.ecr;
    ecr.createRepository('planner-app');
    const remote = `${ecr.registryHost}/planner-app:${sha}`;
    await docker(['tag', tag, remote]);
    const login = spawn(
      'docker',
      ['login', ecr.registryHost, '--username', ecr.username, '--password-stdin'],
      {
        env: { ...process.env, DOCKER_CONFIG: dockerConfig },
      },
    );
    let loginOutput = '';
    login.stdout.on('data', (chunk: Buffer) => (loginOutput += chunk.toString()));
    login.stderr.on('data', (chunk: Buffer) => (loginOutput += chunk.toString()));
    login.stdin.end(ecr.password);
    const code = await new Promise((resolve) => login.on('close', resolve));
    expect([code, loginOutput]).toEqual([0, expect.stringContaining('Login Succeeded')]);
    await docker(['push', remote]);
    await docker(['image', 'rm', remote]);
    createDeployment(cloud.kube, { name: 'planner-app', namespace: 'fixture', image: remote });
    await waitForDeploymentReady(cloud.kube, 'planner-app', 'fixture');
    const res = await fetch(cloud.kube.appUrl('fixture', 'planner-app', '/health'));
    expect(((await res.json()) as Json)['version']).toBe(sha);
  }, 180_000);
});
