// What `pnpm workflow` (and `pnpm demo`, and the tests) run a workflow against: the local cloud with the
// Planner app seeded in staging and production, and how that cloud stands in for GitHub's settings —
// each environment's secrets and variables, the credentials configure-aws-credentials hands out, and,
// without a Docker engine, the image "CI built" for each commit checked out, put into the sandbox's ECR
// (build-push then takes its skip-if-exists path).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowRunOptions } from '@planner-deploy/runner-harness/workflow';
import {
  PLANNER_REPOSITORY,
  dockerUnavailableReason,
  ensureBusyboxBase,
  seedPlanner,
  startCloud,
  type Cloud,
  type PlannerSeed,
} from '@planner-deploy/sandbox';

export const root = new URL('..', import.meta.url).pathname;
export const ACTIONS = [
  'build-push',
  'rds-backup',
  'run-migration-job',
  'rollout',
  'verify-health',
  'create-release',
  'auto-rollback',
];
/** The deployment environments the examples use. */
export const ENVIRONMENTS = ['staging', 'production'];

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Our actions whose dist is missing or older than its sources. */
export function staleActions(): string[] {
  const shared = Math.max(
    ...['core', 'action-kit', 'kube', 'aws'].map((p) => newestMtime(join(root, 'packages', p, 'src'))),
  );
  return ACTIONS.filter((name) => {
    const dist = join(root, 'actions', name, 'dist', 'index.js');
    if (!existsSync(dist)) return true;
    const built = statSync(dist).mtimeMs;
    return Math.max(shared, newestMtime(join(root, 'actions', name, 'src'))) > built;
  });
}

/** Builds the stale dists (ncc); `build: false` leaves them as they are. */
export function ensureBuilt(build: boolean, say: (line: string) => void): void {
  if (!build) return; // a step of a missing dist fails and says so
  const stale = staleActions();
  if (stale.length) {
    say(`building ${stale.join(', ')} (ncc; dist/ is not committed) …`);
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), ...stale], { stdio: 'inherit' });
  }
}

export interface WorkflowSandbox {
  /** The options runWorkflow needs from the cloud (merge the run's own in). */
  options: Pick<
    WorkflowRunOptions,
    | 'awsEnv'
    | 'awsAccountId'
    | 'runnerEnv'
    | 'environments'
    | 'secrets'
    | 'prepareCommit'
    | 'repoRoot'
    | 'fixture'
  >;
  /** The cloud when this process started it (undefined when its exports came from the environment). */
  cloud?: Cloud;
  seed?: PlannerSeed;
  docker: boolean;
  timeScale: number;
  /** How the cloud was reached, for the log. */
  description: string;
  stop(): Promise<void>;
}

const HEALTH_DELAY_SECONDS = 60;

function environmentSettings(
  appBase: (env: string) => string,
  clusterName: string,
  region: string,
  timeScale: number,
): WorkflowRunOptions['environments'] {
  return Object.fromEntries(
    ENVIRONMENTS.map((env) => [
      env,
      {
        secrets: { EKS_CLUSTER_NAME: clusterName, AWS_REGION: region },
        vars: {
          APP_URL: appBase(env),
          RDS_DB_INSTANCE: `planner-${env}-db`,
          // The pipeline guide's 60 s for the load balancer to settle, at the sandbox's time scale.
          HEALTH_INITIAL_DELAY: `${Math.max(1, Math.round(HEALTH_DELAY_SECONDS * timeScale))}s`,
        },
      },
    ]),
  );
}

const SANDBOX_EXPORTS = ['AWS_ENDPOINT_URL_ECR', 'EKS_CLUSTER_NAME', 'SANDBOX_APPS_URL'];

/**
 * The sandbox `pnpm sandbox` started (its exports in `env`), or a new one in this process with the
 * Planner app seeded (v1.0.0 running in planner-staging and planner-production).
 */
