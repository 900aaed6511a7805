import {
  ActionFailure,
  CancelledError,
  ConfigurationError,
  SummaryBuilder,
  errorMessage,
  formatDuration,
} from '@planner-deploy/action-kit';
import { describeDatabaseRef, restoreCommands } from '@planner-deploy/aws/rds';
import type { Inputs } from './inputs.js';
import type { BackupResult } from './run.js';

/** The outputs of action.yml. */
export function toOutputs(result: BackupResult): Record<string, string> {
  return {
    'snapshot-identifier': result.snapshot.id,
    'snapshot-arn': result.snapshot.arn ?? '',
    status: result.snapshot.status,
    'duration-seconds': String(Math.round(result.durationMs / 1000)),
    reused: String(result.origin !== 'created'),
    'deleted-snapshots': JSON.stringify(result.retention?.deleted ?? []),
  };
}

const ORIGIN: Record<BackupResult['origin'], string> = {
  created: 'created by this step',
  reused: 'reused (it already existed: a re-run)',
  adopted: 'adopted (created concurrently by another run)',
};

export function buildSummary(result: BackupResult): SummaryBuilder {
  const { snapshot } = result;
  const summary = new SummaryBuilder().heading(`RDS backup: ${snapshot.id}`);
  summary.table(
    ['Database', 'Snapshot', 'Status', 'Duration', 'Snapshot origin'],
    [
      [
        `${describeDatabaseRef(result.database)} (${result.region})`,
        snapshot.id,
        snapshot.progress !== undefined && snapshot.status !== 'available'
          ? `${snapshot.status} (${snapshot.progress}%)`
          : snapshot.status,
        formatDuration(result.durationMs),
        ORIGIN[result.origin],
      ],
    ],
  );
  const tags = Object.entries(snapshot.tags);
  if (tags.length > 0)
    summary.details(`Tags (${tags.length})`, tags.map(([k, v]) => `${k}=${v}`).join('\n'), { code: true });
  summary.paragraph('**Restore** (into a new database; RDS never overwrites the existing one):');
  summary.codeBlock(restoreCommands(snapshot, result.region).join('\n'), 'sh');
  if (result.retention) {
    const { deleted, kept, failed, untouched } = result.retention;
    const parts = [
      `**Retention** (retain: ${result.retain ?? kept.length}): kept ${kept.length} of this action's snapshots of the database`,
      deleted.length > 0
        ? `, deleted ${deleted.length}: ${deleted.map((id) => `\`${id}\``).join(', ')}.`
        : ', deleted none.',
      ` Not touched: ${untouched} other manual snapshot${untouched === 1 ? '' : 's'} of the database and every automated one.`,
    ];
    if (failed.length > 0) {
      parts.push(` Could not delete: ${failed.map((f) => `\`${f.id}\` (${f.message})`).join(', ')}.`);
    }
    summary.paragraph(parts.join(''));
  } else if (result.retentionError) {
    summary.paragraph(`**Retention skipped:** ${result.retentionError}`);
  }
  return summary;
}

/** The error that fails the step, or undefined when it passes. */
export function verdictError(result: BackupResult): Error | undefined {
  const { snapshot } = result;
  const progress = snapshot.progress !== undefined ? `, ${snapshot.progress}%` : '';
  const deleteCommand =
    snapshot.kind === 'cluster'
      ? `aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier ${snapshot.id}`
      : `aws rds delete-db-snapshot --db-snapshot-identifier ${snapshot.id}`;
  switch (result.outcome) {
    case 'available':
    case 'started':
      return undefined;
    case 'failed':
      return new ActionFailure(
        'Snapshot failed',
        `Snapshot ${snapshot.id} of the ${describeDatabaseRef(result.database)} ended with status "${snapshot.status}": there is no usable backup, so do not run the migrations. See the database's RDS events for the cause, delete the failed snapshot (${deleteCommand}) and re-run the job (a re-run would otherwise find the failed one again).`,
      );
    case 'timeout':
      return new ActionFailure(
        'Snapshot not ready in time',
        `Snapshot ${snapshot.id} is still "${snapshot.status}"${progress} after the timeout of ${formatDuration(result.timeoutMs)}. It continues in RDS: re-run the job to wait for it again (the re-run reuses it), or raise the timeout input.`,
      );
    case 'cancelled':
      return new CancelledError(
        `Stopped waiting for snapshot ${snapshot.id} (status "${snapshot.status}"${progress}): the snapshot continues in RDS. A re-run of the job reuses it rather than taking a second one.`,
      );
  }
}

/** The summary of a step that failed before it had a snapshot to report (database not available, …). */
export function failureSummary(inputs: Inputs, error: unknown): SummaryBuilder {
  const title =
    error instanceof ActionFailure || error instanceof ConfigurationError ? `: ${error.title}` : '';
  return new SummaryBuilder()
    .heading(`RDS backup failed${title}`)
    .table(
      ['Database', 'Snapshot', 'Status'],
      [
        [
          `${describeDatabaseRef(inputs.database)} (${inputs.region})`,
          inputs['snapshot-identifier'],
          'not taken',
        ],
      ],
    )
    .paragraph(errorMessage(error));
}
