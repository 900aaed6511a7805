import {
  ActionFailure,
  CancelledError,
  escapeMarkdown,
  formatDuration,
  quoteUntrusted,
  SummaryBuilder,
} from '@planner-deploy/action-kit';
import type { AutoRollbackReport, RollbackReport } from './run.js';

const RESULT: Record<RollbackReport['outcome'], string> = {
  'rolled-back': '✅ rolled back',
  'already-there': '✅ already at that revision',
  failed: '❌ failed',
  refused: '⛔ refused',
  'timed-out': '⏱️ timed out',
  cancelled: '⏹️ cancelled',
};

const ok = (r: RollbackReport): boolean => r.outcome === 'rolled-back' || r.outcome === 'already-there';

export function toOutputs(report: AutoRollbackReport): Record<string, unknown> {
  const revision =
    report.deployments.length === 1
      ? String(report.deployments[0]?.revision)
      : JSON.stringify(Object.fromEntries(report.deployments.map((d) => [d.name, d.revision])));
  return {
    'rolled-back': String(report.deployments.some((d) => d.outcome === 'rolled-back')),
    revision,
    'result-json': report.deployments.map((d) => ({
      name: d.name,
      outcome: d.outcome,
      'from-revision': d.fromRevision,
      'to-revision': d.toRevision,
      revision: d.revision,
      'images-before': d.imagesBefore,
      'images-after': d.imagesAfter,
      message: d.message,
    })),
  };
}

export function restoreInstructions(snapshot: string): string {
  return [
    `The database was NOT restored: a restore replaces data written since the snapshot, so it is a decision for a person.`,
    `Snapshot taken before the migrations: \`${snapshot}\`. To restore it into a new instance:`,
    '',
    '```sh',
    `aws rds restore-db-instance-from-db-snapshot --db-instance-identifier <new-instance> --db-snapshot-identifier ${snapshot}`,
    `# Aurora: aws rds restore-db-cluster-from-snapshot --db-cluster-identifier <new-cluster> --snapshot-identifier ${snapshot} --engine <engine>`,
    '```',
  ].join('\n');
}

export function buildSummary(report: AutoRollbackReport): SummaryBuilder {
  const allOk = report.deployments.every(ok);
  const summary = new SummaryBuilder()
    .heading(`Rollback ${allOk ? '✅' : '❌'} ${report.deployments.map((d) => d.name).join(', ')}`)
    .paragraph(
      `Namespace \`${report.namespace}\` on ${report.cluster}${report.reason ? `. Reason: ${escapeMarkdown(quoteUntrusted(report.reason))}` : ''}. ${formatDuration(report.durationMs)} in all.`,
    )
    .table(
      ['Deployment', 'Result', 'Revision', 'Image', 'Detail'],
      report.deployments.map((d) => [
        d.name,
        RESULT[d.outcome],
        d.outcome === 'rolled-back'
          ? `${d.fromRevision} → ${d.revision} (template of ${d.toRevision || 'the previous revision'})`
          : String(d.fromRevision),
        d.imagesBefore.join(', ') === d.imagesAfter.join(', ')
          ? d.imagesAfter.join(', ')
          : `${d.imagesBefore.join(', ')} → ${d.imagesAfter.join(', ')}`,
        d.message,
      ]),
    );
  for (const d of report.deployments) {
    if (d.diagnosis?.logs?.length)
      summary.details(`${d.name}: last log lines of ${d.diagnosis.pod}`, d.diagnosis.logs.join('\n'), {
        code: true,
      });
  }
  if (report.snapshot) summary.paragraph(restoreInstructions(report.snapshot));
  return summary;
}

export function verdictError(report: AutoRollbackReport): Error | undefined {
  const bad = report.deployments.filter((d) => !ok(d));
  if (bad.length === 0) return undefined;
  const text = bad.map((d) => `${d.name}: ${d.message}`).join('; ');
  if (bad.every((d) => d.outcome === 'cancelled')) {
    return new CancelledError(
      `Cancelled while the rollback rolled out: ${text}. The rollback goes on in the cluster.`,
    );
  }
  if (bad.every((d) => d.outcome === 'refused')) return new ActionFailure('Rollback refused', text);
  return new ActionFailure(
    'Rollback failed',
    `${text}. Production may still run the failed version: look at the job summary and act by hand (kubectl rollout undo).`,
  );
}
