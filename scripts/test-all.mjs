// The README's test command: lint, format check, typecheck, build, then every test tier with Jest.
// CI does not read Jest's summary, so the last line is always "N passed, M failed": each gate counts as
// one check, and every Jest test as one.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules/.bin', name);
let passed = 0;
let failed = 0;

function step(name, command, args, env = {}) {
  return new Promise((resolve) => {
    console.log(`\n==> ${name}: ${[command, ...args].join(' ')}`);
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('close', (code) => resolve(code === 0));
  });
}

async function gate(name, command, args) {
  const ok = await step(name, command, args);
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAILED: ${name}`);
  }
  return ok;
}

await gate('lint', bin('eslint'), ['.', '--max-warnings=0']);
await gate('format', bin('prettier'), ['--check', '.', '--log-level', 'warn']);
await gate('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
const built = await gate('build', process.execPath, [join(root, 'scripts/build.mjs')]);

const report = join(mkdtempSync(join(tmpdir(), 'jest-report-')), 'report.json');
// Every runStep of the suite appends what its run showed here; the secret scan below reads it all.
const captureDir = mkdtempSync(join(tmpdir(), 'planner-deploy-capture-'));
await step(
  'tests',
  process.execPath,
  [
    '--experimental-vm-modules',
    join(root, 'node_modules/jest/bin/jest.js'),
    '--json',
    '--outputFile',
    report,
    ...process.argv.slice(2),
  ],
  { NODE_NO_WARNINGS: '1', PLANNER_DEPLOY_CAPTURE_DIR: captureDir },
);
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests + result.numRuntimeErrorTestSuites;
  if (!built) console.log('(the build failed, so the end-to-end tests ran against missing or stale dists)');
} catch {
  failed++;
  console.log('FAILED: jest did not write its report');
}
if (await secretScan()) passed++;
else failed++;
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;

/** The sandbox's fixed AWS secret key, read from its source through the repo's TypeScript hooks. */
function sandboxSecretKey() {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        join(root, 'scripts/ts-register.mjs'),
        '--experimental-transform-types',
        '--no-warnings',
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(root, 'packages/sandbox/src/aws/index.ts'))}); console.log(m.SANDBOX_CREDENTIALS.secretAccessKey);`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', (code) => resolve(code === 0 ? out.trim() : undefined));
  });
}

/**
 * The final check: no secret value known to the suite (the sandbox's secret key, and every value runStep
 * recorded as secret) appears in any captured log or job summary, or in the demo's report.
 */
async function secretScan() {
  console.log('\n==> secret scan');
  const secrets = new Map();
  const key = await sandboxSecretKey();
  if (key) secrets.set(key, 'the sandbox AWS secret key');
  else console.log('could not read SANDBOX_CREDENTIALS.secretAccessKey');
  const sidecar = join(captureDir, 'secrets.jsonl');
  if (existsSync(sidecar)) {
    for (const line of readFileSync(sidecar, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const { source, value } = JSON.parse(line);
      if (typeof value === 'string' && value.length >= 8 && !secrets.has(value)) secrets.set(value, source);
    }
  }
  const files = readdirSync(captureDir)
    .filter((f) => f.endsWith('.log') || f.endsWith('.summary.md'))
    .map((f) => join(captureDir, f));
  const demo = join(root, '.tmp/demo');
  if (existsSync(demo)) for (const f of readdirSync(demo)) files.push(join(demo, f));
  const logs = files.filter((f) => f.endsWith('.log')).length;
  const summaries = files.length - logs;
  const found = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const [value, source] of secrets) if (text.includes(value)) found.push(`${source} in ${file}`);
  }
  console.log(
    `secret scan: ${logs} logs, ${summaries} summaries, ${secrets.size} secrets, ${found.length} found`,
  );
  for (const leak of found) console.log(`FAILED: secret scan: ${leak}`);
  if (found.length === 0 && key) rmSync(captureDir, { recursive: true, force: true });
  else console.log(`(captured output kept in ${captureDir})`);
  return found.length === 0 && key !== undefined;
}
