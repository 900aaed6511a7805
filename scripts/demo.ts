// `pnpm demo`: the Planner app's production pipeline on the local sandbox — examples/workflows/cd-production.yml
// itself, run through `pnpm workflow` (GitHub's parser and expression engine, the built actions run as the
// runner runs them), twice:
//
//   release v1.1.0: CI → build-push → rds-backup → run-migration-job → rollout → verify-health → create-release
//   release v1.2.0: CI → build-push → rds-backup → run-migration-job → rollout (the new version crash-loops:
//                   fails fast with the reason) → auto-rollback → the rollback announced; v1.1.0 serves again
//
// What runs is what the YAML says: edit the file (or pass --workflow an edited copy) and the demo does what
// the edit says. CI (ci.yml, called by the `ci` job) runs for real where a Docker engine is present (DOCKER_HOST:
// its docker and integration jobs need one; its Python tools have stand-ins, docs/workflow-runner.md); without
// one the `ci` job is taken as passed (`--assume-job ci=success`), and the log says why. The Kubernetes actions reach the cluster by EKS cluster name
// (DescribeCluster + a presigned STS token against the sandbox): no kubeconfig, no aws CLI, no kubectl.
// Without a Docker engine each commit's image is already in the sandbox's ECR (build-push takes its
// skip-if-exists path); the v1.2.0 image is made to crash at start (a missing setting).
//
// It prints every step with its outcome and time and writes every job summary into one report:
// .tmp/demo/report.md and report.html. Exit 0 when the good release shipped and the broken one was caught
// and rolled back with v1.1.0 serving again.
//
//   pnpm demo [--workflow FILE] [--keep] [--no-build] [--out DIR]
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  loadWorkflow,
  runWorkflow,
  type RunEvent,
  type RunRecord,
  type StepRecord,
} from '@planner-deploy/runner-harness/workflow';
import { PLANNER_DEPLOYMENT } from '@planner-deploy/sandbox';
import { printer, writeReport } from './workflow.js';
import { ensureBuilt, root, workflowSandbox } from './workflow-sandbox.js';

