/*
 * The fault matrix's bundled slice: the same scenarios and faults as fault-matrix.test.ts, but each step is the
 * BUILT dist (actions/<name>/dist) run through the runner harness as the GitHub runner runs it, so the bundles
 * are shown to behave as their sources do under faults. Fewer runs (each step is a node process): one per
 * scenario and fault draw, seeded like the matrix (FAULT_MATRIX_SEED). With a reachable dockerd (and the
 * registry), one more run builds and pushes through the sandbox's ECR front while it fails the first manifest
 * push (the registry push error); without docker that run is skipped with a notice, unless
 * PLANNER_DEPLOY_REQUIRE_DOCKER=1 (CI), where it must run.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import { registryUnavailableReason, startCloud, type Cloud } from '@planner-deploy/sandbox';
import { dockerUnavailable } from '../../actions/build-push/test/e2e/environment.js';
import { matrixSeed, prng } from './prng.js';
import {
  applyFaults,
  clearFaults,
  drawFaults,
  makeWorld,
  prepare,
  REPOSITORY,
  type FaultPlan,
  type Scenario,
  type World,
} from './scenarios.js';

const SEED = matrixSeed(process.env, 20261127);
const REQUIRE_DOCKER = process.env.PLANNER_DEPLOY_REQUIRE_DOCKER === '1';
const dockerReason = (await dockerUnavailable()) ?? registryUnavailableReason();
if (dockerReason !== undefined && !REQUIRE_DOCKER) {
  console.warn(`NOTICE: the fault matrix's registry push error run is SKIPPED: ${dockerReason}`);
}

let cloud: Cloud;
let world: World;
let runs = 0;
let pushErrors = 0;
const saved = { ...process.env };

beforeAll(async () => {
  if (dockerReason !== undefined && REQUIRE_DOCKER)
    throw new Error(`PLANNER_DEPLOY_REQUIRE_DOCKER=1 but ${dockerReason}`);
  cloud = await startCloud({ timeScale: 0.02, registry: dockerReason === undefined ? 'auto' : 'none' });
  Object.assign(process.env, cloud.env());
  world = await makeWorld(cloud);
}, 60_000);

afterAll(async () => {
  console.log(
    `fault matrix (built dists): seed ${SEED}, ${runs} steps run under faults, push errors ${pushErrors}`,
  );
  process.env = saved;
  await cloud?.stop();
  if (world) await rm(world.workspace, { recursive: true, force: true });
});

function step(
  action: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<RunResult> {
  runs++;
  return runStep({
    action: `actions/${action}`,
    inputs,
    env: {
      ...cloud.env(),
      GITHUB_REPOSITORY: 'owner/repo',
      GITHUB_RUN_ID: '7777',
      GITHUB_RUN_ATTEMPT: '1',
      ...env,
    },
    limitMs: 120_000,
  });
}

/** The log as shown without step debug. */
const shown = (r: RunResult): string => r.lines.filter((l) => !l.startsWith('::debug::')).join('\n');

const kubeFaulted = (from: number, namespace: string) =>
  cloud.kube.requests.slice(from).filter((r) => r.namespace === namespace && r.fault !== undefined);

/** The faults served to Kubernetes since `from` in the namespace, each named in the log. */
function expectKubeFaultsNamed(log: string, from: number, namespace: string): void {
  const kinds = new Set(kubeFaulted(from, namespace).map((r) => r.fault));
  const missing = [...kinds].filter(
    (k) => !(k === 'error' ? /HTTP 5\d\d/ : k === 'throttle' ? /HTTP 429/ : /connection reset/).test(log),
  );
  const faulted = kubeFaulted(from, namespace).map(
    (r) => `${r.fault} on ${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`,
  );
  expect(missing.length === 0 ? [] : [...missing, `served: ${faulted.join('; ')}`, log]).toEqual([]);
}

const successfulWrites = (from: number, namespace: string, resource: string, verb: string) =>
  cloud.kube.requests
    .slice(from)
    .filter(
      (r) =>
        r.namespace === namespace &&
        r.resource === resource &&
        r.verb === verb &&
        !r.dryRun &&
        r.fault === undefined &&
        r.status >= 200 &&
        r.status < 300,
    ).length;

let id = 5000;
const draw = (scenario: Scenario): { id: number; faults: FaultPlan } => {
  const run = ++id;
  return { id: run, faults: drawFaults(prng(SEED ^ Math.imul(run, 0x85ebca6b)), scenario) };
};

