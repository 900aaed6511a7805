// `pnpm demo`: the Planner app's production pipeline on the local sandbox, end to end, with the built
// actions run exactly as the GitHub runner runs them (runner harness: INPUT_* env, GITHUB_OUTPUT/STATE/
// STEP_SUMMARY files, post steps), step by step as examples/workflows/cd-production.yml does:
//
//   release v1.1.0: build-push → rds-backup → run-migration-job → rollout → verify-health → create-release
//   release v1.2.0: build-push → rds-backup → run-migration-job → rollout (the new version crash-loops:
//                   fails fast with the reason) → auto-rollback → verify-health (v1.1.0 serves again)
//
// The Kubernetes actions reach the cluster by EKS cluster name (DescribeCluster + a presigned STS token
// against the sandbox's AWS endpoints): no kubeconfig, no aws CLI, no kubectl. build-push really builds and
// pushes when a Docker engine is reachable (DOCKER_HOST) and docker-registry is installed; otherwise the
// commit's image is already in the sandbox's ECR and build-push takes its skip-if-exists path.
//
// It prints a timeline and writes every step's job summary into one report: .tmp/demo/report.md and
// report.html. Exit 0 when every step ended as the pipeline expects (including the broken deploy failing
// and being rolled back).
//
//   pnpm demo [--keep] [--no-build] [--out DIR]
//     --keep      leave the sandbox running afterwards and print the exports for the CLI / kubectl
//     --no-build  use the dists as they are (default: build the actions whose dist is missing or stale)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import {
  PLANNER_DEPLOYMENT,
  PLANNER_REPOSITORY,
  dockerUnavailableReason,
  seedPlanner,
  startCloud,
} from '@planner-deploy/sandbox';
import { htmlPage } from './lib/markdown-html.js';

const root = new URL('..', import.meta.url).pathname;
const ACTIONS = [
  'build-push',
  'rds-backup',
  'run-migration-job',
  'rollout',
  'verify-health',
  'create-release',
  'auto-rollback',
];

const { values: args } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string', default: join(root, '.tmp/demo') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: pnpm demo [--keep] [--no-build] [--out DIR]');
  process.exit(0);
}

const t0 = performance.now();
const elapsed = (): number => (performance.now() - t0) / 1000;
const stamp = (): string => `${elapsed().toFixed(1).padStart(5)}s`;
const tty = process.stdout.isTTY && !process.env['NO_COLOR'];
const colour = (code: string, text: string): string => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
const say = (line: string): void => console.log(`${colour('2', stamp())}  ${line}`);

// ---------------------------------------------------------------------------------------------- build
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

function staleActions(): string[] {
  const shared = Math.max(
    ...['action-kit', 'kube', 'aws'].map((p) => newestMtime(join(root, 'packages', p, 'src'))),
  );
  return ACTIONS.filter((name) => {
    const dist = join(root, 'actions', name, 'dist', 'index.js');
    if (!existsSync(dist)) return true;
    const built = statSync(dist).mtimeMs;
    return Math.max(shared, newestMtime(join(root, 'actions', name, 'src'))) > built;
  });
}

if (!args['no-build']) {
  const stale = staleActions();
  if (stale.length) {
    say(`building ${stale.join(', ')} (ncc; dist/ is not committed) …`);
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), ...stale], { stdio: 'inherit' });
  } else say('the seven actions are built and up to date');
}
for (const name of ACTIONS)
  if (!existsSync(join(root, 'actions', name, 'dist', 'index.js')))
    throw new Error(`actions/${name}/dist/index.js is missing: run pnpm build`);

// ---------------------------------------------------------------------------------------------- cloud
const docker = (await dockerUnavailableReason()) === undefined;

