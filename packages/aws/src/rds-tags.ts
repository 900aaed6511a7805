import type { DatabaseRef } from './rds-identifiers.js';

/** Keys of the tags rds-backup puts on every snapshot it takes. Users cannot set keys with this prefix. */
export const TAG_PREFIX = 'planner-deploy:';
export const TAGS = {
  /** The marker: only snapshots carrying it (with MARKER_VALUE) are ever considered for retention. */
  createdBy: 'planner-deploy:created-by',
  /** The DB instance or DB cluster identifier, lower case; retention also checks it. */
  database: 'planner-deploy:database',
  repository: 'planner-deploy:repository',
  sha: 'planner-deploy:sha',
  runId: 'planner-deploy:run-id',
  /** The run attempt that took the snapshot; a re-run that reuses it leaves it as it is. */
  runAttempt: 'planner-deploy:run-attempt',
  runUrl: 'planner-deploy:run-url',
} as const;
export const MARKER_VALUE = 'rds-backup';

/** RDS allows 50 tags on a resource. */
export const MAX_TAGS = 50;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** What is wrong with a user tag, or undefined (RDS tag rules, plus our reserved prefix). */
export function tagProblem(key: string, value: string): string | undefined {
  if (key.length < 1 || key.length > 128) return `the key "${key}" must have 1 to 128 characters`;
  if (value.length > 256) return `the value of "${key}" has more than 256 characters`;
  if (!TAG_CHARS.test(key) || !TAG_CHARS.test(value)) {
    return `tag "${key}" may use only letters, digits, spaces and _ . : / = + - @`;
  }
  const lower = key.toLowerCase();
  if (lower.startsWith('aws:') || lower.startsWith('rds:'))
    return `the key "${key}" uses a prefix reserved by AWS`;
  if (lower.startsWith(TAG_PREFIX))
    return `the key "${key}" uses the prefix ${TAG_PREFIX} reserved for the automatic tags`;
  return undefined;
}

/** Makes a value from the environment acceptable as a tag value (it is informative, never matched). */
export function tagValue(text: string): string {
  return text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);
}

export interface BackupTagSource {
  database: DatabaseRef;
  repository?: string | undefined;
  sha?: string | undefined;
  runId?: string | undefined;
  runAttempt?: string | undefined;
  runUrl?: string | undefined;
}

/** The automatic tags of a snapshot taken by rds-backup (the marker and the database always). */
export function backupTags(source: BackupTagSource): Record<string, string> {
  const tags: Record<string, string> = {
    [TAGS.createdBy]: MARKER_VALUE,
    [TAGS.database]: source.database.id.toLowerCase(),
  };
  const optional: Array<[string, string | undefined]> = [
    [TAGS.repository, source.repository],
    [TAGS.sha, source.sha],
    [TAGS.runId, source.runId],
    [TAGS.runAttempt, source.runAttempt],
    [TAGS.runUrl, source.runUrl],
  ];
  for (const [key, value] of optional) if (value) tags[key] = tagValue(value);
  return tags;
}

/**
 * Whether a snapshot was taken by rds-backup for this database: our marker tag, our database tag naming it,
 * and the snapshot's own source database naming it too. All three must hold.
 */
export function isBackupOf(
  snapshot: { databaseId: string; type?: string | undefined; tags: Record<string, string> },
  database: DatabaseRef,
): boolean {
  const id = database.id.toLowerCase();
  return (
    snapshot.type === 'manual' &&
    snapshot.tags[TAGS.createdBy] === MARKER_VALUE &&
    snapshot.tags[TAGS.database]?.toLowerCase() === id &&
    snapshot.databaseId.toLowerCase() === id
  );
}
