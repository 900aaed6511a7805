/*
 * Cancellation at a random point of every action (issue #8): each BUILT dist runs through the runner harness
 * while it waits on something slow (a snapshot that takes minutes, a long migration, a rollout whose pods are
 * slow to be ready, a health URL that keeps failing, a rollback rolling out slowly, a GitHub rate limit, ECR
 * throttling every request), and gets SIGINT after a seeded random delay (FAULT_MATRIX_SEED, printed). For
 * each: it exits non-zero within 7.5 s of the signal, its log says what it left, and the sandbox shows
 * exactly that state.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import {
  createDeployment,
  startCloud,
  waitForDeploymentReady,
  waitUntil,
  type Cloud,
} from '@planner-deploy/sandbox';
import { matrixSeed, prng } from './prng.js';

const SEED = matrixSeed(process.env, 20261127);
const rng = prng(SEED ^ 0x5eed);
/** The cancel points, ms after each step started, drawn from the seed (after the step has reached its wait). */
const AT = {
  backup: rng.int(1200, 3000),
  migration: rng.int(1200, 3000),
  rollout: rng.int(1500, 3000),
  health: rng.int(1000, 2500),
  rollback: rng.int(1500, 3000),
  release: rng.int(1200, 2500),
  build: rng.int(1000, 2000),
};

let cloud: Cloud;
let workspace: string;

beforeAll(async () => {
  console.log(`cancellation: seed ${SEED} (FAULT_MATRIX_SEED)`);
  cloud = await startCloud({ timeScale: 0.02, registry: 'none' });
  workspace = await mkdtemp(join(tmpdir(), 'fault-matrix-cancel-'));
  await writeFile(join(workspace, 'Dockerfile'), 'FROM scratch\n');
}, 60_000);

