/** The run as one Markdown report: a table of every step, then every job's summaries. */
import type { RunRecord, StepRecord } from './types.js';

const ICON: Record<string, string> = { success: '✅', failure: '❌', skipped: '⏭️', cancelled: '🚫' };
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function detail(step: StepRecord): string {
  const error = step.annotations.find((a) => a.level === 'error');
  if (error)
    return `${error.title ? `${error.title}: ` : ''}${error.message.split('\n')[0] ?? ''}`.slice(0, 300);
  const notice = step.annotations.find((a) => a.level === 'warning' || a.level === 'notice');
  return notice ? (notice.message.split('\n')[0]?.slice(0, 300) ?? '') : '';
}

export function workflowReport(runs: RunRecord[], title = 'pnpm workflow'): string {
  const lines: string[] = [`# ${title}`, ''];
  for (const run of runs) {
    lines.push(
      `## ${run.workflow} — ${run.event} ${run.ref} (${run.sha.slice(0, 7)}): ${ICON[run.conclusion]} ${run.conclusion} in ${run.seconds.toFixed(1)} s`,
      '',
      '| t (s) | job | step | outcome | took | details |',
      '| ---: | --- | --- | --- | ---: | --- |',
    );
    for (const job of run.jobs) {
      if (job.error)
        lines.push(
          `| ${job.startedAt.toFixed(1)} | ${cell(job.name)} | (job) | ${ICON[job.result]} ${job.result} | | ${cell(job.error)} |`,
        );
      for (const s of job.steps)
        lines.push(
          `| ${s.startedAt.toFixed(1)} | ${cell(s.job)} | ${cell(s.name)} | ${ICON[s.conclusion]} ${s.outcome}${s.conclusion !== s.outcome ? ` (continue-on-error)` : ''} | ${s.seconds.toFixed(1)} s | ${cell(detail(s))} |`,
        );
    }
    lines.push('');
    for (const job of run.jobs) {
      const summaries = job.steps.filter((s) => s.summary.trim() !== '');
      if (summaries.length === 0) continue;
      lines.push(`### Job ${job.name} (${job.result})`, '');
      for (const s of summaries)
        lines.push(
          `#### ${s.name}`,
          '',
          s.summary.trim().replace(/^(#{1,3}) /gm, (_, h: string) => `${h}### `),
          '',
        );
    }
  }
  return lines.join('\n');
}
