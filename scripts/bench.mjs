// `pnpm bench`: measurements side by side in one run, printed as a Markdown table and written to
// bench/results.md with the machine they were taken on. Budgets come from DESIGN.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const startLoad = loadavg()[0].toFixed(2);

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

/** verify-health: from process start to the first request reaching a local server (one run). */
async function coldStartToFirstRequest(entry, inputs) {
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
  try {
    return await timeProcess([entry], env, firstRequest);
  } finally {
    server.close();
  }
}

/** Any action: from process start to its exit on an input error (no inputs given; one run). */
function coldStartToInputError(entry) {
  return timeProcess([entry], { GITHUB_WORKSPACE: root });
}

// DESIGN.md's budgets: each action's cold start ≤ 50 ms over bare node measured in the same run, verify-health
// ≤ 25 ms over (it polls the first URL as soon as it can).
const OVER_BARE_MS = { 'verify-health': 25 };
const DEFAULT_OVER_BARE_MS = 50;
const FIRST_REQUEST = {
  'verify-health': (url) => ({ urls: url, timeout: '30s', interval: '1s', 'request-timeout': '5s' }),
};

const rows = [];
const actions = readdirSync(join(root, 'actions')).filter((name) =>
  existsSync(join(root, 'actions', name, 'action.yml')),
);
const built = actions.filter((name) => {
  if (existsSync(join(root, 'actions', name, 'dist/index.js'))) return true;
  console.error(`actions/${name}/dist/index.js is missing: run pnpm build first`);
  process.exitCode = 1;
  return false;
});
// Interleaved: each round starts bare node and then every action once, so a change of load on a shared
// machine reaches bare node and the actions alike (measured one after the other, bare node's median and an
// action's could come from different minutes).
const bareTimes = [];
const times = new Map(built.map((name) => [name, []]));
for (let i = 0; i < RUNS; i++) {
  bareTimes.push(await timeProcess(['-e', '0'], {}));
  for (const name of built) {
    const entry = join(root, 'actions', name, 'dist/index.js');
    const inputs = FIRST_REQUEST[name];
    times
      .get(name)
      .push(inputs ? await coldStartToFirstRequest(entry, inputs) : await coldStartToInputError(entry));
  }
}
const bare = median(bareTimes);
rows.push({
  what: 'cold start: bare `node -e 0`',
  ours: bare,
  theirs: undefined,
  budget: undefined,
  unit: 'ms',
});
for (const name of built) {
  const inputs = FIRST_REQUEST[name];
  const ms = median(times.get(name));
  const over = OVER_BARE_MS[name] ?? DEFAULT_OVER_BARE_MS;
  rows.push({
    what: `cold start: ${name} (${inputs ? 'to first request' : 'to input error'})`,
    ours: ms,
    theirs: bare,
    budget: bare + over,
    budgetText: `≤ bare node + ${over} ms = ${(bare + over).toFixed(1)} ms (${(ms - bare).toFixed(1)} ms over)`,
    unit: 'ms',
  });
}

/** Runs a scripts/*.ts file through the TypeScript hooks; its stdout and exit code. */
async function runTs(script, args = []) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      join(root, 'scripts/ts-register.mjs'),
      '--experimental-transform-types',
      '--no-warnings',
      join(root, 'scripts', script),
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.on('close', resolve));
  return { code, out };
}

/** Runs a scripts/bench-*.ts file; its stdout lines that are JSON objects are rows. */
async function tsRows(script, label, args = []) {
  const { code, out } = await runTs(script, args);
  if (code !== 0) {
    console.error(`the ${label} benchmarks failed`);
    process.exitCode = 1;
  }
  for (const line of out.split('\n').filter((l) => l.startsWith('{'))) rows.push(JSON.parse(line));
}

