// expected-body-regex rows of `pnpm bench`: what running a user's regex in a worker with a time budget
// (actions/verify-health/src/regex-match.ts) costs in the normal case, beside RegExp.test on the main thread
// (which a catastrophic pattern would hold past the deadline and SIGINT). A health body of about 2 KB and
// a plain pattern. One JSON row per line on stdout.
import { RegexMatcher } from '../actions/verify-health/src/regex-match.js';

const RUNS = Number(process.env.BENCH_REGEX_RUNS ?? 15);
const MATCHES = 200;
const body = JSON.stringify({
  status: 'ok',
  version: 'a1b2c3d',
  checks: Array.from({ length: 30 }, (_, i) => ({ name: `dependency-${i}`, status: 'ok', latencyMs: i })),
});
const pattern = /"version":\s*"[0-9a-f]{7}"/;
const signal = new AbortController().signal;
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

const firstInWorker: number[] = [];
const laterInWorker: number[] = [];
const inline: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const matcher = new RegexMatcher(10_000);
  let at = now();
  if (!(await matcher.test(pattern, body, signal))) throw new Error('the pattern should match');
  firstInWorker.push(now() - at);
  at = now();
  for (let i = 0; i < MATCHES; i++) await matcher.test(pattern, body, signal);
  laterInWorker.push((now() - at) / MATCHES);
  matcher.close();
  at = now();
  for (let i = 0; i < MATCHES; i++) new RegExp(pattern.source).test(body);
  inline.push((now() - at) / MATCHES);
}

const theirs = median(inline);
console.log(
  JSON.stringify({
    what: `expected-body-regex: first match of a step (worker start + match, ${body.length}-char body)`,
    ours: median(firstInWorker),
    theirs,
    theirsLabel: 'RegExp.test on the main thread',
    unit: 'ms',
    note: 'paid once per step that sets expected-body-regex, at its first response',
  }),
);
console.log(
  JSON.stringify({
    what: 'expected-body-regex: each later match (worker round trip)',
    ours: median(laterInWorker),
    theirs,
    theirsLabel: 'RegExp.test on the main thread',
    unit: 'ms',
  }),
);
