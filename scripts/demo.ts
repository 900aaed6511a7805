// `pnpm demo`: runs the built actions exactly as the GitHub runner does against a local demo app and
// prints a timeline; every step's job summary goes into one Markdown report.
// (The full pipeline on the sandbox — build, backup, migrate, rollout, rollback — arrives with the CLI.)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { json, runStep, startTestServer, type RunResult } from '@planner-deploy/runner-harness';

const root = new URL('..', import.meta.url).pathname;
const t0 = performance.now();
const stamp = (): string => `${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const say = (line: string): void => console.log(`${stamp()}  ${line}`);

say('building actions/verify-health …');
execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'verify-health'], { stdio: 'inherit' });

// The demo app: starts unhealthy (503 while "warming up"), then serves version 1.0.0.
let version = '1.0.0';
const readyAt = performance.now() + 2500;
const app = await startTestServer((req, res) => {
  if (performance.now() < readyAt) return json(res, 503, { status: 'starting' });
  if (req.url === '/api/health') return json(res, 200, { status: 'ok', checks: { db: 'ok', redis: 'ok' } });
  return json(res, 200, { status: 'ok', version });
});
say(`demo app listening on ${app.url} (unhealthy for the first 2.5 s)`);

const report: string[] = ['# planner-deploy demo', ''];
const outcomes: Array<{ step: string; ok: boolean; expected: boolean }> = [];

async function step(title: string, inputs: Record<string, string>, expectOk: boolean): Promise<RunResult> {
  say(`▶ ${title}`);
  const result = await runStep({ action: 'actions/verify-health', inputs });
  const ok = result.exitCode === 0;
  for (const a of result.annotations)
    say(`    ${a.level}: ${a.title ? `${a.title}: ` : ''}${a.message.split('\n')[0]}`);
  say(
    `${ok ? '✔' : '✖'} ${title}: exit ${result.exitCode}, healthy=${result.outputs.healthy} (${(result.durationMs / 1000).toFixed(1)}s)`,
  );
  report.push(
    `## ${title}`,
    '',
    `Outcome: **${ok ? 'passed' : 'failed'}** (${expectOk ? 'expected to pass' : 'expected to fail'})`,
    '',
    result.summary,
    '',
  );
  outcomes.push({ step: title, ok, expected: expectOk });
  return result;
}

await step(
  'verify-health: the app comes up and serves 1.0.0',
  {
    urls: `${app.url}/health\n${app.url}/api/health`,
    'expected-status': '200',
    'expected-json': `status=ok`,
    'initial-delay': '1s',
    interval: '500ms',
    'consecutive-successes': '2',
    timeout: '30s',
  },
  true,
);
version = '1.0.0'; // a "deploy" of 1.1.0 that never took effect: the old version still serves
await step(
  'verify-health: a deploy of 1.1.0 that did not take effect is caught',
  { urls: `${app.url}/health`, 'expected-json': 'version=1.1.0', interval: '500ms', timeout: '4s' },
  false,
);
await app.close();

const outDir = join(root, '.tmp/demo');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'report.md'), report.join('\n'));
const wrong = outcomes.filter((o) => o.ok !== o.expected);
say(`report: ${join(outDir, 'report.md')}`);
say(
  wrong.length === 0
    ? 'demo finished: every step had the expected outcome'
    : `demo FAILED: ${wrong.map((o) => o.step).join(', ')}`,
);
process.exitCode = wrong.length === 0 ? 0 : 1;
