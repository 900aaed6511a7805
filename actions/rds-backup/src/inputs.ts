import {
  ConfigurationError,
  getBoolean,
  getDuration,
  getInteger,
  getLines,
  getOptionalString,
  invalidInput,
  parseMap,
} from '@planner-deploy/action-kit';
// The identifier and tag rules only; the RDS SDK itself is imported after validation, by run.ts.
import {
  DATABASE_ID_MAX_LENGTH,
  MAX_TAGS,
  backupTags,
  deriveSnapshotIdentifier,
  identifierProblem,
  snapshotIdentifierProblem,
  tagProblem,
  type DatabaseRef,
} from '@planner-deploy/aws/rds';

/** The inputs of action.yml, validated before any request. Durations are in ms. */
export interface Inputs {
  'db-instance-identifier': string | undefined;
  'db-cluster-identifier': string | undefined;
  /** The database named by whichever of the two identifiers is set. */
  database: DatabaseRef;
  /** Given, or derived from snapshot-prefix and the run; valid for the database kind. */
  'snapshot-identifier': string;
  /** Whether snapshot-identifier was derived (and how), for the log and summary. */
  'snapshot-identifier-derived': boolean;
  'snapshot-prefix': string;
  /** The user's tags merged with the automatic ones. */
  tags: Record<string, string>;
  wait: boolean;
  timeout: number;
  'poll-interval': number;
  retain: number | undefined;
  region: string;
  /** The run this step belongs to (from the runner's environment). */
  run: RunInfo;
}

export interface RunInfo {
  repository: string | undefined;
  sha: string | undefined;
  runId: string | undefined;
  runAttempt: string | undefined;
  runUrl: string | undefined;
}

/** GitHub stops a job after 6 hours; a longer wait is a typo. */
const MAX_MS = 6 * 3_600_000;
const MAX_PREFIX = 30;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export function readInputs(env: Record<string, string | undefined> = process.env): Inputs {
  const database = readDatabase();
  const run = readRun(env);
  const prefix = readPrefix();
  const snapshotId = readSnapshotIdentifier(database, prefix, run);
  const tags = readTags(database, run);
  const wait = getBoolean('wait', true);
  const timeout = getDuration('timeout', 30 * 60_000, { minMs: 1000, maxMs: MAX_MS });
  const pollInterval = getDuration('poll-interval', 5000, { minMs: 200, maxMs: 5 * 60_000 });
  const retain = getInteger('retain', undefined, { min: 1, max: 100 });
  const region = readRegion(env);
  return {
    'db-instance-identifier': database.kind === 'instance' ? database.id : undefined,
    'db-cluster-identifier': database.kind === 'cluster' ? database.id : undefined,
    database,
    'snapshot-identifier': snapshotId.id,
    'snapshot-identifier-derived': snapshotId.derived,
    'snapshot-prefix': prefix,
    tags,
    wait,
    timeout,
    'poll-interval': pollInterval,
    retain,
    region,
    run,
  };
}

function readDatabase(): DatabaseRef {
  const instance = getOptionalString('db-instance-identifier');
  const cluster = getOptionalString('db-cluster-identifier');
  if (instance !== undefined && cluster !== undefined) {
    throw new ConfigurationError(
      'Inputs "db-instance-identifier" and "db-cluster-identifier" are both set: set exactly one (db-cluster-identifier for an Aurora cluster, db-instance-identifier for an RDS DB instance).',
      { title: 'Invalid input: db-instance-identifier' },
    );
  }
  if (instance === undefined && cluster === undefined) {
    throw new ConfigurationError(
      'Input "db-instance-identifier" or "db-cluster-identifier" is required (the RDS DB instance, or the Aurora DB cluster, to snapshot), but neither was set.',
      { title: 'Missing input: db-instance-identifier' },
    );
  }
  const name = instance !== undefined ? 'db-instance-identifier' : 'db-cluster-identifier';
  const id = (instance ?? cluster) as string;
  const problem = identifierProblem(id, DATABASE_ID_MAX_LENGTH);
  if (problem !== undefined) {
    throw invalidInput(
      name,
      id,
      `${problem}; expected an RDS identifier (a letter, then letters, digits and single hyphens, at most 63 characters).`,
    );
  }
  return { kind: instance !== undefined ? 'instance' : 'cluster', id };
}