const { values: args } = parseArgs({
  options: {
    workflow: { type: 'string', default: join(root, 'examples/workflows/cd-production.yml') },
    keep: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string', default: join(root, '.tmp/demo') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: pnpm demo [--workflow FILE] [--keep] [--no-build] [--out DIR]');
  process.exit(0);
}

const t0 = performance.now();
const elapsed = (): number => (performance.now() - t0) / 1000;
const tty = process.stdout.isTTY && !process.env['NO_COLOR'];
const colour = (code: string, text: string): string => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
const say = (line: string): void =>
  console.log(`${colour('2', `${elapsed().toFixed(1).padStart(5)}s`)}  ${line}`);

const file = resolve(process.env['INIT_CWD'] ?? process.cwd(), args.workflow);
ensureBuilt(!args['no-build'], say);
// Always a sandbox of its own: the broken release needs the cluster's image catalog.
const sandbox = await workflowSandbox({ timeScale: 0.1, env: {} });
const cloud = sandbox.cloud!;
const seed = sandbox.seed!;
say(`sandbox: ${sandbox.description}`);
say(`production runs ${PLANNER_DEPLOYMENT} v1.0.0 in ${seed.namespace('production')}; workflow ${file}`);

const workflow = await loadWorkflow(file, root);
const gate = workflow.template.jobs.some((j) => j.id.value === 'ci');
// ci.yml's docker and integration jobs cannot pass without a Docker engine: then its result is assumed.
const assumeCi = gate && !sandbox.docker;
if (gate)
  say(
    assumeCi
      ? "CI: taken as passed (--assume-job ci=success): no Docker engine here (set DOCKER_HOST), and ci.yml's docker and integration jobs need one"
      : 'CI: ci.yml runs for real before each deploy (Docker engine at DOCKER_HOST)',
  );

const GOOD = { tag: 'v1.1.0', sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678' };
const BAD = { tag: 'v1.2.0', sha: 'b2c3d4e5f60718293a4b5c6d7e8f901234567890' };
const runs: RunRecord[] = [];
const print = printer({ prefix: '' });

async function release(tag: string, sha: string, broken: boolean): Promise<RunRecord> {
  say(colour('1', `▶ release ${tag} (commit ${sha.slice(0, 7)}): push of the tag runs ${workflow.file}`));
  const onEvent = (event: RunEvent): void => {
    print(event);
    if (event.type !== 'step-end') return;
    const step = event.step;
    if (step.kind === 'action')
      for (const line of step.lines.filter((l) => l.includes('alembic.runtime.migration')))
        console.log(`      ${colour('2', line)}`);
    // v1.2.0's containers exit at start: a setting the new version needs is missing.
    if (broken && step.outputs['image'] && step.uses?.includes('/build-push'))
      cloud.kube.images.set(step.outputs['image'], {
        kind: 'crash',
        exitCode: 1,
        after: 1500,
        lines: [
          'Traceback (most recent call last):',
          '  File "/app/planner/settings.py", line 41, in <module>',
          "    REDIS_URL = os.environ['REDIS_URL']",
          "KeyError: 'REDIS_URL'",
        ],
      });
  };
  const run = await runWorkflow({
    ...sandbox.options,
    file,
    event: 'push',
    ref: tag,
    sha,
    ...(assumeCi ? { assumeJobs: { ci: 'success' as const } } : {}),
    workDir: join(args.out, 'work'),
    onEvent,
  });
  say(
    `${run.conclusion === 'success' ? '✔' : '✖'} release ${tag}: ${run.conclusion} in ${run.seconds.toFixed(1)}s`,
  );
  runs.push(run);
  return run;
}

async function servingVersion(): Promise<string> {
  const response = await fetch(seed.appUrl('production', '/health'));
  const body = (await response.json().catch(() => ({}))) as { version?: string };
  return body.version ?? `HTTP ${response.status}`;
}

const steps = (run: RunRecord | undefined): StepRecord[] => run?.jobs.flatMap((j) => j.steps) ?? [];
const step = (run: RunRecord | undefined, name: string): StepRecord | undefined =>
  steps(run).find((s) => s.name === name);

let error: string | undefined;
let good: RunRecord | undefined;
let bad: RunRecord | undefined;
let serving = '';
try {
  good = await release(GOOD.tag, GOOD.sha, false);
  bad = await release(BAD.tag, BAD.sha, true);
  serving = await servingVersion();
  say(`production's /health now reports version ${serving}`);
} catch (e) {
  error = (e as Error).stack ?? String(e);
  say(colour('31', `demo error: ${error}`));
}

const rollout = step(bad, 'EKS deployment');
const rollback = step(bad, 'Rollback on failure');
const checks: Array<[string, boolean]> = [
  [`${GOOD.tag} deployed (every job succeeded)`, good?.conclusion === 'success'],
  [`${BAD.tag}'s rollout failed`, rollout?.outcome === 'failure'],
  [`${BAD.tag} was rolled back`, rollback?.outcome === 'success'],
  [`${GOOD.tag}'s commit serves again`, serving === GOOD.sha],
];
const ok = error === undefined && checks.every(([, passed]) => passed);
const releases = cloud.github?.releases().map((r) => r.tag_name) ?? [];
const snapshots = steps(good)
  .concat(steps(bad))
  .map((s) => s.outputs['snapshot-identifier'])
  .filter(Boolean);
const reason = rollout?.annotations.find((a) => a.level === 'error')?.message.split('\n')[0] ?? '';
const head = [
  `${ok ? '✅ **The good release shipped; the broken one was caught and rolled back.**' : '❌ **The demo did not end as the pipeline expects.**'} ` +
    `Total ${elapsed().toFixed(1)} s on ${new Date().toISOString().slice(0, 10)}; workflow \`${workflow.file}\`; ` +
    `the sandbox's controllers ran at ${1 / sandbox.timeScale}× speed; ` +
    `${sandbox.docker ? 'images built and pushed with a real Docker engine' : "no Docker engine, so build-push found each commit's image in ECR"}` +
    `${assumeCi ? "; CI's jobs taken as passed (--assume-job ci=success: no Docker engine)" : gate ? '; CI ran for real' : ''}.`,
  '',
  ...checks.map(([what, passed]) => `- ${passed ? '✅' : '❌'} ${what}`),
  `- ${BAD.tag}: ${reason || '(no rollout error)'}`,
  `- Now serving: version \`${serving}\`; releases: ${releases.join(', ') || 'none'}; snapshots before the migrations: ${snapshots.map((s) => `\`${s}\``).join(', ') || 'none'}.`,
  '',
];
const report = writeReport(
  args.out,
  runs,
  'planner-deploy demo: cd-production.yml on the local sandbox',
  head,
);

console.log('');
for (const [what, passed] of checks) say(`${passed ? colour('32', '✔') : colour('31', '✖')} ${what}`);
say(
  ok
    ? colour('32', '✔ demo passed: the good release deployed, the broken one was caught and rolled back')
    : colour('31', '✖ demo failed: see above'),
);
say(`report: ${report} (and report.html)`);

if (args.keep) {
  console.log(
    [
      '',
      '# The sandbox keeps running with this state. In another shell:',
      `export KUBECONFIG='${cloud.kube.kubeconfigPath}'`,
      ...Object.entries(cloud.env())
        .filter(([k]) => k !== 'KUBECONFIG')
        .map(([k, v]) => `export ${k}='${v}'`),
      'pnpm planner-deploy status production     # or: history production, logs production',
      '# Ctrl-C stops it.',
    ].join('\n'),
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
}
await sandbox.stop();
process.exit(ok ? 0 : 1);
