/** An RDS DB instance (`instance`) or an Aurora DB cluster (`cluster`). */
export type DatabaseKind = 'instance' | 'cluster';

/** A database to back up. `id` is the DB instance or DB cluster identifier. */
export interface DatabaseRef {
  kind: DatabaseKind;
  id: string;
}

/** DBSnapshotIdentifier: 1–255 characters; DBClusterSnapshotIdentifier: 1–63 (and RDS stores it lowercase). */
export const SNAPSHOT_ID_MAX_LENGTH: Readonly<Record<DatabaseKind, number>> = { instance: 255, cluster: 63 };

/** DB instance and DB cluster identifiers: 1–63 characters, same letter/digit/hyphen rules. */
export const DATABASE_ID_MAX_LENGTH = 63;

/**
 * What is wrong with an RDS identifier (snapshot, instance or cluster), or undefined when it is valid:
 * letters, digits and hyphens, a letter first, no trailing hyphen, no two hyphens in a row, 1–`maxLength`.
 */
export function identifierProblem(id: string, maxLength: number): string | undefined {
  if (id.length === 0) return 'it is empty';
  if (id.length > maxLength) return `it has ${id.length} characters, more than the ${maxLength} allowed`;
  if (!/^[A-Za-z0-9-]+$/.test(id)) return 'it may contain only ASCII letters, digits and hyphens';
  if (!/^[A-Za-z]/.test(id)) return 'it must start with a letter';
  if (id.endsWith('-')) return 'it must not end with a hyphen';
  if (id.includes('--')) return 'it must not contain two consecutive hyphens';
  return undefined;
}

/** What is wrong with a snapshot identifier for this kind of database, or undefined. */
export function snapshotIdentifierProblem(id: string, kind: DatabaseKind): string | undefined {
  return identifierProblem(id, SNAPSHOT_ID_MAX_LENGTH[kind]);
}

/**
 * Turns any text into a fragment usable inside an identifier: lower case, every run of other characters
 * becomes one hyphen, no hyphen at either end. May return ''.
 */
export function identifierFragment(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export interface SnapshotIdentifierSource {
  kind: DatabaseKind;
  /** e.g. `pre-deploy`. */
  prefix: string;
  /** The database the snapshot is of; part of the name so two databases backed up in one run never collide. */
  database: string;
  /** `owner/name` or `name`; only the name is used. */
  repository?: string | undefined;
  /** The commit SHA; its first 7 characters are used. */
  sha?: string | undefined;
  /** GITHUB_RUN_ID. The run attempt is deliberately not part of the name: a re-run must find the same one. */
  runId: string;
}

/**
 * The default snapshot identifier: `<prefix>-<repository>-<database>-<sha7>-<run-id>`, lower case, made valid
 * for the database kind. The short SHA and the run id are never cut; when the whole is too long the repository
 * and database fragments are shortened (the longer one first), then the prefix. Stable across run attempts.
 */
export function deriveSnapshotIdentifier(source: SnapshotIdentifierSource): string {
  const max = SNAPSHOT_ID_MAX_LENGTH[source.kind];
  let prefix = identifierFragment(source.prefix);
  if (!/^[a-z]/.test(prefix)) prefix = prefix === '' ? 'snapshot' : `s-${prefix}`;
  const repositoryName = source.repository?.split('/').pop() ?? '';
  const middle = [identifierFragment(repositoryName), identifierFragment(source.database)];
  const tail = [identifierFragment(source.sha ?? '').slice(0, 7), identifierFragment(source.runId)]
    .filter((part) => part !== '')
    .join('-');

  const assemble = (): string => [prefix, ...middle, tail].filter((part) => part !== '').join('-');
  let id = assemble();
  // Shorten the longer middle fragment until it fits, so both keep as much of their meaning as they can.
  while (id.length > max && middle.some((part) => part !== '')) {
    const excess = id.length - max;
    const longest = middle[0]!.length >= middle[1]!.length ? 0 : 1;
    const other = middle[1 - longest]!.length;
    const current = middle[longest]!;
    const target = Math.max(other, current.length - excess, 0);
    const cut = target === current.length ? current.length - 1 : target;
    middle[longest] = current.slice(0, cut).replace(/-+$/, '');
    id = assemble();
  }
  if (id.length > max) {
    const room = Math.max(1, max - tail.length - 1);
    prefix = prefix.slice(0, room).replace(/-+$/, '');
    id = assemble().slice(0, max).replace(/-+$/, '');
  }
  const problem = snapshotIdentifierProblem(id, source.kind);
  if (problem !== undefined) throw new Error(`derived an invalid snapshot identifier "${id}": ${problem}`);
  return id;
}