describe(`fault matrix, built dists (seed ${SEED})`, () => {
  const twice = <T>(x: T): T[] => [x, x];

  test.each(twice('backup'))(`seed ${SEED}: rds-backup dist under RDS throttling (%s)`, async (scenario) => {
    const { id: run, faults } = draw(scenario as Scenario);
    const n = await prepare(world, 'backup', run);
    const from = cloud.aws.requests.length;
    applyFaults(world, faults);
    const r = await step('rds-backup', {
      'db-instance-identifier': n.db,
      'snapshot-identifier': n.snapshot,
      'poll-interval': '200ms',
      timeout: '60s',
    }).finally(() => clearFaults(world, 'rds'));
    expect({ exit: r.exitCode, snapshot: r.outputs['snapshot-identifier'] }).toEqual({
      exit: 0,
      snapshot: n.snapshot,
    });
    const rds = cloud.aws.requests.slice(from).filter((q) => q.service === 'rds');
    expect(rds.filter((q) => q.action === 'CreateDBSnapshot' && q.status === 200)).toHaveLength(1);
    expect(cloud.aws.rds.snapshots.filter((s) => s.sourceId === n.db)).toHaveLength(1);
    if (rds.some((q) => q.error === 'Throttling')) expect(shown(r)).toMatch(/RDS \w+: Throttling/);
  });

  test.each(['migration-ok', 'migration-failing'])(
    `seed ${SEED}: run-migration-job dist under Kubernetes faults (%s)`,
    async (scenario) => {
      const { id: run, faults } = draw(scenario as Scenario);
      const n = await prepare(world, scenario as Scenario, run);
      const from = cloud.kube.requests.length;
      applyFaults(world, faults);
      const ok = scenario === 'migration-ok';
      const r = await step(
        'run-migration-job',
        {
          namespace: n.namespace,
          deployment: 'planner-app',
          image: ok ? n.migrateOk : n.migrateBad,
          command: 'alembic upgrade head',
          timeout: '60s',
        },
        { GITHUB_SHA: n.sha },
      ).finally(() => clearFaults(world, 'kube'));
      expect({ exit: r.exitCode, status: r.outputs.status, code: r.outputs['exit-code'] }).toEqual(
        ok ? { exit: 0, status: 'succeeded', code: '0' } : { exit: 1, status: 'failed', code: '1' },
      );
      expect(successfulWrites(from, n.namespace, 'jobs', 'create')).toBe(1);
      expect(world.kube.store.list('jobs', n.namespace)).toHaveLength(1);
      if (!ok) expect(shown(r)).toContain(`job.batch/${r.outputs['job-name']} failed with exit code 1`);
      expectKubeFaultsNamed(shown(r), from, n.namespace);
    },
  );

  test.each(twice('good-deploy'))(
    `seed ${SEED}: rollout + verify-health dists under Kubernetes faults (%s)`,
    async (scenario) => {
      const { id: run, faults } = draw(scenario as Scenario);
      const n = await prepare(world, 'good-deploy', run);
      const from = cloud.kube.requests.length;
      applyFaults(world, faults);
      const r = await step('rollout', {
        namespace: n.namespace,
        deployments: 'planner-app',
        image: n.good,
        timeout: '60s',
      }).finally(() => clearFaults(world, 'kube'));
      expect({ exit: r.exitCode, previous: r.outputs['previous-revision'] }).toEqual({
        exit: 0,
        previous: '1',
      });
      expect(successfulWrites(from, n.namespace, 'deployments', 'patch')).toBe(1);
      expectKubeFaultsNamed(shown(r), from, n.namespace);
      const health = await step('verify-health', {
        urls: world.kube.appUrl(n.namespace, 'planner-app', '/health'),
        'expected-json': `version=v2-${n.env}`,
        interval: '200ms',
        timeout: '30s',
      });
      expect(health.exitCode).toBe(0);
    },
  );

  test.each(twice('broken-deploy'))(
    `seed ${SEED}: broken rollout, auto-rollback and verify-health dists under Kubernetes faults (%s)`,
    async (scenario) => {
      const { id: run, faults } = draw(scenario as Scenario);
      const n = await prepare(world, 'broken-deploy', run);
      const from = cloud.kube.requests.length;
      applyFaults(world, faults);
      try {
        const r = await step('rollout', {
          namespace: n.namespace,
          deployments: 'planner-app',
          image: n.broken,
          timeout: '60s',
        });
        expect({ exit: r.exitCode, previous: r.outputs['previous-revision'] }).toEqual({
          exit: 1,
          previous: '1',
        });
        expect(shown(r)).toContain('planner-app is at revision 2 (was 1); it was not rolled back');
        const back = await step('auto-rollback', {
          namespace: n.namespace,
          deployments: 'planner-app',
          'to-revision': r.outputs['previous-revision'] ?? '',
          timeout: '60s',
        });
        expect({
          exit: back.exitCode,
          rolled: back.outputs['rolled-back'],
          revision: back.outputs.revision,
        }).toEqual({
          exit: 0,
          rolled: 'true',
          revision: '3',
        });
        expectKubeFaultsNamed(`${shown(r)}\n${shown(back)}`, from, n.namespace);
      } finally {
        clearFaults(world, 'kube');
      }
      expect(successfulWrites(from, n.namespace, 'deployments', 'patch')).toBe(2);
      const health = await step('verify-health', {
        urls: world.kube.appUrl(n.namespace, 'planner-app', '/health'),
        'expected-json': 'version=v1.0.0',
        interval: '200ms',
        timeout: '30s',
      });
      expect(health.exitCode).toBe(0);
    },
  );

  test.each(twice('build-push-skip'))(
    `seed ${SEED}: build-push dist, image already in ECR, under ECR throttling (%s)`,
    async (scenario) => {
      const { id: run, faults } = draw(scenario as Scenario);
      const n = await prepare(world, 'build-push-skip', run);
      const from = cloud.aws.requests.length;
      applyFaults(world, faults);
      const r = await step(
        'build-push',
        { repository: REPOSITORY, environment: 'production', tags: `build-${n.env}`, cache: 'none' },
        { GITHUB_SHA: n.sha, GITHUB_WORKSPACE: world.workspace },
      ).finally(() => clearFaults(world, 'ecr'));
      expect({ exit: r.exitCode, built: r.outputs.built, digest: r.outputs.digest }).toEqual({
        exit: 0,
        built: 'false',
        digest: n.seededDigest,
      });
      const ecr = cloud.aws.requests.slice(from).filter((q) => q.service === 'ecr');
      if (ecr.some((q) => q.error === 'ThrottlingException'))
        expect(shown(r)).toMatch(/ECR \w+: ThrottlingException/);
    },
  );

  test.each(twice('release'))(
    `seed ${SEED}: create-release dist under GitHub 502s and rate limits (%s)`,
    async (scenario) => {
      const { id: run, faults } = draw(scenario as Scenario);
      const n = await prepare(world, 'release', run);
      const github = cloud.github!;
      const from = github.requests().length;
      applyFaults(world, faults);
      const r = await step(
        'create-release',
        { token: github.token, tag: n.tag, timeout: '60s' },
        { GITHUB_SHA: n.sha, GITHUB_SERVER_URL: 'https://github.com' },
      );
      expect({ exit: r.exitCode, tag: r.outputs['tag'] ?? n.tag }).toEqual({ exit: 0, tag: n.tag });
      expect(github.releases().filter((x) => x.tag_name === n.tag)).toHaveLength(1);
      const served = github.requests().slice(from);
      if (served.some((q) => q.status === 502)) expect(shown(r)).toMatch(/answered 502/);
      if (served.some((q) => q.status === 403)) expect(shown(r)).toMatch(/rate limit/i);
    },
  );

  const dockerTest = dockerReason === undefined || REQUIRE_DOCKER ? test : test.skip;
  dockerTest(
    `seed ${SEED}: build-push dist, a registry push error on the first manifest push`,
    async () => {
      const sha = `${(++id).toString(16).padStart(8, '0')}${'d'.repeat(32)}`;
      const ws = join(world.workspace, 'push');
      await mkdir(join(ws, 'app'), { recursive: true });
      await writeFile(join(ws, 'app', 'hello.txt'), `${sha}\n`);
      await writeFile(join(ws, 'app', 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
      cloud.aws.ecr.setFaults({ failPushes: 1 });
      const from = cloud.aws.requests.length;
      const r = await step(
        'build-push',
        { repository: REPOSITORY, environment: 'production', context: 'app', cache: 'none' },
        {
          GITHUB_SHA: sha,
          GITHUB_WORKSPACE: ws,
          DOCKER_CONFIG: join(world.workspace, 'docker-config'),
          ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
        },
      ).finally(() => cloud.aws.ecr.setFaults({ failPushes: 0 }));
      expect({ exit: r.exitCode, built: r.outputs.built }).toEqual({ exit: 0, built: 'true' });
      pushErrors++;
      // The registry's 503 (docker prints it) and the action's retry line, naming the attempt.
      expect(shown(r)).toMatch(/503 Service Unavailable/);
      expect(shown(r)).toMatch(
        /docker push failed \(attempt 1 of \d+\): received unexpected HTTP status: 503 Service Unavailable\. This looks transient; trying again/,
      );
      expect(cloud.aws.requests.slice(from).filter((q) => q.service === 'ecr').length).toBeGreaterThan(0);
    },
    120_000,
  );
});
