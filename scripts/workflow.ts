// `pnpm workflow <file>`: runs a workflow file's jobs as written, on the local sandbox (started here with
// the Planner app seeded, unless `pnpm sandbox`'s exports are in the environment): GitHub's own parser and
// expression engine, `run:` steps in bash, our actions from their built dists as the runner runs them (post
// steps at the end of the job), a stated local stand-in for each third-party action (docs/workflow-runner.md).
// Prints every step with its outcome and time, writes every job summary into one report, and exits 0 only
// when every job concluded success. act stays the way to run a workflow in containers.
//
//   pnpm workflow <file> [--event E] [--ref R] [--sha S] [--input k=v]… [--secret k=v]… [--var k=v]…
//                 [--assume-job id=success|failure]… [--out DIR] [--no-build] [--verbose]
//
// --assume-job takes a job of the file as concluded without running it: for CI's gate when this machine
// lacks CI's own tools (no package index, no Docker engine); the log and the report say so.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  runWorkflow,
  workflowReport,
  type RunEvent,
  type RunRecord,
  type WorkflowRunOptions,
} from '@planner-deploy/runner-harness/workflow';
import { htmlPage } from './lib/markdown-html.js';
import { ensureBuilt, root, workflowSandbox } from './workflow-sandbox.js';

const USAGE =
  'usage: pnpm workflow <file> [--event E] [--ref R] [--sha S] [--input k=v]… [--secret k=v]… [--var k=v]… ' +
  '[--assume-job id=success|failure]… [--out DIR] [--no-build] [--verbose]';

function pairs(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) throw new Error(`${flag} ${item}: expected name=value`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

const tty = process.stdout.isTTY && !process.env['NO_COLOR'];
const colour = (code: string, text: string): string => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);

/** Prints the run as it goes: each step with outcome and time, its annotations, a `run:` step's output. */
export function printer(options: { verbose?: boolean; prefix?: string } = {}): (event: RunEvent) => void {
  const pre = options.prefix ?? '';
  const mark = {
    success: colour('32', '✔'),
    failure: colour('31', '✖'),
    skipped: colour('2', '–'),
    cancelled: '!',
  };
  return (event) => {
    switch (event.type) {
      case 'job-start':
        console.log(`${pre}${colour('1', `● ${event.job}`)}`);
        return;
      case 'step-line':
        return;
      case 'step-start':
        return;
      case 'step-end': {
        const s = event.step;
        const continued = s.conclusion !== s.outcome ? ' (continue-on-error)' : '';
        console.log(
          `${pre}  ${mark[s.conclusion]} ${s.job} › ${s.name}: ${s.outcome}${continued}${s.outcome === 'skipped' ? '' : ` in ${s.seconds.toFixed(1)}s`}`,
        );
        const own = s.kind === 'run' || s.kind === 'stand-in';
        const shown = options.verbose || own ? s.lines : [];
        for (const line of shown.slice(-40)) console.log(`${pre}      ${colour('2', line)}`);
        for (const a of s.annotations)
          if (!own || (s.error !== undefined && a.level === 'error')) {
            const text = `${a.title ? `${a.title}: ` : ''}${a.message.split('\n')[0] ?? ''}`;
            const level = a.level === 'error' ? colour('31', 'error') : a.level;
            console.log(`${pre}      ${level}: ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`);
          }
        return;
      }
      case 'job-end': {
        const j = event.job;
        if (j.error) console.log(`${pre}  ${mark[j.result]} ${j.name}: ${j.result} — ${j.error}`);
        else if (j.result === 'skipped')
          console.log(`${pre}  ${mark.skipped} ${j.name}: skipped (if: was false)`);
        else console.log(`${pre}  ${mark[j.result]} ${j.name}: ${j.result} in ${j.seconds.toFixed(1)}s`);
        return;
      }
    }
  };
}

/** Writes report.md and report.html into `out`. */
export function writeReport(out: string, runs: RunRecord[], title: string, head: string[] = []): string {
  mkdirSync(out, { recursive: true });
  const markdown = [...head, workflowReport(runs, title).replace(/^# .*\n/, '')].join('\n');
  const text = `# ${title}\n\n${markdown}`;
  writeFileSync(join(out, 'report.md'), text);
  writeFileSync(join(out, 'report.html'), htmlPage(title, text));
  return join(out, 'report.md');
}

async function main(): Promise<number> {
  const { values: args, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      event: { type: 'string' },
      ref: { type: 'string' },
      sha: { type: 'string' },
      input: { type: 'string', multiple: true },
      secret: { type: 'string', multiple: true },
      var: { type: 'string', multiple: true },
      'assume-job': { type: 'string', multiple: true },
      out: { type: 'string', default: join(root, '.tmp/workflow') },
      'no-build': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const file = resolve(process.env['INIT_CWD'] ?? process.cwd(), positionals[0] as string);
  const request: Partial<WorkflowRunOptions> = {
    ...(args.event ? { event: args.event } : {}),
    ...(args.ref ? { ref: args.ref } : {}),
    ...(args.sha ? { sha: args.sha } : {}),
    inputs: pairs(args.input, '--input'),
  };
  const assumeJobs: Record<string, 'success' | 'failure'> = {};
  for (const [id, result] of Object.entries(pairs(args['assume-job'], '--assume-job'))) {
    if (result !== 'success' && result !== 'failure')
      throw new Error(`--assume-job ${id}=${result}: the result is success or failure`);
    assumeJobs[id] = result;
  }
  const secrets = pairs(args.secret, '--secret');
  const vars = pairs(args.var, '--var');
  ensureBuilt(!args['no-build'], (l) => console.log(l));
  const sandbox = await workflowSandbox();
  console.log(colour('2', `sandbox: ${sandbox.description}`));
  try {
    const run = await runWorkflow({
      ...sandbox.options,
      ...request,
      file,
      secrets: { ...sandbox.options.secrets, ...secrets },
      vars,
      // What is given on the command line wins over the sandbox's settings of every environment too.
      environments: Object.fromEntries(
        Object.entries(sandbox.options.environments ?? {}).map(([name, e]) => [
          name,
          { secrets: { ...e.secrets, ...secrets }, vars: { ...e.vars, ...vars } },
        ]),
      ),
      assumeJobs,
      workDir: join(args.out, 'work'),
      onEvent: printer({ verbose: args.verbose }),
    });
    const report = writeReport(args.out, [run], `pnpm workflow ${run.workflow}`);
    const failed = run.jobs.filter((j) => j.result === 'failure').map((j) => j.name);
    console.log(
      run.conclusion === 'success'
        ? colour('32', `✔ ${run.workflow}: every job succeeded (${run.seconds.toFixed(1)}s)`)
        : colour(
            '31',
            `✖ ${run.workflow}: ${failed.length ? `failed: ${failed.join(', ')}` : 'no job succeeded'}`,
          ),
    );
    console.log(`report: ${report} (and report.html)`);
    return run.conclusion === 'success' ? 0 : 1;
  } finally {
    await sandbox.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      const error = e as Error;
      // A usage mistake or an invalid file is the user's to fix: its message, no stack.
      const known = ['WorkflowUsageError', 'WorkflowFileError'].includes(error.constructor.name);
      console.error(colour('31', `pnpm workflow: ${known ? error.message : (error.stack ?? String(e))}`));
      process.exit(2);
    },
  );
}