const TIME_SCALE = 0.1; // simulated seconds run ten times faster: pods, back-offs, the RDS snapshot
const cloud = await startCloud({
  timeScale: TIME_SCALE,
  registry: docker ? 'auto' : 'none',
  aws: { snapshotSeconds: 30 },
  github: { owner: 'example-org', repo: 'planner-app', tags: ['v1.0.0', 'v1.1.0', 'v1.2.0'] },
});
const github = cloud.github!;
const seed = await seedPlanner(cloud, { environments: ['production'], tag: 'v1.0.0', replicas: 3 });
const namespace = seed.namespace('production');
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
say(
  `sandbox up: Kubernetes API ${cloud.kube.url}, AWS endpoints ${cloud.aws.url}, GitHub API ${github.url}` +
    (docker ? ', docker-registry behind ECR' : ''),
);
say(
  `production runs ${PLANNER_DEPLOYMENT} ${seed.image('v1.0.0').split('/').pop()} (3 replicas) in ${namespace}; ` +
    `database ${seed.dbInstance('production')}`,
);
say(
  docker
    ? 'a Docker engine is reachable: build-push builds and pushes for real'
    : 'no Docker engine: each commit is already in ECR, build-push takes its skip-if-exists path',
);

// ---------------------------------------------------------------------------------------------- steps
const workspace = await mkdtemp(join(tmpdir(), 'planner-demo-ws-'));
const dockerConfig = await mkdtemp(join(tmpdir(), 'planner-demo-docker-'));
await mkdir(join(workspace, 'app'));
await writeFile(
  join(workspace, 'app', 'Dockerfile'),
  'FROM scratch AS base\nCOPY version.txt /app/version.txt\n\nFROM base AS production\nLABEL tier=production\n',
);

interface Outcome {
  release: string;
  step: string;
  expected: 'success' | 'failure';
  actual: 'success' | 'failure';
  startedAt: number;
  seconds: number;
  note: string;
}
const outcomes: Outcome[] = [];
const report: string[] = [];

interface StepSpec {
  id: string;
  title: string;
  action: string;
  inputs: Record<string, string>;
  expect?: 'success' | 'failure';
  note?: (r: RunResult) => string;
}
const backups = new Set<string>();

const cloudEnv = cloud.env();
// The Kubernetes actions find the cluster by name through EKS: no kubeconfig on this "runner".
delete cloudEnv['KUBECONFIG'];

