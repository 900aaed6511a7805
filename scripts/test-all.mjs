// The README's test command: lint, format check, typecheck, build, then every test tier with Jest.
// CI does not read Jest's summary, so the last line is always "N passed, M failed": each gate counts as
// one check, and every Jest test as one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
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
  { NODE_NO_WARNINGS: '1' },
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
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
