// The pipeline's scenarios as examples/workflows/cd-production.yml runs them, each calling the actions' own
// logic (actions/<name>/src/run.ts with the Inputs its src/inputs.ts reads) in this process, against a sandbox
// cloud started once per test file. Every run gets its own namespace, Deployment and RDS instance, so runs
// never see each other's objects; faults are set before a run and cleared after it.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputEnvName, MemoryLogger, setInputSource, type Logger } from '@planner-deploy/action-kit';
import {
  createDeployment,
  waitForDeploymentReady,
  type Cloud,
  type EcrFaults,
  type FaultOptions,
  type GitHubFaults,
  type AwsRequestRecord,
  type KubeRequestRecord,
  type RdsFaults,
  type RecordedGitHubRequest,
  type Sandbox,
} from '@planner-deploy/sandbox';
import { readInputs as readBackupInputs } from '../../actions/rds-backup/src/inputs.js';
import { backupDatabase } from '../../actions/rds-backup/src/run.js';
import { readInputs as readMigrationInputs } from '../../actions/run-migration-job/src/inputs.js';
import { runMigration } from '../../actions/run-migration-job/src/run.js';
import { verdictError as migrationVerdict } from '../../actions/run-migration-job/src/report.js';
import { verdictError as rolloutVerdict } from '../../actions/rollout/src/report.js';
import { verdictError as rollbackVerdict } from '../../actions/auto-rollback/src/report.js';
import { readInputs as readRolloutInputs } from '../../actions/rollout/src/inputs.js';
import { rollout } from '../../actions/rollout/src/run.js';
import { readInputs as readHealthInputs } from '../../actions/verify-health/src/inputs.js';
import { verifyHealth } from '../../actions/verify-health/src/run.js';
import { readInputs as readRollbackInputs } from '../../actions/auto-rollback/src/inputs.js';
import { autoRollback } from '../../actions/auto-rollback/src/run.js';
import { readInputs as readBuildInputs } from '../../actions/build-push/src/inputs.js';
import { buildAndPush } from '../../actions/build-push/src/run.js';
import { readInputs as readReleaseInputs } from '../../actions/create-release/src/inputs.js';
import { createRelease, releaseApiOptions, type ApiFactory } from '../../actions/create-release/src/run.js';
import { createReleaseApi } from '../../actions/create-release/src/github-api.js';
import type { Prng } from './prng.js';

export const SCENARIOS = [
  'backup',
  'migration-ok',
  'migration-failing',
  'good-deploy',
  'broken-deploy',
  'build-push-skip',
  'release',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const REPOSITORY = 'planner-app';
const DEPLOYMENT = 'planner-app';

/** What a run ended with: the verdict and the key outputs a later step (or a person) reads. */
export interface Outcome {
  ok: boolean;
  keys: Record<string, string | number | boolean>;
}

/** What a run did, for the assertions beyond its outcome. */
export interface RunRecord {
  id: number;
  outcome: Outcome;
  /** The log as the runner shows it (debug lines left out). */
  log: string;
  /** With debug lines, for failure messages. */
  fullLog: string;
  /** AWS requests served while the run went on (other lanes' too: filter by service). */
  aws: AwsRequestRecord[];
  /** GitHub requests served while the run went on. */
  github: RecordedGitHubRequest[];
  /** Kubernetes requests of this run (its namespace). */
  kube: KubeRequestRecord[];
  /** Names the run used: namespace, database, snapshot, tag … */
  names: RunNames;
  error?: string;
}

export interface World {
  cloud: Cloud;
  /** The Kubernetes API of this world: the cloud's, or a second sandbox (a second Kubernetes lane). */
  kube: Sandbox;
  /** Inputs that point the Kubernetes actions at `kube` (none: KUBECONFIG from the environment). */
  kubeInputs: Record<string, string>;
  /** `<registry host>/planner-app` */
  repositoryUri: string;
  workspace: string;
}

export async function makeWorld(cloud: Cloud): Promise<World> {
  const workspace = await mkdtemp(join(tmpdir(), 'fault-matrix-'));
  await writeFile(join(workspace, 'Dockerfile'), 'FROM busybox\n');
  await cloud.aws.ecr.addImage(REPOSITORY, 'v1.0.0');
  return {
    cloud,
    kube: cloud.kube,
    kubeInputs: {},
    repositoryUri: `${cloud.aws.ecr.registryHost}/${REPOSITORY}`,
    workspace,
  };
}

/** The same world with another Kubernetes API, reached through the `kubeconfig` input (the secret's way). */
export async function withKube(world: World, kube: Sandbox): Promise<World> {
  return { ...world, kube, kubeInputs: { kubeconfig: await readFile(kube.kubeconfigPath, 'utf8') } };
}

/** Reads an action's inputs from a map, exactly as its main.ts reads them from INPUT_* variables. */
async function withInputs<T>(inputs: Record<string, string>, read: () => T | Promise<T>): Promise<T> {
  const source = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [inputEnvName(k), v]));
  const previous = setInputSource(source);
  try {
    return await read();
  } finally {
    setInputSource(previous);
  }
}