afterAll(async () => {
  await cloud?.stop();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

function step(
  action: string,
  inputs: Record<string, string>,
  cancelAfterMs: number,
  env: Record<string, string> = {},
): Promise<RunResult> {
  return runStep({
    action: `actions/${action}`,
    inputs,
    env: { ...cloud.env(), GITHUB_REPOSITORY: 'owner/repo', GITHUB_RUN_ID: '8888', ...env },
    cancel: { afterMs: cancelAfterMs },
    limitMs: 60_000,
  });
}

/** What every cancelled step must show: a non-zero exit within 7.5 s of SIGINT, and a Cancelled error. */
function expectCancelled(r: RunResult): string {
  const error = r.annotations.find((a) => a.level === 'error');
  expect({
    exitedNonZero: r.exitCode !== 0 && r.exitCode !== null,
    within7500: r.exitAfterCancelMs !== undefined && r.exitAfterCancelMs < 7500,
    title: error?.title,
  }).toEqual({ exitedNonZero: true, within7500: true, title: 'Cancelled' });
  return error?.message ?? '';
}

let n = 0;
const ns = (): string => `cancel-${++n}`;
const image = (tag: string): string => `registry.local/planner-app:${tag}`;

async function readyDeployment(namespace: string, tag: string): Promise<void> {
  if (!cloud.kube.store.get('namespaces', undefined, namespace))
    cloud.kube.store.create('namespaces', { metadata: { name: namespace } });
  createDeployment(cloud.kube, { name: 'planner-app', namespace, image: image(tag), replicas: 2 });
  await waitForDeploymentReady(cloud.kube, 'planner-app', namespace);
}

const deployedImage = (namespace: string): string | undefined =>
  (
    cloud.kube.store.get('deployments', namespace, 'planner-app')?.spec as
      { template: { spec: { containers: { image: string }[] } } } | undefined
  )?.template.spec.containers[0]?.image;

describe(`cancellation of every action (seed ${SEED})`, () => {
  test(`SIGINT at ${AT.backup} ms: rds-backup: the snapshot continues in RDS and the log says a re-run reuses it`, async () => {
    const db = 'planner-cancel-db';
    cloud.aws.rds.addInstance({ id: db, engine: 'postgres', engineVersion: '16.4', snapshotSeconds: 1000 });
    const r = await step(
      'rds-backup',
      { 'db-instance-identifier': db, 'snapshot-identifier': 'pre-deploy-cancel', 'poll-interval': '200ms' },
      AT.backup,
    );
    const message = expectCancelled(r);
    const snapshots = cloud.aws.rds.snapshots.filter((s) => s.sourceId === db);
    if (snapshots.length === 1) {
      expect(message).toMatch(/snapshot continues in RDS|it continues there/);
      expect(cloud.aws.rds.status(snapshots[0]!)).toBe('creating');
    } else {
      expect(snapshots).toHaveLength(0);
      expect(message).toContain('Cancelled while starting snapshot');
    }
  });

  test(`SIGINT at ${AT.migration} ms: run-migration-job: the Job is deleted (or was never created) and the log says which`, async () => {
    const namespace = ns();
    await readyDeployment(namespace, 'm1');
    cloud.kube.images.set(image('migrate-long'), {
      kind: 'exit',
      exitCode: 0,
      lines: ['INFO  Running upgrade 1a2b -> 3c4d'],
      after: 1_000_000,
    });
    const r = await step(
      'run-migration-job',
      { namespace, deployment: 'planner-app', image: image('migrate-long'), command: 'alembic upgrade head' },
      AT.migration,
      { GITHUB_SHA: 'c'.repeat(40) },
    );
    const message = expectCancelled(r);
    const created = cloud.kube.requests.some(
      (q) => q.namespace === namespace && q.resource === 'jobs' && q.verb === 'create' && q.status === 201,
    );
    if (created) {
      expect(message).toMatch(/job\.batch\/planner-app-migrate-[\w-]+ (was deleted|is being deleted)/);
      await waitUntil(
        'the Job to be gone',
        () => cloud.kube.store.list('jobs', namespace).length === 0,
        15_000,
      );
    } else {
      expect(cloud.kube.store.list('jobs', namespace)).toHaveLength(0);
    }
  });

  test(`SIGINT at ${AT.rollout} ms: rollout: the Deployment has the new image, and the log gives its revision and says it goes on`, async () => {
    const namespace = ns();
    await readyDeployment(namespace, 'r1');
    cloud.kube.images.set(image('r2-slow'), { kind: 'ready', after: 1_000_000 });
    const r = await step(
      'rollout',
      { namespace, deployments: 'planner-app', image: image('r2-slow') },
      AT.rollout,
    );
    const message = expectCancelled(r);
    if (deployedImage(namespace) === image('r2-slow')) {
      expect(message).toContain('planner-app is at revision 2 (was 1); it was not rolled back');
      expect(message).toContain('The rollout goes on in the cluster');
    } else {
      expect(deployedImage(namespace)).toBe(image('r1'));
    }
  });

  test(`SIGINT at ${AT.health} ms: verify-health: no verdict and nothing changed, said so`, async () => {
    const namespace = ns();
    cloud.kube.images.set(image('never'), { kind: 'never-ready' });
    if (!cloud.kube.store.get('namespaces', undefined, namespace))
      cloud.kube.store.create('namespaces', { metadata: { name: namespace } });
    createDeployment(cloud.kube, { name: 'planner-app', namespace, image: image('never'), replicas: 1 });
    const r = await step(
      'verify-health',
      { urls: cloud.kube.appUrl(namespace, 'planner-app', '/health'), interval: '200ms', timeout: '5m' },
      AT.health,
    );
    const message = expectCancelled(r);
    expect(message).toMatch(/no verdict/);
    expect(message).toContain('Nothing was changed');
  });

  test(`SIGINT at ${AT.rollback} ms: auto-rollback: the rollback is applied and goes on in the cluster, said so`, async () => {
    const namespace = ns();
    await readyDeployment(namespace, 'a1');
    const first = await runStep({
      action: 'actions/rollout',
      inputs: { namespace, deployments: 'planner-app', image: image('a2'), timeout: '60s' },
      env: cloud.env(),
    });
    expect(first.exitCode).toBe(0);
    // The old version is now slow to start: the rollback's rollout takes long.
    cloud.kube.images.set(image('a1'), { kind: 'ready', after: 1_000_000 });
    const r = await step(
      'auto-rollback',
      { namespace, deployments: 'planner-app', 'to-revision': first.outputs['previous-revision'] ?? '' },
      AT.rollback,
    );
    const message = expectCancelled(r);
    if (deployedImage(namespace) === image('a1')) {
      expect(message).toContain('Cancelled while the rollback rolled out');
      expect(message).toContain('The rollback goes on in the cluster');
    } else {
      expect(deployedImage(namespace)).toBe(image('a2'));
    }
  });

  test(`SIGINT at ${AT.release} ms: create-release: waiting out a rate limit, at worst a draft is left, said so`, async () => {
    const github = cloud.github!;
    github.inject({ rateLimitNext: 1, retryAfterSeconds: 120 });
    const r = await step('create-release', { token: github.token, tag: 'v9.9.9' }, AT.release, {
      GITHUB_SHA: 'e'.repeat(40),
      GITHUB_SERVER_URL: 'https://github.com',
    });
    const message = expectCancelled(r);
    expect(message).toContain('at worst a draft release is left, which a re-run adopts');
    expect(github.releases().filter((x) => x.tag_name === 'v9.9.9' && !x.draft)).toHaveLength(0);
    github.inject({ rateLimitNext: 0 });
  });

  test(`SIGINT at ${AT.build} ms: build-push (ECR path, throttled): nothing built, pushed or tagged, said so`, async () => {
    cloud.aws.ecr.setFaults({ throttle: 1 });
    const before = cloud.aws.requests.length;
    const r = await step(
      'build-push',
      { repository: 'planner-app', environment: 'production', cache: 'none' },
      AT.build,
      { GITHUB_SHA: 'f'.repeat(40), GITHUB_WORKSPACE: workspace },
    ).finally(() => cloud.aws.ecr.setFaults({ throttle: 0 }));
    const message = expectCancelled(r);
    expect(message).toContain('Cancelled before anything was built or pushed; no tag was changed.');
    const writes = cloud.aws.requests
      .slice(before)
      .filter(
        (q) => q.service === 'ecr' && ['PutImage', 'BatchDeleteImage'].includes(q.action) && q.status === 200,
      );
    expect(writes).toHaveLength(0);
  });
});
