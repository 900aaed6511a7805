// `pnpm bench`: measurements side by side in one run, printed as a Markdown table and written to
// bench/results.md with the machine they were taken on. Budgets come from DESIGN.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** Spawns node; resolves with ms from spawn to `until()` (first request) or to exit. */
function timeProcess(args, env, firstRequest) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(performance.now() - started);
    };
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' });
    if (firstRequest) firstRequest.then(finish);
    child.on('error', reject);
    child.on('close', () => {
      if (!firstRequest) finish();
      else if (!done) reject(new Error(`${args.join(' ')} exited before its first request`));
    });
  });
}

async function coldStartBareNode() {
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(await timeProcess(['-e', '0'], {}));
  return median(times);
}

/** verify-health: from process start to the first request reaching a local server. */
async function coldStartToFirstRequest(entry, inputs) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    let onRequest;
    const firstRequest = new Promise((resolve) => (onRequest = resolve));
    const server = createServer((req, res) => {
      onRequest();
      res.end('ok');
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${server.address().port}/health`;
    const env = { GITHUB_WORKSPACE: root };
    for (const [k, v] of Object.entries(inputs(url))) env[`INPUT_${k.toUpperCase()}`] = v;
    times.push(await timeProcess([entry], env, firstRequest));
    server.close();
  }
  return median(times);
}

/** Any action: from process start to its exit on an input error (no inputs given). */
async function coldStartToInputError(entry) {
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(await timeProcess([entry], { GITHUB_WORKSPACE: root }));
  return median(times);
}

const BUDGET_MS = { 'verify-health': 60 };
const DEFAULT_BUDGET_MS = 200;
const FIRST_REQUEST = {
  'verify-health': (url) => ({ urls: url, timeout: '30s', interval: '1s', 'request-timeout': '5s' }),
};

const rows = [];
const bare = await coldStartBareNode();
rows.push({
  what: 'cold start: bare `node -e 0`',
  ours: bare,
  theirs: undefined,
  budget: undefined,
  unit: 'ms',
});
const actions = readdirSync(join(root, 'actions')).filter((name) =>
  existsSync(join(root, 'actions', name, 'action.yml')),
);
for (const name of actions) {
  const entry = join(root, 'actions', name, 'dist/index.js');
  if (!existsSync(entry)) {
    console.error(`actions/${name}/dist/index.js is missing: run pnpm build first`);
    process.exitCode = 1;
    continue;
  }
  const inputs = FIRST_REQUEST[name];
  const ms = inputs ? await coldStartToFirstRequest(entry, inputs) : await coldStartToInputError(entry);
  rows.push({
    what: `cold start: ${name} (${inputs ? 'to first request' : 'to input error'})`,
    ours: ms,
    theirs: bare,
    budget: BUDGET_MS[name] ?? DEFAULT_BUDGET_MS,
    unit: 'ms',
  });
}

// The Kubernetes rows: our built rollout against the real kubectl on the same sandbox.
if (!process.env.BENCH_SKIP_KUBE) {
  const kube = spawn(
    process.execPath,
    [
      '--import',
      join(root, 'scripts/ts-register.mjs'),
      '--experimental-transform-types',
      '--no-warnings',
      join(root, 'scripts/bench-kube.ts'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  kube.stdout.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => kube.on('close', resolve));
  if (code !== 0) {
    console.error('the Kubernetes benchmarks failed');
    process.exitCode = 1;
  }
  for (const line of out.split('\n').filter((l) => l.startsWith('{'))) rows.push(JSON.parse(line));
}

const fmt = (v, unit) => (v === undefined ? '—' : `${v.toFixed(1)} ${unit}`);
const verdict = (r) => {
  const ok = r.ok ?? (r.budget !== undefined ? r.ours <= r.budget : undefined);
  return ok === undefined ? '—' : ok ? 'yes' : '**no**';
};
const lines = [
  '| measurement | ours | compared with | theirs | ratio | budget | within budget |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${[
        r.what,
        fmt(r.ours, r.unit),
        r.theirsLabel ?? (r.theirs !== undefined ? 'bare node' : '—'),
        fmt(r.theirs, r.unit),
        r.theirs ? `${(r.ours / r.theirs).toFixed(2)}×` : '—',
        r.budgetText ?? (r.budget ? `≤ ${r.budget} ${r.unit}` : '—'),
        verdict(r),
      ].join(' | ')} |`,
  ),
];
const notes = rows.filter((r) => r.note).map((r) => `- ${r.what}: ${r.note}.`);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; medians of ${RUNS} runs`;
const table = [lines.join('\n'), ...(notes.length ? ['', ...notes] : [])].join('\n');
console.log(table);
console.log(`\n${machine}`);
mkdirSync(join(root, 'bench'), { recursive: true });
writeFileSync(join(root, 'bench/results.md'), `# Benchmark results\n\nMeasured on ${machine}.\n\n${table}\n`);
if (rows.some((r) => verdict(r) === '**no**')) process.exitCode = 1;