const never = new AbortController().signal;

/** What one run is called everywhere: its namespace, database, snapshot, images, commit and tag. */
export interface RunNames {
  env: string;
  namespace: string;
  db: string;
  snapshot: string;
  good: string;
  broken: string;
  migrateOk: string;
  migrateBad: string;
  old: string;
  sha: string;
  tag: string;
  /** build-push-skip: the digest of the image put into ECR before the run. */
  seededDigest?: string;
}

/** The per-run names: run n gets planner-fm<n> and planner-fm<n>-db. */
export function runNames(world: World, id: number): RunNames {
  const env = `fm${id}`;
  return {
    env,
    namespace: `planner-${env}`,
    db: `planner-${env}-db`,
    snapshot: `pre-deploy-${env}`,
    good: `${world.repositoryUri}:v2-${env}`,
    broken: `${world.repositoryUri}:broken-${env}`,
    migrateOk: `${world.repositoryUri}:migrate-ok-${env}`,
    migrateBad: `${world.repositoryUri}:migrate-bad-${env}`,
    old: `${world.repositoryUri}:v1.0.0`,
    sha: `${id.toString(16).padStart(8, '0')}${'f'.repeat(32)}`,
    tag: `v3.${id}.0`,
  };
}

/** Creates what the scenario starts from (fault-free): the Deployment ready, the DB, the ECR image, the images' behaviour. */
export async function prepare(world: World, scenario: Scenario, id: number): Promise<RunNames> {
  const n = runNames(world, id);
  const { aws } = world.cloud;
  const kube = world.kube;
  if (scenario === 'backup') {
    aws.rds.addInstance({ id: n.db, engine: 'postgres', engineVersion: '16.4', snapshotSeconds: 10 });
  } else if (scenario === 'build-push-skip') {
    n.seededDigest = (await aws.ecr.addImage(REPOSITORY, n.sha)).digest;
  } else if (scenario !== 'release') {
    if (!kube.store.get('namespaces', undefined, n.namespace))
      kube.store.create('namespaces', { metadata: { name: n.namespace } });
    createDeployment(kube, {
      name: DEPLOYMENT,
      namespace: n.namespace,
      image: n.old,
      replicas: 2,
      container: 'planner-app',
      env: [{ name: 'ENVIRONMENT', value: n.env }],
    });
    kube.images.set(n.migrateOk, {
      kind: 'exit',
      exitCode: 0,
      lines: ['INFO  [alembic.runtime.migration] Running upgrade 1a2b -> 3c4d, add tasks.due_date'],
    });
    kube.images.set(n.migrateBad, {
      kind: 'exit',
      exitCode: 1,
      lines: ['sqlalchemy.exc.ProgrammingError: column "due_date" already exists'],
    });
    kube.images.set(n.broken, { kind: 'missing' });
    await waitForDeploymentReady(kube, DEPLOYMENT, n.namespace);
  }
  return n;
}