async function release(
  tag: string,
  sha: string,
  steps: (outputs: Record<string, Record<string, string>>) => Array<StepSpec | undefined>,
): Promise<Record<string, Record<string, string>>> {
  const outputs: Record<string, Record<string, string>> = {};
  const env = {
    ...cloudEnv,
    GITHUB_SHA: sha,
    GITHUB_REF: `refs/tags/${tag}`,
    GITHUB_REF_NAME: tag,
    GITHUB_REF_TYPE: 'tag',
    GITHUB_REPOSITORY: 'example-org/planner-app',
    GITHUB_REPOSITORY_OWNER: 'example-org',
    GITHUB_RUN_ID: String(8_100_000_000 + outcomes.length),
    GITHUB_RUN_ATTEMPT: '1',
    DOCKER_CONFIG: dockerConfig,
    ...(process.env['DOCKER_HOST'] ? { DOCKER_HOST: process.env['DOCKER_HOST'] } : {}),
  };
  report.push(`## Release ${tag} (commit ${sha.slice(0, 7)})`, '');
  let failed = false;
  // The workflow's steps are decided one at a time: later steps read earlier outputs and `failure()`.
  const count = steps(outputs).length;
  for (let index = 0; index < count; index++) {
    const spec = steps(outputs)[index];
    if (spec === undefined) continue;
    // `if: failure()` for the rollback and the check after it; every other step stops at a failure.
    const onFailure = spec.action === 'auto-rollback' || spec.id === 'health-after-rollback';
    if (failed !== onFailure) continue;
    // cd-production.yml: only when the rollout recorded the revision it replaced.
    if (spec.action === 'auto-rollback' && !outputs['rollout']?.['previous-revision']) continue;
    if (spec.id === 'health-after-rollback' && outputs['rollback']?.['rolled-back'] !== 'true') continue;
    const startedAt = elapsed();
    say(`${colour('1', '▶')} ${tag}  ${spec.title}`);
    const result = await runStep({
      action: `actions/${spec.action}`,
      inputs: spec.inputs,
      env,
      github: { token: github.token, sha, ref: `refs/tags/${tag}`, repository: 'example-org/planner-app' },
      workspace,
      limitMs: 170_000,
    });
    outputs[spec.id] = result.outputs;
    const actual = result.exitCode === 0 ? 'success' : 'failure';
    const expected = spec.expect ?? 'success';
    if (actual === 'failure') failed = true;
    if (spec.action === 'run-migration-job')
      for (const line of result.lines.filter((l) => l.includes('alembic'))) say(colour('2', `    ${line}`));
    if (spec.id === 'backup') backups.add(result.outputs['snapshot-identifier'] ?? '');
    for (const a of result.annotations.filter((x) => x.level === 'error')) {
      const text = `${a.title ? `${a.title}: ` : ''}${a.message.split('\n')[0]}`;
      say(`    ${colour('31', 'error')}: ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`);
    }
    const note = spec.note?.(result) ?? '';
    const seconds = result.durationMs / 1000;
    const mark = actual === expected ? colour('32', '✔') : colour('31', '✖ UNEXPECTED');
    say(`${mark} ${tag}  ${spec.title}: ${actual} in ${seconds.toFixed(1)}s${note ? ` — ${note}` : ''}`);
    outcomes.push({ release: tag, step: spec.title, expected, actual, startedAt, seconds, note });
    report.push(
      `### ${spec.title} (\`${spec.action}\`)`,
      '',
      `Outcome: **${actual}**${actual === expected ? '' : ` — expected ${expected}`} · ${seconds.toFixed(1)} s${note ? ` · ${note}` : ''}`,
      '',
      // The step's own headings go two levels down, under the step's.
      result.summary.trim().replace(/^(#{1,4}) /gm, (_, h: string) => `${h}## `) || '_(no job summary)_',
      '',
    );
  }
  return outputs;
}

const APP_URLS = `${seed.appUrl('production', '/health')}\n${seed.appUrl('production', '/api/health')}`;
const health = (id: string, title: string, version: () => string): StepSpec => ({
  id,
  title,
  action: 'verify-health',
  inputs: {
    urls: APP_URLS,
    'expected-json': `version=${version()}`,
    'initial-delay': '1s',
    interval: '500ms',
    'consecutive-successes': '3',
    timeout: '60s',
  },
  note: (r) => (r.outputs['healthy'] === 'true' ? `serving ${version().slice(0, 19)}…` : 'unhealthy'),
});
const digestOf = (image: string | undefined): string => (image ?? '').split('@')[1] ?? '';

async function prepareCommit(tag: string, sha: string): Promise<void> {
  await writeFile(join(workspace, 'app', 'version.txt'), `${tag} ${sha}\n`);
  // Without a Docker engine, CI built this commit before: its image is in ECR under the commit SHA.
  if (!docker) await cloud.aws.ecr.addImage(PLANNER_REPOSITORY, sha);
}

function pipeline(tag: string, brokenImage?: (image: string) => void) {
  return (o: Record<string, Record<string, string>>): Array<StepSpec | undefined> => {
    const image = o['build']?.['image'] ?? '';
    return [
      {
        id: 'build',
        title: 'Build and push image',
        action: 'build-push',
        inputs: {
          repository: PLANNER_REPOSITORY,
          context: 'app',
          target: 'production',
          environment: 'production',
          cache: 'none',
        },
        note: (r) => {
          if (brokenImage && r.outputs['image']) brokenImage(r.outputs['image']);
          return `${r.outputs['built'] === 'true' ? 'built' : 'reused'} ${digestOf(r.outputs['image']).slice(0, 19)}…, tags ${(
            r.outputs['tags'] ?? ''
          )
            .split(/[\s,]+/)
            .map((t) => t.split(':').pop())
            .join(', ')}`;
        },
      },
      {
        id: 'backup',
        title: 'Database backup',
        action: 'rds-backup',
        inputs: {
          'db-instance-identifier': seed.dbInstance('production'),
          retain: '20',
          'poll-interval': '1s',
        },
        note: (r) => `snapshot ${r.outputs['snapshot-identifier']} ${r.outputs['status']}`,
      },
      {
        id: 'migrate',
        title: 'Database migration',
        action: 'run-migration-job',
        inputs: {
          'cluster-name': cloud.clusterName,
          namespace,
          deployment: PLANNER_DEPLOYMENT,
          image,
          command: 'alembic upgrade head',
          timeout: '5m',
        },
        note: (r) =>
          `Job ${r.outputs['job-name']} ${r.outputs['status']}, exit code ${r.outputs['exit-code']}`,
      },
      {
        id: 'rollout',
        title: 'EKS deployment',
        action: 'rollout',
        inputs: {
          'cluster-name': cloud.clusterName,
          namespace,
          deployments: PLANNER_DEPLOYMENT,
          image,
          timeout: '5m',
        },
        expect: brokenImage ? 'failure' : 'success',
        note: (r) => {
          const change = `revision ${r.outputs['previous-revision']} → ${r.outputs['revision'] || '?'}`;
          if (r.exitCode === 0) return change;
          const error = r.annotations.find((a) => a.level === 'error')?.message ?? '';
          const reason =
            /(CrashLoopBackOff|ImagePullBackOff|ErrImagePull|CreateContainerConfigError|OOMKilled)[^:]*/.exec(
              error,
            );
          const lastLine = /Last log lines:.*\| ([^|]+)$/.exec(error.split('\n')[0] ?? '')?.[1]?.trim();
          return `${change}, failed fast: ${reason?.[0] ?? error.split('\n')[0]}${lastLine ? `; last log line: ${lastLine}` : ''}`;
        },
      },
      brokenImage ? undefined : health('health', 'Verification', () => digestOf(o['build']?.['image'])),
      brokenImage
        ? undefined
        : {
            id: 'release',
            title: 'GitHub release',
            action: 'create-release',
            inputs: {
              environment: 'production',
              'environment-url': seed.appUrl('production', '/'),
              image,
              'snapshot-identifier': o['backup']?.['snapshot-identifier'] ?? '',
            },
            note: (r) => `${r.outputs['created'] === 'true' ? 'created' : 'updated'} ${r.outputs['url']}`,
          },
      {
        id: 'rollback',
        title: 'Rollback on failure',
        action: 'auto-rollback',
        inputs: {
          'cluster-name': cloud.clusterName,
          namespace,
          deployments: PLANNER_DEPLOYMENT,
          'to-revision': o['rollout']?.['previous-revision'] ?? '',
          reason: `production deploy of ${tag} failed`,
          'snapshot-identifier': o['backup']?.['snapshot-identifier'] ?? '',
        },
        note: (r) =>
          `restored revision ${o['rollout']?.['previous-revision']} (recorded by the rollout step) as revision ${r.outputs['revision']}`,
      },
    ];
  };
}

let exitCode = 0;
try {
  // Release v1.1.0: the whole pipeline, everything passes.
  const shaGood = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
  await prepareCommit('v1.1.0', shaGood);
  const good = await release('v1.1.0', shaGood, pipeline('v1.1.0'));
  const goodDigest = digestOf(good['build']?.['image']);

  // Release v1.2.0: its containers exit at start (a missing setting); the migration itself is fine.
  const shaBad = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
  await prepareCommit('v1.2.0', shaBad);
  const broken = pipeline('v1.2.0', (image) =>
    cloud.kube.images.set(image, {
      kind: 'crash',
      exitCode: 1,
      after: 1500,
      lines: [
        'Traceback (most recent call last):',
        '  File "/app/planner/settings.py", line 41, in <module>',
        "    REDIS_URL = os.environ['REDIS_URL']",
        "KeyError: 'REDIS_URL'",
      ],
    }),
  );
  const afterRollbackHealth = health(
    'health-after-rollback',
    'Verification after the rollback',
    () => goodDigest,
  );
  await release('v1.2.0', shaBad, (o) => [...broken(o), afterRollbackHealth]);
} catch (e) {
  say(colour('31', `demo error: ${(e as Error).stack ?? String(e)}`));
  exitCode = 2;
}

// ---------------------------------------------------------------------------------------------- report
const unexpected = outcomes.filter((o) => o.actual !== o.expected);
const deployment = cloud.kube.store.get('deployments', namespace, PLANNER_DEPLOYMENT);
const containers = (
  deployment?.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined
)?.template?.spec?.containers;
const finalImage = containers?.[0]?.image ?? '?';
const releases = github.releases();
const snapshots = [...backups].filter(Boolean);
const rolledBack = outcomes.some((o) => o.step === 'Rollback on failure' && o.actual === 'success');
const rolloutFailed = outcomes.find((o) => o.release === 'v1.2.0' && o.step === 'EKS deployment');
const ok = exitCode === 0 && unexpected.length === 0 && outcomes.length > 0 && rolledBack;

const timeline = [
  '| t (s) | release | step | expected | outcome | took | details |',
  '| ---: | --- | --- | --- | --- | ---: | --- |',
  ...outcomes.map(
    (o) =>
      `| ${o.startedAt.toFixed(1)} | ${o.release} | ${o.step} | ${o.expected} | ${o.actual === o.expected ? '✅' : '❌'} ${o.actual} | ${o.seconds.toFixed(1)} s | ${o.note.replace(/\|/g, '\\|')} |`,
  ),
];
const head = [
  '# planner-deploy demo: the production pipeline on the local sandbox',
  '',
  `${ok ? '✅ **Every step ended as the pipeline expects.**' : `❌ **${unexpected.length} step(s) did not end as expected.**`} ` +
    `Total ${elapsed().toFixed(1)} s on ${new Date().toISOString().slice(0, 10)}; the sandbox's controllers ran at ${1 / TIME_SCALE}× speed; ` +
    `${docker ? 'images built and pushed with a real Docker engine' : 'no Docker engine, so build-push reused the images already in ECR'}.`,
  '',
  `- v1.1.0 went through build, backup, migration, rollout, verification and the GitHub release.`,
  `- v1.2.0 crash-looped: the rollout failed ${rolloutFailed ? `after ${rolloutFailed.seconds.toFixed(1)} s with the reason` : '(not reached)'}, ` +
    `auto-rollback ${rolledBack ? 'restored the previous revision and the app served v1.1.0 again' : 'did NOT run'}.`,
  `- Now running: \`${finalImage}\`; releases: ${releases.map((r) => `${r.tag_name}`).join(', ') || 'none'}; ` +
    `snapshots taken before the migrations: ${snapshots.map((id) => `\`${id}\``).join(', ') || 'none'}.`,
  '',
  '## Timeline',
  '',
  ...timeline,
  '',
];
const markdown = [...head, ...report].join('\n');
mkdirSync(args.out, { recursive: true });
writeFileSync(join(args.out, 'report.md'), markdown);
writeFileSync(join(args.out, 'report.html'), htmlPage('planner-deploy demo', markdown));

console.log('');
console.log(timeline.join('\n'));
console.log('');
say(
  ok
    ? colour('32', '✔ demo passed: the good release deployed, the broken one was caught and rolled back')
    : colour(
        '31',
        `✖ demo failed: ${unexpected.map((o) => `${o.release} ${o.step}`).join(', ') || 'see above'}`,
      ),
);
say(`report: ${join(args.out, 'report.md')} (and report.html)`);

if (args.keep) {
  const kubeconfig = cloud.kube.kubeconfigPath;
  console.log(
    [
      '',
      '# The sandbox keeps running with this state. In another shell:',
      `export KUBECONFIG='${kubeconfig}'`,
      ...Object.entries(cloud.env())
        .filter(([k]) => k !== 'KUBECONFIG')
        .map(([k, v]) => `export ${k}='${v}'`),
      'pnpm planner-deploy status production     # or: history production, logs production',
      '# Ctrl-C stops it.',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
await cloud.stop();
await rm(workspace, { recursive: true, force: true });
await rm(dockerConfig, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
