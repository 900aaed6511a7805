// What the fault matrix asserts on every run, apart from the outcome: the faults served, no duplicate
// writes, nothing left unsaid, and every fault served named in the log.
import { MUTATING_VERBS } from '@planner-deploy/sandbox';
import type { Outcome, RunNames, RunRecord, Scenario, World } from './scenarios.js';

/** Counters read before a run, to tell what the sandbox served during it. */
export interface Snapshot {
  watchesCut: number;
  watchesExpired: number;
}

export function snapshotCounters(world: World): Snapshot {
  const s = world.kube.faults.stats;
  return { watchesCut: s.watchesCut, watchesExpired: s.watchesExpired };
}

/** Faults the sandbox served to one run. */
export interface Served {
  /** Kubernetes 5xx answers. */
  errors: number;
  /** Kubernetes 429 answers. */
  throttled: number;
  /** Kubernetes connections reset without an answer. */
  resets: number;
  watchCuts: number;
  /** Forced 410 Expired on a watch. */
  expired: number;
  /** RDS Throttling and InternalFailure answers. */
  rds: number;
  /** ECR ThrottlingException answers. */
  ecr: number;
  /** GitHub 502 and rate-limit answers. */
  github: number;
}

/** The error codes the sandbox's injected AWS faults answer with. */
const AWS_FAULTS = new Set(['Throttling', 'ThrottlingException', 'InternalFailure', 'ServiceUnavailable']);

export function servedFaults(
  world: World,
  before: Snapshot,
  record: RunRecord,
  lane: string,
  cutsConfigured: boolean,
): Served {
  // A fault counts as survived when the client asked again (the same verb on the same object later in the
  // run): a request its client was abandoning that instant (it had its answer from elsewhere) can be served a
  // fault it never sees; that one is not a fault survived.
  const key = (r: RunRecord['kube'][number]) =>
    `${r.verb} ${r.resource}/${r.subresource ?? ''} ${r.name ?? ''}`;
  const retried = (i: number) =>
    record.kube.slice(i + 1).some((later) => key(later) === key(record.kube[i]!));
  const kube = (fault: string) => record.kube.filter((r, i) => r.fault === fault && retried(i)).length;
  const stats = world.kube.faults.stats;
  return {
    errors: kube('error'),
    throttled: kube('throttle'),
    resets: kube('reset'),
    // Watch counters are the sandbox's: only the Kubernetes lane's run can have moved them.
    // (A cut timer of a watch an earlier run opened can fire late: counted only when this run set cuts.)
    watchCuts: lane === 'kube' && cutsConfigured ? stats.watchesCut - before.watchesCut : 0,
    expired: lane === 'kube' ? stats.watchesExpired - before.watchesExpired : 0,
    // AWS requests are a slice of everything served meanwhile: only the service's own lane counts them.
    rds:
      lane === 'rds'
        ? record.aws.filter((r) => r.service === 'rds' && AWS_FAULTS.has(r.error ?? '')).length
        : 0,
    ecr:
      lane === 'ecr'
        ? record.aws.filter((r) => r.service === 'ecr' && AWS_FAULTS.has(r.error ?? '')).length
        : 0,
    github: lane === 'github' ? record.github.filter((r) => r.status === 502 || r.status === 403).length : 0,
  };
}

/** The outcome with the run's own names replaced, so runs of one scenario compare equal. */
export function normalise(record: RunRecord, names: RunNames): Outcome {
  let text = JSON.stringify(record.outcome);
  const replace = (from: string | undefined, to: string): void => {
    if (from) text = text.split(from).join(to);
  };
  replace(names.seededDigest, '<seeded digest>');
  replace(names.sha, '<sha>');
  replace(names.sha?.slice(0, 7), '<sha7>');
  const repo = names.old?.replace(/:v1\.0\.0$/, '');
  replace(repo, '<repo>');
  replace(names.tag, 'v3.#.0');
  text = text.replace(new RegExp(`fm${record.id}(?![0-9])`, 'g'), 'fm#');
  return JSON.parse(text) as Outcome;
}