/** Runs one scenario fault-free or not: the caller has set the faults. Never throws for a failed step. */
export async function runScenario(
  world: World,
  scenario: Scenario,
  id: number,
  prepared: RunNames,
): Promise<RunRecord> {
  const n = prepared;
  const logger = new MemoryLogger();
  const { aws, github } = world.cloud;
  const kube = world.kube;
  const from = {
    kube: kube.requests.length,
    aws: aws.requests.length,
    github: github?.requests().length ?? 0,
  };
  let outcome: Outcome;
  let error: string | undefined;
  try {
    outcome = await SCENARIO_RUNNERS[scenario](world, n, logger);
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    logger.error(`scenario threw: ${error}`);
    outcome = { ok: false, keys: { threw: error } };
  }
  return {
    id,
    outcome,
    // What the runner shows without step debug: info, warnings, errors (and the group titles).
    log: logger.entries
      .filter((e) => e.level !== 'debug')
      .map((e) => e.message)
      .join('\n'),
    fullLog: logger.text(),
    kube: kube.requests.slice(from.kube).filter((r) => r.namespace === n.namespace),
    aws: aws.requests.slice(from.aws),
    github: github?.requests().slice(from.github) ?? [],
    names: n,
    ...(error !== undefined ? { error } : {}),
  };
}

type Runner = (world: World, n: RunNames, logger: Logger) => Promise<Outcome>;

async function backup(world: World, n: RunNames, logger: Logger): Promise<Outcome> {
  const inputs = await withInputs(
    {
      'db-instance-identifier': n.db,
      'snapshot-identifier': n.snapshot,
      'poll-interval': '200ms',
      timeout: '60s',
    },
    () => readBackupInputs({ AWS_REGION: world.cloud.aws.region }),
  );
  const result = await backupDatabase(inputs, logger, never);
  return {
    ok: result.outcome === 'available',
    keys: { snapshot: result.snapshot.id, outcome: result.outcome },
  };
}

async function migrate(world: World, n: RunNames, image: string, logger: Logger): Promise<Outcome> {
  const inputs = await withInputs(
    {
      ...world.kubeInputs,
      namespace: n.namespace,
      deployment: DEPLOYMENT,
      image,
      command: 'alembic upgrade head',
      timeout: '60s',
    },
    () => readMigrationInputs(),
  );
  const report = await runMigration(inputs, { sha: n.sha, runId: '4242', runAttempt: '1' }, logger, never);
  const r = report.result;
  // What main.ts fails the step with (runAction prints it as the error).
  const failure = migrationVerdict(report);
  if (failure) logger.error(failure.message);
  return {
    ok: r.status === 'succeeded',
    keys: { status: r.status, exitCode: r.exitCode ?? '', job: report.jobName },
  };
}

async function deploy(world: World, n: RunNames, image: string, logger: Logger) {
  const inputs = await withInputs(
    {
      ...world.kubeInputs,
      namespace: n.namespace,
      deployments: DEPLOYMENT,
      image,
      timeout: '60s',
      'ready-grace': '2s',
    },
    () => readRolloutInputs(),
  );
  const report = await rollout(inputs, {}, logger, never);
  const failure = rolloutVerdict(report);
  if (failure) logger.error(failure.message);
  const d = report.deployments[0];
  if (d === undefined) throw new Error('rollout reported no deployment');
  return d;
}

async function health(world: World, n: RunNames, version: string, logger: Logger) {
  const url = world.kube.appUrl(n.namespace, DEPLOYMENT, '/health');
  const inputs = await withInputs(
    { urls: url, 'expected-json': `version=${version}`, interval: '200ms', timeout: '30s' },
    () => readHealthInputs({}),
  );
  const report = await verifyHealth(inputs, logger, never);
  return report.healthy;
}

async function goodDeploy(world: World, n: RunNames, logger: Logger): Promise<Outcome> {
  const d = await deploy(world, n, n.good, logger);
  const healthy = d.outcome === 'succeeded' && (await health(world, n, `v2-${n.env}`, logger));
  return {
    ok: d.outcome === 'succeeded' && healthy,
    keys: {
      rollout: d.outcome,
      previousRevision: d.previousRevision,
      revision: d.revision,
      image: deployedImage(world, n),
      healthy,
    },
  };
}

