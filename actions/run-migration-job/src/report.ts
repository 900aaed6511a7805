import {
  ActionFailure,
  CancelledError,
  formatDuration,
  quoteUntrusted,
  SummaryBuilder,
} from '@planner-deploy/action-kit';
import type { MigrationReport } from './run.js';

export function toOutputs(report: MigrationReport): Record<string, unknown> {
  return {
    'job-name': report.jobName,
    'exit-code': report.result.exitCode === undefined ? '' : String(report.result.exitCode),
    status: report.result.status,
  };
}

const ICON = { succeeded: '✅', failed: '❌', 'timed-out': '⏱️', cancelled: '⏹️' } as const;

export function buildSummary(report: MigrationReport): SummaryBuilder {
  const r = report.result;
  const summary = new SummaryBuilder()
    .heading(`Migration ${ICON[r.status]} ${r.status}`)
    .table(
      ['Job', 'Namespace', 'Status', 'Exit code', 'Reason', 'Time'],
      [[report.jobName, report.namespace, r.status, r.exitCode, r.reason, formatDuration(r.durationMs)]],
    )
    .paragraph(r.message);
  if (report.adopted)
    summary.paragraph('The Job already existed from this run and was followed, not created again.');
  if (r.diagnosis?.events?.length)
    summary.details('Pod events', r.diagnosis.events.join('\n'), { code: true });
  if (r.logTail.length > 0)
    summary.details(`Last ${r.logTail.length} log lines`, r.logTail.join('\n'), { code: true });
  if (report.cancelNote) summary.paragraph(report.cancelNote);
  return summary;
}

export function verdictError(report: MigrationReport): Error | undefined {
  const r = report.result;
  if (r.status === 'succeeded') return undefined;
  if (r.status === 'cancelled')
    return new CancelledError(`Cancelled during the migration. ${report.cancelNote ?? ''}`.trim());
  // The workload's own words, quoted line by line: the annotation must not carry a command or a 64 MiB line.
  const tail = r.logTail
    .slice(-5)
    .map((line) => quoteUntrusted(line, 300))
    .join('\n');
  const code = r.exitCode !== undefined ? ` with exit code ${r.exitCode}` : '';
  return new ActionFailure(
    r.status === 'timed-out' ? 'Migration timed out' : 'Migration failed',
    `job.batch/${report.jobName} ${r.status === 'timed-out' ? 'timed out' : 'failed'}${code}${r.reason ? ` (${r.reason})` : ''}: ${r.message}.${tail ? `\nLast log lines:\n${tail}` : ''}\nThe deployment was not changed. Fix the migration and re-run; if it failed part-way, check the schema version (alembic current) first.`,
  );
}
