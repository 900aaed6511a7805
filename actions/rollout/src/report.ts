import {
  ActionFailure,
  CancelledError,
  formatDuration,
  quoteUntrusted,
  SummaryBuilder,
} from '@planner-deploy/action-kit';
import type { DeploymentReport, RolloutReport } from './run.js';

const ICON: Record<DeploymentReport['outcome'], string> = {
  succeeded: '✅ rolled out',
  applied: '➡️ applied (not waited for)',
  failed: '❌ failed',
  'timed-out': '⏱️ timed out',
  cancelled: '⏹️ cancelled',
};

/** One value for one deployment; a JSON object `{name: value}` for several. */
function perDeployment(report: RolloutReport, pick: (d: DeploymentReport) => number): string {
  if (report.deployments.length === 1) return String(pick(report.deployments[0] as DeploymentReport));
  return JSON.stringify(Object.fromEntries(report.deployments.map((d) => [d.name, pick(d)])));
}

export function toOutputs(report: RolloutReport): Record<string, unknown> {
  return {
    'previous-revision': perDeployment(report, (d) => d.previousRevision),
    revision: perDeployment(report, (d) => d.revision),
    'previous-images': Object.fromEntries(report.deployments.map((d) => [d.name, d.imagesBefore])),
    'result-json': report.deployments.map((d) => ({
      name: d.name,
      outcome: d.outcome,
      message: d.message,
      'previous-revision': d.previousRevision,
      revision: d.revision,
      'images-before': d.imagesBefore,
      'images-after': d.imagesAfter,
      replicas: d.replicas,
      'duration-ms': d.durationMs,
      changed: d.changed,
      ...(d.uncertain ? { 'change-uncertain': true } : {}),
      ...(d.diagnosis ? { diagnosis: d.diagnosis } : {}),
    })),
  };
}

function arrow(d: DeploymentReport): string {
  const before = d.imagesBefore.join(', ');
  const after = d.imagesAfter.join(', ');
  return before === after ? after : `${before} → ${after}`;
}

export function buildSummary(report: RolloutReport): SummaryBuilder {
  const ok = report.deployments.every((d) => d.outcome === 'succeeded' || d.outcome === 'applied');
  const summary = new SummaryBuilder()
    .heading(`Rollout ${ok ? '✅' : '❌'} ${report.deployments.map((d) => d.name).join(', ')}`)
    .paragraph(
      `Namespace \`${report.namespace}\` on ${report.cluster}, ${formatDuration(report.durationMs)} in all.`,
    )
    .table(
      ['Deployment', 'Result', 'Image', 'Revision', 'Replicas', 'Time'],
      report.deployments.map((d) => [
        d.name,
        ICON[d.outcome],
        arrow(d),
        d.changed ? `${d.previousRevision} → ${d.revision}` : String(d.revision),
        d.replicas,
        formatDuration(d.durationMs),
      ]),
    );
  // A failure after a change: the summary says what changed and what did not (the step's error says it too).
  if (report.failure) summary.paragraph(`> ${report.failure.message}`);
  for (const d of report.deployments) {
    if (d.warning) summary.paragraph(`> ⚠️ ${d.warning}`);
    const diagnosis = d.diagnosis;
    if (!diagnosis) continue;
    const lines = [
      `Reason:    ${diagnosis.reason}`,
      `Pod:       ${diagnosis.pod}`,
      ...(diagnosis.container ? [`Container: ${diagnosis.container}`] : []),
      ...(diagnosis.exitCode !== undefined ? [`Exit code: ${diagnosis.exitCode}`] : []),
      `Message:   ${diagnosis.message}`,
    ];
    summary.details(`${d.name}: ${diagnosis.reason} in pod ${diagnosis.pod}`, lines.join('\n'), {
      code: true,
    });
    if (diagnosis.events?.length)
      summary.details(`${d.name}: last events`, diagnosis.events.join('\n'), { code: true });
    if (diagnosis.logs?.length)
      summary.details(`${d.name}: last log lines`, diagnosis.logs.join('\n'), { code: true });
  }
  if (!ok) {
    const failed = report.deployments.filter((d) => d.changed && d.outcome !== 'succeeded');
    if (failed.length > 0) {
      summary.paragraph(
        `To go back: run auto-rollback with \`to-revision\` ${failed.map((d) => `${d.previousRevision} (${d.name})`).join(', ')}, or \`kubectl rollout undo deployment/<name> --to-revision=<N> -n ${report.namespace}\`.`,
      );
    }
  }
  return summary;
}

/** The step's verdict: undefined when every deployment rolled out. */
export function verdictError(report: RolloutReport): Error | undefined {
  const bad = report.deployments.filter((d) => d.outcome !== 'succeeded' && d.outcome !== 'applied');
  if (bad.length === 0) return undefined;
  const state = bad
    .map((d) => `${d.name} is at revision ${d.revision} (was ${d.previousRevision}); it was not rolled back`)
    .join('; ');
  if (bad.every((d) => d.outcome === 'cancelled')) {
    return new CancelledError(
      `Cancelled while waiting for the rollout: ${state}. The rollout goes on in the cluster.`,
    );
  }
  const reasons = bad.map((d) => {
    const diag = d.diagnosis;
    const detail = diag
      ? `${diag.reason} in pod ${diag.pod}${diag.container ? ` (container ${diag.container})` : ''}: ${diag.message}`
      : d.message;
    return `${d.name}: ${detail}`;
  });
  return new ActionFailure(
    `Rollout ${bad.every((d) => d.outcome === 'timed-out') ? 'timed out' : 'failed'}`,
    `${reasons.join('; ')}. State: ${state}. Fix the cause shown in the job summary (events and last log lines), or roll back with auto-rollback.`,
  );
}

/** One error annotation per failed deployment, before the step's verdict. */
export function annotations(report: RolloutReport): Array<{ title: string; message: string }> {
  return report.deployments
    .filter((d) => d.diagnosis)
    .map((d) => {
      const diag = d.diagnosis as NonNullable<DeploymentReport['diagnosis']>;
      const tail = diag.logs
        ?.slice(-3)
        .map((line) => quoteUntrusted(line, 300))
        .join(' | ');
      return {
        title: `${d.name}: ${diag.reason}`,
        message: `Pod ${diag.pod}${diag.container ? `, container ${diag.container}` : ''}: ${diag.message}${tail ? `. Last log lines: ${tail}` : ''}`,
      };
    });
}