async function brokenDeploy(world: World, n: RunNames, logger: Logger): Promise<Outcome> {
  const d = await deploy(world, n, n.broken, logger);
  const keys: Outcome['keys'] = { rollout: d.outcome, previousRevision: d.previousRevision };
  if (d.outcome === 'succeeded') return { ok: true, keys };
  const inputs = await withInputs(
    {
      ...world.kubeInputs,
      namespace: n.namespace,
      deployments: DEPLOYMENT,
      'to-revision': String(d.previousRevision),
      'snapshot-identifier': n.snapshot,
      timeout: '60s',
      'ready-grace': '2s',
    },
    () => readRollbackInputs(),
  );
  const report = await autoRollback(inputs, logger, never);
  const failure = rollbackVerdict(report);
  if (failure) logger.error(failure.message);
  const r = report.deployments[0];
  const healthy = r?.outcome === 'rolled-back' && (await health(world, n, 'v1.0.0', logger));
  return {
    ok: false,
    keys: {
      ...keys,
      rollback: r?.outcome ?? 'none',
      revisionAfterRollback: r?.revision ?? -1,
      image: deployedImage(world, n),
      healthyAfterRollback: healthy,
    },
  };
}

function deployedImage(world: World, n: RunNames): string {
  const d = world.kube.store.get('deployments', n.namespace, DEPLOYMENT);
  return (d?.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!
    .image;
}

async function buildPushSkip(world: World, n: RunNames, logger: Logger): Promise<Outcome> {
  const inputs = await withInputs(
    { repository: REPOSITORY, environment: 'production', tags: `build-${n.env}`, cache: 'none' },
    () =>
      readBuildInputs({
        AWS_REGION: world.cloud.aws.region,
        GITHUB_SHA: n.sha,
        GITHUB_WORKSPACE: world.workspace,
      }),
  );
  const result = await buildAndPush(inputs, logger, never);
  return {
    ok: true,
    keys: {
      built: result.built,
      pushed: result.pushed,
      digest: result.digest ?? '',
      tags: result.tags.join(','),
    },
  };
}

async function release(world: World, n: RunNames, logger: Logger): Promise<Outcome> {
  const github = world.cloud.github!;
  const inputs = await withInputs({ token: github.token, tag: n.tag, timeout: '60s' }, () =>
    readReleaseInputs({
      GITHUB_REPOSITORY: 'owner/repo',
      GITHUB_API_URL: github.url,
      GITHUB_SHA: n.sha,
      GITHUB_SERVER_URL: 'https://github.com',
    }),
  );
  const outcome = await createRelease(inputs, logger, never, releaseApi);
  return outcome.done
    ? { ok: true, keys: { created: outcome.created, tag: outcome.tag, draft: outcome.draft } }
    : { ok: false, keys: { reason: outcome.reason } };
}

/**
 * run.ts's default factory, with the module imported up front: Jest refuses a dynamic import made while no
 * test is running, which the lanes do (they run in the background of the tests that await them).
 */
const releaseApi: ApiFactory = (inputs, logger, signal) =>
  createReleaseApi(releaseApiOptions(inputs, logger, signal));

const SCENARIO_RUNNERS: Record<Scenario, Runner> = {
  backup,
  'migration-ok': (world, n, logger) => migrate(world, n, n.migrateOk, logger),
  'migration-failing': (world, n, logger) => migrate(world, n, n.migrateBad, logger),
  'good-deploy': goodDeploy,
  'broken-deploy': brokenDeploy,
  'build-push-skip': buildPushSkip,
  release,
};

/** The faults of one run, drawn from its PRNG. */
export interface FaultPlan {
  kube?: FaultOptions;
  rds?: RdsFaults;
  ecr?: EcrFaults;
  github?: GitHubFaults;
  /** One line for the test name. */
  label: string;
}

/** Which kinds of fault a scenario meets: those of the services it talks to. */
export function drawFaults(rng: Prng, scenario: Scenario): FaultPlan {
  const parts: string[] = [];
  const plan: FaultPlan = { label: '' };
  const kubeScenario = !['backup', 'build-push-skip', 'release'].includes(scenario);
  if (kubeScenario) {
    const k: FaultOptions = { seed: rng.seed() };
    if (rng.chance(0.6)) {
      k.errorRate = Number(rng.float(0.05, 0.2).toFixed(2));
      k.errorCodes = rng.pick([[500], [503], [500, 503], [502, 503]]);
      parts.push(`5xx ${k.errorRate}`);
    }
    if (rng.chance(0.5)) {
      k.throttleRate = Number(rng.float(0.05, 0.15).toFixed(2));
      k.retryAfterSeconds = rng.chance(0.15) ? 1 : 0;
      parts.push(`429 ${k.throttleRate} (Retry-After ${k.retryAfterSeconds}s)`);
    }
    if (rng.chance(0.4)) {
      k.resetRate = Number(rng.float(0.03, 0.1).toFixed(2));
      parts.push(`resets ${k.resetRate}`);
    }
    if (rng.chance(0.4)) {
      const lo = rng.int(0, 30);
      k.latencyMs = [lo, lo + rng.int(10, 120)];
      parts.push(`latency ${k.latencyMs[0]}-${k.latencyMs[1]}ms`);
    }
    if (rng.chance(0.4)) {
      k.watchCutSeconds = Number(rng.float(0.2, 0.8).toFixed(1));
      parts.push(`watch cut ${k.watchCutSeconds}s`);
    }
    if (rng.chance(0.4)) {
      k.expireNextWatches = rng.int(1, 2);
      parts.push(`410 x${k.expireNextWatches}`);
    }
    if (parts.length === 0) {
      k.errorRate = 0.15;
      k.errorCodes = [503];
      parts.push('5xx 0.15');
    }
    plan.kube = k;
  }
  if (scenario === 'backup') {
    const throttle = rng.pick([0.2, 0.25, 0.34, 0.5]);
    plan.rds = { throttle };
    parts.push(`rds throttle ${throttle}`);
    if (rng.chance(0.4)) {
      plan.rds.internalError = rng.pick([0.1, 0.2]);
      parts.push(`rds 500 ${plan.rds.internalError}`);
    }
  }
  if (scenario === 'build-push-skip') {
    const throttle = rng.pick([0.2, 0.25, 0.34, 0.5]);
    plan.ecr = { throttle };
    parts.push(`ecr throttle ${throttle}`);
  }
  if (scenario === 'release') {
    const g: GitHubFaults = {};
    if (rng.chance(0.6)) g.serverErrorNext = rng.int(1, 2);
    if (rng.chance(0.5)) g.rateLimitNext = 1;
    if (g.serverErrorNext === undefined && g.rateLimitNext === undefined) g.serverErrorNext = 1;
    g.retryAfterSeconds = 1;
    plan.github = g;
    if (g.serverErrorNext) parts.push(`github 502 x${g.serverErrorNext}`);
    if (g.rateLimitNext) parts.push(`github rate limit x${g.rateLimitNext}`);
  }
  plan.label = parts.join(', ');
  return plan;
}

export function applyFaults(world: World, plan: FaultPlan): void {
  const { aws, github } = world.cloud;
  const kube = world.kube;
  if (plan.kube) kube.faults.set(plan.kube);
  if (plan.rds) aws.rds.setFaults(plan.rds);
  if (plan.ecr) aws.ecr.setFaults(plan.ecr);
  if (plan.github) github?.inject(plan.github);
}

/** Clears the faults of one service (the lanes of the other services go on with theirs). */
export function clearFaults(world: World, service: 'kube' | 'rds' | 'ecr' | 'github'): void {
  const { aws, github } = world.cloud;
  const kube = world.kube;
  if (service === 'kube') kube.faults.clear();
  if (service === 'rds') aws.rds.setFaults({ throttle: 0, internalError: 0, nextSnapshotFails: false });
  if (service === 'ecr') aws.ecr.setFaults({ throttle: 0, failPushes: 0 });
  if (service === 'github') github?.inject({ serverErrorNext: 0, rateLimitNext: 0, primaryRateLimitNext: 0 });
}