/** Successful, non-dry-run writes to the Kubernetes API, per verb and resource. */
function kubeWrites(record: RunRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of record.kube) {
    // A reset request is recorded with the default status 200 though it was never handled: skip faulted ones.
    if (!MUTATING_VERBS.has(r.verb) || r.dryRun || r.fault !== undefined || r.status < 200 || r.status > 299)
      continue;
    const key = `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

const AWS_WRITES = new Set([
  'CreateDBSnapshot',
  'DeleteDBSnapshot',
  'AddTagsToResource',
  'PutImage',
  'BatchDeleteImage',
  'CreateRepository',
]);

function awsWrites(record: RunRecord, service: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of record.aws) {
    if (r.service !== service || !AWS_WRITES.has(r.action) || r.status !== 200) continue;
    out[r.action] = (out[r.action] ?? 0) + 1;
  }
  return out;
}

/** Problems (empty when none): something written twice, or a second Job / snapshot / release. */
export function checkDuplicates(
  world: World,
  scenario: Scenario,
  run: { record: RunRecord; prepared: RunNames },
  base: { record: RunRecord },
): string[] {
  const problems: string[] = [];
  const { record, prepared: n } = run;
  const same = (what: string, got: unknown, want: unknown): void => {
    if (JSON.stringify(got) !== JSON.stringify(want))
      problems.push(`${what}: ${JSON.stringify(got)}, fault-free ${JSON.stringify(want)}`);
  };
  const { aws, github } = world.cloud;
  const kube = world.kube;
  switch (scenario) {
    case 'migration-ok':
    case 'migration-failing':
      same('successful Kubernetes writes', kubeWrites(record), kubeWrites(base.record));
      same('Jobs in the namespace', kube.store.list('jobs', n.namespace).length, 1);
      break;
    case 'good-deploy':
    case 'broken-deploy':
      same('successful Kubernetes writes', kubeWrites(record), kubeWrites(base.record));
      break;
    case 'backup':
      same('RDS writes', awsWrites(record, 'rds'), awsWrites(base.record, 'rds'));
      same('snapshots of the database', aws.rds.snapshots.filter((s) => s.sourceId === n.db).length, 1);
      break;
    case 'build-push-skip':
      same('ECR writes', awsWrites(record, 'ecr'), awsWrites(base.record, 'ecr'));
      break;
    case 'release': {
      const creates = (r: RunRecord) =>
        r.github.filter(
          (q) => q.method === 'POST' && /\/releases$/.test(q.url.split('?')[0] ?? '') && q.status === 201,
        ).length;
      same('releases created', creates(record), creates(base.record));
      same(`releases of ${n.tag}`, github?.releases().filter((r) => r.tag_name === n.tag).length, 1);
      break;
    }
  }
  return problems;
}

/** Problems (empty when none): a failed run that does not say what it left behind. */
export function checkNothingUnsaid(scenario: Scenario, record: RunRecord): string[] {
  const problems: string[] = [];
  const says = (text: string | RegExp, why: string): void => {
    const found = typeof text === 'string' ? record.log.includes(text) : text.test(record.log);
    if (!found) problems.push(`the log does not say ${why} (${String(text)})`);
  };
  if (scenario === 'migration-failing') {
    const job = String(record.outcome.keys.job ?? '');
    says(`job.batch/${job} failed with exit code 1`, 'which Job failed and how');
    says('The deployment was not changed', 'that the Deployment was left as it was');
  }
  if (scenario === 'broken-deploy') {
    says('is at revision 2 (was 1); it was not rolled back', 'the revision the failed rollout left');
    says('deployment.apps/planner-app rolled back', 'that the rollback was applied');
    says('planner-app: rollback rolled out', 'that the rollback rolled out');
  }
  return problems;
}

/** Each fault kind served, and what its retry line must contain. */
const NAMED: Array<[keyof Served, RegExp, string]> = [
  ['errors', /HTTP 5\d\d/, 'HTTP 5xx'],
  ['throttled', /HTTP 429/, 'HTTP 429'],
  ['resets', /connection reset/, 'connection reset'],
  ['rds', /Throttling|InternalFailure/, 'RDS Throttling / InternalFailure'],
  ['ecr', /ThrottlingException/, 'ECR ThrottlingException'],
  ['github', /answered 502|rate limit/i, 'GitHub 502 / rate limit'],
];

/** Problems (empty when none): a fault kind the sandbox served that the log does not name. */
export function checkFaultsNamed(record: RunRecord, served: Served): string[] {
  return NAMED.filter(([k, pattern]) => served[k] > 0 && !pattern.test(record.log)).map(
    ([k, , what]) => `${served[k]} × ${what} served, but no log line names it`,
  );
}