// The Kubernetes rows: our built rollout against the real kubectl on the same sandbox.
// Each Kubernetes section in a fresh process: the sandbox runs in the bench's own process, and a section
// must not inherit the heap and timers of the one before.
if (!process.env.BENCH_SKIP_KUBE) {
  const { out } = await runTs('bench-kube.ts', ['--list']);
  const sections = out
    .split('\n')
    .filter((l) => l.startsWith('section '))
    .map((l) => l.slice('section '.length));
  for (const section of sections) await tsRows('bench-kube.ts', `Kubernetes (${section})`, [section]);
}
// verify-health's expected-body-regex in a worker with a time budget, beside RegExp.test in the main thread.
if (!process.env.BENCH_SKIP_REGEX) await tsRows('bench-regex.ts', 'expected-body-regex');
// build-push: a re-run with an existing tag beside a full build (needs a Docker engine).
if (!process.env.BENCH_SKIP_BUILD) await tsRows('bench-build.ts', 'build-push');
// Hostile output: the cost of a 64 MiB line without a newline (issue #12).
if (!process.env.BENCH_SKIP_UNTRUSTED) await tsRows('bench-untrusted.ts', 'untrusted output');
// cd-production.yml run through pnpm workflow: its wall time, and what our steps add beyond the cluster's.
if (!process.env.BENCH_SKIP_WORKFLOW) await tsRows('bench-workflow.ts', 'cd-production workflow');

// What the runner downloads and loads: the bytes of every action's dist/ (all its files), beside the
// published dist of the nearest peer, as shared/specs/peers.md §3 ("How peers are tested; bundle sizes")
// records them from each peer's repository.
const PEER_DIST = {
  'auto-rollback': ['Azure/k8s-deploy v7 lib/index.js', 1_192_562],
  'build-push': ['docker/build-push-action dist/index.cjs', 2_535_010],
  'create-release': ['softprops/action-gh-release dist', 788_476],
  'rds-backup': ['aws-actions/configure-aws-credentials dist', 3_092_505],
  rollout: ['Azure/k8s-deploy v7 lib/index.js', 1_192_562],
  'run-migration-job': ['aws-actions/amazon-ecs-deploy-task-definition dist (+ chunks)', 2_628_630],
  'verify-health': ['Jtalk/url-health-check-action dist', 239_456],
};
const MIB = 1024 * 1024;
const bytesOf = (path) =>
  statSync(path).isDirectory()
    ? readdirSync(path).reduce((sum, name) => sum + bytesOf(join(path, name)), 0)
    : statSync(path).size;
let distTotal = 0;
let peerTotal = 0;
for (const name of actions) {
  const dist = join(root, 'actions', name, 'dist');
  if (!existsSync(join(dist, 'index.js'))) {
    rows.push({ what: `dist size: ${name}`, notMeasured: 'no dist (pnpm build)', unit: 'KiB', ok: false });
    continue;
  }
  const bytes = bytesOf(dist);
  distTotal += bytes;
  const [peer, peerBytes] = PEER_DIST[name] ?? [];
  if (peerBytes) peerTotal += peerBytes;
  rows.push({
    what: `dist size: ${name} (all files)`,
    ours: bytes / 1024,
    ...(peer ? { theirs: peerBytes / 1024, theirsLabel: `${peer} (peers.md §3)` } : {}),
    budget: (2 * MIB) / 1024,
    budgetText: '≤ 2 MiB',
    unit: 'KiB',
  });
}
rows.push({
  what: `dist size: all ${actions.length} actions`,
  ours: distTotal / 1024,
  theirs: peerTotal / 1024,
  theirsLabel: 'the seven peers above, added up',
  budget: (8 * MIB) / 1024,
  budgetText: '≤ 8 MiB (amazon-ecr-login alone: 2.5–3.8 MB, DESIGN.md)',
  unit: 'KiB',
});

