import {
  ActionFailure,
  CancelledError,
  SummaryBuilder,
  formatDuration,
  type Logger,
} from '@planner-deploy/action-kit';
import type { CheckResult, HealthReport } from './run.js';

/** One entry of the result-json output, keyed as action.yml documents it. */
export interface CheckOutput {
  name: string;
  url: string;
  healthy: boolean;
  status: number | null;
  'latency-ms': number | null;
  attempts: number;
  'last-error': string | null;
  /** Where the last response came from, when it was redirected (credentials removed). */
  'final-url'?: string;
}

export type Outputs = Record<'healthy' | 'result-json', string>;

export function toOutputs(report: HealthReport): Outputs {
  const checks: CheckOutput[] = report.checks.map((check) => ({
    name: check.name,
    url: check.url,
    healthy: check.healthy,
    status: check.status,
    'latency-ms': check.latencyMs,
    attempts: check.attempts,
    'last-error': check.lastError,
    ...(check.finalUrl !== undefined ? { 'final-url': check.finalUrl } : {}),
  }));
  return { healthy: String(report.healthy), 'result-json': JSON.stringify(checks) };
}

export function buildSummary(report: HealthReport): SummaryBuilder {
  const summary = new SummaryBuilder();
  const unhealthy = report.checks.filter((check) => !check.healthy);
  const verdict = report.healthy ? '✅ healthy' : report.cancelled ? '⏹️ cancelled' : '❌ unhealthy';
  summary.heading(`Health check: ${verdict}`);
  summary.paragraph(
    `${report.checks.length - unhealthy.length} of ${report.checks.length} checks healthy after ${formatDuration(report.elapsedMs)} (timeout ${formatDuration(report.timeoutMs)}).`,
  );
  summary.table(
    ['Check', 'Result', 'Status', 'Latency', 'Attempts', 'Last error'],
    report.checks.map((check) => [
      check.name === check.url ? check.url : `${check.name} (${check.url})`,
      check.healthy ? '✅ healthy' : report.cancelled ? '⏹️ no verdict' : '❌ unhealthy',
      check.status,
      check.latencyMs === null ? null : `${check.latencyMs} ms`,
      check.attempts,
      check.lastError,
    ]),
  );
  for (const check of unhealthy)
    summary.details(`${check.name}: what it saw`, failureDetails(check), { code: true });
  return summary;
}

function failureDetails(check: CheckResult): string {
  return [
    `URL:         ${check.url}`,
    ...(check.finalUrl !== undefined ? [`Final URL:   ${check.finalUrl}`] : []),
    `Expects:     ${check.expects}`,
    `Last status: ${check.status ?? 'no response'}`,
    `Attempts:    ${check.attempts}`,
    `Last error:  ${check.lastError ?? '—'}`,
    `Body:        ${check.bodyExcerpt ?? (check.status === null ? '(no response)' : '(empty)')}`,
  ].join('\n');
}

/** The step's single failure, or undefined when every check is healthy. */
export function verdictError(report: HealthReport): ActionFailure | CancelledError | undefined {
  if (report.healthy) return undefined;
  const unhealthy = report.checks.filter((check) => !check.healthy);
  if (report.cancelled) {
    return new CancelledError(
      `Cancelled after ${formatDuration(report.elapsedMs)}, before ${unhealthy.length} of ${report.checks.length} checks had passed; no verdict on them. Nothing was changed.`,
    );
  }
  const what = unhealthy.map((check) => `${check.name}: ${check.lastError ?? 'unhealthy'}`).join('; ');
  return new ActionFailure(
    'Health check failed',
    `${unhealthy.length} of ${report.checks.length} checks unhealthy after ${formatDuration(report.elapsedMs)}: ${what}. ${advice(unhealthy)}`,
  );
}

function advice(unhealthy: CheckResult[]): string {
  const kinds = new Set(unhealthy.map((check) => check.failure));
  const tips: string[] = [];
  if (kinds.has('tls')) tips.push('Fix the certificate (or set insecure: true for a test endpoint only).');
  if (kinds.has('content')) {
    tips.push(
      'The endpoint answers, but not with the expected content: if it is the old version, the rollout has not finished or was rolled back.',
    );
  }
  if (kinds.has('status'))
    tips.push(
      'The endpoint answers with an unexpected status: see the response bodies in the job summary and the app logs.',
    );
  if (kinds.has('network') || kinds.has('timeout') || kinds.has('deadline') || kinds.has('streak')) {
    tips.push(
      'If the app only needs longer to start, raise timeout or initial-delay; otherwise check the pods (logs, events) and the Service or Ingress in front of them.',
    );
  }
  if (kinds.has('redirect') || kinds.has('protocol'))
    tips.push('Check the URL: it does not lead to a valid HTTP response.');
  return tips.join(' ');
}

/** A group per check with what it saw, and one error annotation per failing URL. */
export async function logResults(report: HealthReport, logger: Logger): Promise<void> {
  for (const check of report.checks) {
    const verdict = check.healthy ? 'healthy' : report.cancelled ? 'no verdict (cancelled)' : 'UNHEALTHY';
    const status = check.status === null ? 'no response' : `status ${check.status}`;
    await logger.group(
      `${check.healthy ? '✓' : '✗'} ${check.name}: ${verdict} (${status}, ${plural(check.attempts, 'attempt')})`,
      () => {
        logger.info(`URL: ${check.url}`);
        logger.info(`Expects: ${check.expects}`);
        logger.info(
          `Last status: ${check.status ?? '—'}; latency: ${check.latencyMs === null ? '—' : `${check.latencyMs}ms`}; attempts: ${check.attempts}`,
        );
        if (check.lastError !== null) logger.info(`Last error: ${check.lastError}`);
        if (!check.healthy && check.bodyExcerpt !== null) logger.info(`Body: ${check.bodyExcerpt}`);
        return Promise.resolve();
      },
    );
  }
  if (report.cancelled) return;
  for (const check of report.checks) {
    if (check.healthy) continue;
    const status = check.status === null ? 'no response' : `last status ${check.status}`;
    const body = check.bodyExcerpt === null ? '' : ` Body: ${check.bodyExcerpt}`;
    logger.error(
      `${check.name}: ${check.lastError ?? 'unhealthy'} (${status}, ${plural(check.attempts, 'attempt')}).${body}`,
      {
        title: `Health check failed: ${check.url}`,
      },
    );
  }
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