export async function workflowSandbox(
  options: { timeScale?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<WorkflowSandbox> {
  const env = options.env ?? process.env;
  const fixture = join(root, 'examples', 'planner-app');
  if (SANDBOX_EXPORTS.every((k) => env[k])) {
    const awsEnv = Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => /^AWS_/.test(e[0]) && e[1] !== undefined),
    );
    const region = env['AWS_REGION'] ?? 'us-east-1';
    const timeScale = Number(env['SANDBOX_TIME_SCALE'] ?? '1') || 1;
    const apps = env['SANDBOX_APPS_URL'] as string;
    // The fixture's Dockerfile starts FROM busybox:1.36, which cannot be pulled here: made locally before any
    // job builds it (build-push, and ci.yml's `docker compose up --build`).
    if (env['DOCKER_HOST'] && (await dockerUnavailableReason()) === undefined)
      await ensureBusyboxBase(undefined, env);
    return {
      options: {
        awsEnv,
        awsAccountId: env['SANDBOX_AWS_ACCOUNT_ID'] ?? '123456789012',
        runnerEnv: env['GITHUB_API_URL'] ? { GITHUB_API_URL: env['GITHUB_API_URL'] } : {},
        environments: environmentSettings(
          (e) => `${apps}/_sandbox/apps/planner-${e}/planner-app`,
          env['EKS_CLUSTER_NAME'] as string,
          region,
          timeScale,
        ),
        secrets: {
          AWS_REGION: region,
          ...(env['GITHUB_TOKEN'] ? { GITHUB_TOKEN: env['GITHUB_TOKEN'] } : {}),
        },
        repoRoot: root,
        fixture,
      },
      docker: Boolean(env['DOCKER_HOST']),
      timeScale,
      description: `the sandbox in the environment (EKS ${env['EKS_CLUSTER_NAME']}, apps ${apps})`,
      stop: async () => {},
    };
  }

  const timeScale = options.timeScale ?? 0.1;
  const docker = (await dockerUnavailableReason()) === undefined;
  // The fixture's Dockerfile starts FROM busybox:1.36, which cannot be pulled here: made locally.
  if (docker) await ensureBusyboxBase();
  const cloud = await startCloud({
    timeScale,
    registry: docker ? 'auto' : 'none',
    aws: { snapshotSeconds: 30 },
    github: { owner: 'example-org', repo: 'planner-app', tags: ['v1.0.0', 'v1.1.0', 'v1.2.0'] },
  });
  const seed = await seedPlanner(cloud, { environments: ENVIRONMENTS, tag: 'v1.0.0', replicas: 2 });
  // What `alembic upgrade head` prints in the migration Job's pod.
  cloud.kube.images.setCommand('alembic upgrade head', {
    kind: 'exit',
    exitCode: 0,
    after: 3000,
    lines: [
      'INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.',
      'INFO  [alembic.runtime.migration] Will assume transactional DDL.',
      'INFO  [alembic.runtime.migration] Running upgrade 3f1c2a9b7d10 -> 8e4d5b6c1a22, add task due dates',
      'INFO  [alembic.runtime.migration] Running upgrade 8e4d5b6c1a22 -> c7a9e0f3b415, index tasks by owner',
    ],
  });
  const awsEnv = cloud.aws.env();
  const prepared = new Set<string>();
  return {
    options: {
      awsEnv,
      awsAccountId: cloud.aws.ecr.accountId,
      runnerEnv: { GITHUB_API_URL: cloud.github!.url },
      environments: environmentSettings(
        (e) => seed.appUrl(e, '').replace(/\/$/, ''),
        cloud.clusterName,
        awsEnv['AWS_REGION'] ?? 'us-east-1',
        timeScale,
      ),
      secrets: { GITHUB_TOKEN: cloud.github!.token, AWS_REGION: awsEnv['AWS_REGION'] ?? 'us-east-1' },
      repoRoot: root,
      fixture,
      // Without a Docker engine nothing can be built: the commit's image is the one CI built and pushed,
      // its config reporting the commit as the app's version (what the Dockerfile bakes from GIT_SHA).
      ...(docker
        ? {}
        : {
            prepareCommit: async ({ sha }: { sha: string }) => {
              if (prepared.has(sha)) return;
              prepared.add(sha);
              await cloud.aws.ecr.addImage(PLANNER_REPOSITORY, sha, undefined, { env: { APP_VERSION: sha } });
            },
          }),
    },
    cloud,
    seed,
    docker,
    timeScale,
    description:
      `a new sandbox at ${1 / timeScale}× speed: Kubernetes ${cloud.kube.url}, AWS ${cloud.aws.url}, GitHub ${cloud.github!.url}` +
      (docker
        ? ', docker-registry behind ECR'
        : ', no Docker engine (each commit checked out is already in ECR)'),
    stop: () => cloud.stop(),
  };
}