const fmt = (v, unit) => (v === undefined ? '—' : `${v.toFixed(1)} ${unit}`);
const oursText = (r) => (r.notMeasured ? `not measured: ${r.notMeasured}` : fmt(r.ours, r.unit));
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
        oursText(r),
        r.theirsLabel ?? (r.theirs !== undefined ? 'bare node' : '—'),
        fmt(r.theirs, r.unit),
        r.theirs && r.ours !== undefined ? `${(r.ours / r.theirs).toFixed(2)}×` : '—',
        r.budgetText ?? (r.budget ? `≤ ${r.budget} ${r.unit}` : '—'),
        verdict(r),
      ].join(' | ')} |`,
  ),
];
const notes = rows.filter((r) => r.note).map((r) => `- ${r.what}: ${r.note}.`);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load average ${startLoad} at the start (the machine is shared); medians of ${RUNS} runs (cold starts: ${RUNS} interleaved rounds of bare node and every action)`;
const table = [lines.join('\n'), ...(notes.length ? ['', ...notes] : [])].join('\n');
console.log(table);
console.log(`\n${machine}`);
mkdirSync(join(root, 'bench'), { recursive: true });
writeFileSync(
  join(root, 'bench/results.md'),
  `# Benchmark results\n\nMeasured on ${machine}.\n\n![pnpm bench](chart.svg)\n\n${table}\n`,
);
writeFileSync(join(root, 'bench/chart.svg'), chart(rows, machine));
if (rows.some((r) => verdict(r) === '**no**')) process.exitCode = 1;

/**
 * The side-by-side rows (ours vs kubectl, the SDK defaults, a full build) as horizontal bars, one pair per
 * row, each row on its own scale (log when one bar is over 20× the other). A white background keeps it
 * readable in GitHub's dark theme too.
 */
function chart(all, machine) {
  const compared = all.filter(
    (r) => r.theirsLabel && r.theirsLabel !== 'one deployment' && r.ours !== undefined && r.theirs,
  );
  const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const value = (v, unit) => `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${unit}`;
  const W = 860;
  const X = 290; // where bars start
  const BAR = 450; // longest bar
  const ROW = 78;
  const TOP = 80;
  const H = TOP + compared.length * ROW + 16;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect x="0.5" y="0.5" width="${W - 1}" height="${H - 1}" rx="6" fill="#ffffff" stroke="#d0d7de"/>`,
    `<text x="16" y="26" font-size="15" font-weight="600" fill="#1f2328">pnpm bench: ours (blue) vs kubectl, the SDK defaults, a full build (grey). Shorter is better.</text>`,
    `<text x="16" y="46" font-size="12" fill="#59636e">${esc(machine)}.</text>`,
    `<text x="16" y="63" font-size="12" fill="#59636e">Each pair has its own scale, logarithmic where one bar is over 20× the other.</text>`,
  ];
  compared.forEach((r, i) => {
    const y = TOP + i * ROW;
    const lo = Math.min(r.ours, r.theirs);
    const hi = Math.max(r.ours, r.theirs);
    const log = hi / Math.max(lo, 1e-9) > 20;
    const floor = Math.max(lo, 1e-3) / 3;
    const len = (v) =>
      Math.max(
        2,
        log ? (BAR * Math.log10(Math.max(v, floor) / floor)) / Math.log10(hi / floor) : (BAR * v) / hi,
      );
    out.push(
      `<text x="16" y="${y + 14}" font-weight="600" fill="#1f2328">${esc(r.what)}${log ? ' (log scale)' : ''}</text>`,
    );
    const bars = [
      ['ours', r.ours, '#0969da'],
      [r.theirsLabel, r.theirs, '#8c959f'],
    ];
    bars.forEach(([label, v, color], j) => {
      const by = y + 22 + j * 24;
      const shown = label.length > 34 ? `${label.slice(0, 33)}…` : label;
      out.push(
        `<text x="${X - 8}" y="${by + 14}" text-anchor="end" fill="#1f2328">${esc(shown)}</text>`,
        `<rect x="${X}" y="${by + 2}" width="${len(v).toFixed(1)}" height="16" rx="2" fill="${color}"/>`,
        `<text x="${(X + len(v) + 6).toFixed(1)}" y="${by + 14}" fill="#1f2328">${esc(value(v, r.unit))}</text>`,
      );
    });
  });
  out.push('</svg>', '');
  return out.join('\n');
}
