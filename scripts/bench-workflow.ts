// `pnpm bench`'s workflow rows: the wall time of examples/workflows/cd-production.yml run through
// `pnpm workflow` on the sandbox (release v1.1.0, CI's jobs taken as passed), and the share of it our steps
// add beyond what the sandbox's cluster takes. The cluster's own time (pods provisioned and started, the
// migration Job, the RDS snapshot, the 60 s settle wait) runs on the sandbox clock; everything else does
// not (process starts, API calls, verify-health's interval between checks). So the workflow runs at two time
// scales: wall(s) = ours + s × cluster, per step and in total, and the two runs give both parts.
// Prints one JSON row per line for scripts/bench.mjs (`node … scripts/bench-workflow.ts`).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runWorkflow, type RunRecord } from '@planner-deploy/runner-harness/workflow';
import { root, workflowSandbox } from './workflow-sandbox.js';

const FILE = join(root, 'examples/workflows/cd-production.yml');
const SCALES = [0.05, 0.25];
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

async function once(timeScale: number): Promise<RunRecord> {
  const sandbox = await workflowSandbox({ timeScale, env: {} });
  const workDir = join(root, '.tmp', `bench-workflow-${timeScale}`);
  try {
    const run = await runWorkflow({
      ...sandbox.options,
      file: FILE,
      event: 'push',
      ref: 'v1.1.0',
      sha: SHA,
      assumeJobs: { ci: 'success' },
      workDir,
    });
    if (run.conclusion !== 'success') throw new Error(`cd-production failed at time scale ${timeScale}`);
    return run;
  } finally {
    await sandbox.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

const runs: RunRecord[] = [];
for (const scale of SCALES) runs.push(await once(scale));
const [s1, s2] = SCALES as [number, number];
const [r1, r2] = runs as [RunRecord, RunRecord];

/** Splits a time measured at both scales into the part that does not scale and the cluster's part at s2. */
function split(w1: number, w2: number): { ours: number; cluster: number } {
  const perScale = (w2 - w1) / (s2 - s1);
  const cluster = Math.max(0, perScale * s2);
  return { ours: Math.max(0, w2 - cluster), cluster };
}
const total = split(r1.seconds, r2.seconds);
const stepTimes = (r: RunRecord): Map<string, number> =>
  new Map(r.jobs.flatMap((j) => j.steps).map((s) => [s.name, s.seconds]));
const t1 = stepTimes(r1);
const breakdown = [...stepTimes(r2)]
  .filter(([name]) => t1.has(name))
  .map(([name, w2]) => ({ name, ...split(t1.get(name) ?? 0, w2) }))
  .filter((s) => s.ours + s.cluster >= 0.2)
  .map((s) => `${s.name} ${s.ours.toFixed(1)} s + cluster ${s.cluster.toFixed(1)} s`)
  .join('; ');

console.log(
  JSON.stringify({
    what: `cd-production.yml through pnpm workflow on the sandbox at ${1 / s2}× speed (release v1.1.0, CI assumed): wall time`,
    ours: r2.seconds,
    theirs: total.cluster,
    theirsLabel: "the sandbox cluster's own time in it",
    unit: 's',
    note: `at ${1 / s1}× speed the same run took ${r1.seconds.toFixed(1)} s; per step (ours + the cluster's): ${breakdown}`,
  }),
);
console.log(
  JSON.stringify({
    what: "cd-production.yml: the share of its wall time our steps add beyond the sandbox cluster's",
    ours: (100 * total.ours) / r2.seconds,
    unit: '%',
    note: `${total.ours.toFixed(1)} s of ${r2.seconds.toFixed(1)} s do not scale with the cluster's clock: process starts, API calls, and verify-health's 5 s interval × 3 consecutive successes that cd-production asks for`,
  }),
);
