// build-push row of `pnpm bench`: a re-run whose commit tag is already in ECR (the build is skipped and
// the other tags point at the same image) beside a full build and push of a new commit, both through the
// built dist against a real dockerd and a real registry behind the sandbox's ECR. Without a Docker engine
// (docker on PATH and DOCKER_HOST) the row says it was not measured. One JSON row on stdout.
import { rm } from 'node:fs/promises';
import {
  dockerUnavailable,
  makeWorkspace,
  newSha,
  runAction,
  startCloud,
} from '../actions/build-push/test/e2e/environment.js';

const RUNS = Number(process.env.BENCH_BUILDS ?? 5);
const WHAT = 'build-push re-run with an existing tag (build skipped)';

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

const why = await dockerUnavailable();
if (why !== undefined) {
  console.log(
    JSON.stringify({
      what: WHAT,
      notMeasured: 'no Docker engine',
      theirsLabel: 'full build + push of a new commit',
      unit: 's',
      note: `not measured here: ${why}`,
    }),
  );
} else {
  const cloud = await startCloud();
  const full: number[] = [];
  const rerun: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const sha = newSha();
      const workspace = await makeWorkspace(`bench ${sha}`);
      const inputs = {
        repository: 'planner-app',
        'create-repository': 'true',
        environment: 'staging',
        cache: 'none',
      };
      const first = await runAction({ cloud, workspace, sha, inputs });
      if (first.exitCode !== 0) throw new Error(`the full build exited ${first.exitCode}:\n${first.log}`);
      const second = await runAction({ cloud, workspace, sha, inputs });
      if (second.exitCode !== 0) throw new Error(`the re-run exited ${second.exitCode}:\n${second.log}`);
      if (!/already|skip/i.test(second.log)) throw new Error(`the re-run built again:\n${second.log}`);
      full.push(first.durationMs + (first.post?.durationMs ?? 0));
      rerun.push(second.durationMs + (second.post?.durationMs ?? 0));
      await rm(workspace, { recursive: true, force: true });
    }
  } finally {
    await cloud.stop();
  }
  console.log(
    JSON.stringify({
      what: `${WHAT}, median of ${RUNS} (main + post step)`,
      ours: median(rerun) / 1000,
      theirs: median(full) / 1000,
      theirsLabel: 'full build + push of a new commit',
      unit: 's',
      note: 'a FROM-scratch image of one small layer, legacy docker builder, registry on loopback: on a real app the full build takes minutes and the re-run stays about the same',
    }),
  );
}