function readRun(env: Record<string, string | undefined>): RunInfo {
  const value = (name: string): string | undefined => {
    const text = env[name]?.trim();
    return text === '' ? undefined : text;
  };
  const repository = value('GITHUB_REPOSITORY');
  const runId = value('GITHUB_RUN_ID');
  const server = value('GITHUB_SERVER_URL') ?? 'https://github.com';
  return {
    repository,
    sha: value('GITHUB_SHA'),
    runId,
    runAttempt: value('GITHUB_RUN_ATTEMPT'),
    runUrl: repository && runId ? `${server}/${repository}/actions/runs/${runId}` : undefined,
  };
}

function readPrefix(): string {
  const prefix = getOptionalString('snapshot-prefix') ?? 'pre-deploy';
  const problem = identifierProblem(prefix, MAX_PREFIX);
  if (problem !== undefined) {
    throw invalidInput(
      'snapshot-prefix',
      prefix,
      `${problem}; expected a letter, then letters, digits and single hyphens, at most ${MAX_PREFIX} characters.`,
    );
  }
  return prefix;
}

function readSnapshotIdentifier(
  database: DatabaseRef,
  prefix: string,
  run: RunInfo,
): { id: string; derived: boolean } {
  const given = getOptionalString('snapshot-identifier');
  if (given !== undefined) {
    const problem = snapshotIdentifierProblem(given, database.kind);
    if (problem !== undefined) {
      const max = database.kind === 'cluster' ? 63 : 255;
      throw invalidInput(
        'snapshot-identifier',
        given,
        `${problem}; expected a letter, then letters, digits and single hyphens, at most ${max} characters${database.kind === 'cluster' ? ' for a DB cluster snapshot' : ''}.`,
      );
    }
    // RDS stores snapshot identifiers in lower case; use what it will report.
    return { id: given.toLowerCase(), derived: false };
  }
  if (run.runId === undefined) {
    throw new ConfigurationError(
      'Input "snapshot-identifier" is required outside GitHub Actions: the default is derived from GITHUB_RUN_ID, which is not set.',
      { title: 'Missing input: snapshot-identifier' },
    );
  }
  const id = deriveSnapshotIdentifier({
    kind: database.kind,
    prefix,
    database: database.id,
    repository: run.repository,
    sha: run.sha,
    runId: run.runId,
  });
  return { id, derived: true };
}

function readTags(database: DatabaseRef, run: RunInfo): Record<string, string> {
  const user = parseMap('tags', getLines('tags'), '=');
  const automatic = backupTags({ database, ...run });
  for (const [key, value] of user) {
    const problem = tagProblem(key, value);
    if (problem !== undefined) {
      throw invalidInput('tags', `${key}=${value}`, `${problem}; expected key=value lines.`);
    }
  }
  const total = user.size + Object.keys(automatic).length;
  if (total > MAX_TAGS) {
    throw invalidInput(
      'tags',
      [...user.keys()].join(', '),
      `${user.size} tags plus ${Object.keys(automatic).length} automatic ones make ${total}, more than the ${MAX_TAGS} RDS allows on a snapshot.`,
    );
  }
  return { ...Object.fromEntries(user), ...automatic };
}

function readRegion(env: Record<string, string | undefined>): string {
  const given = getOptionalString('region');
  const region = given ?? (env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined);
  if (region === undefined) {
    throw new ConfigurationError(
      'Input "region" is required when the AWS_REGION environment variable is not set (aws-actions/configure-aws-credentials sets it).',
      { title: 'Missing input: region' },
    );
  }
  if (!REGION.test(region)) {
    throw invalidInput(
      'region',
      region,
      `expected an AWS region such as us-east-1 or eu-west-2${given === undefined ? ' (taken from AWS_REGION)' : ''}.`,
    );
  }
  return region;
}
