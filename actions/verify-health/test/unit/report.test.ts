import { describe, expect, it } from '@jest/globals';
import { ActionFailure, CancelledError } from '@planner-deploy/action-kit';
import { buildSummary, toOutputs, verdictError } from '../../src/report.js';
import type { CheckResult, HealthReport } from '../../src/run.js';

function check(overrides: Partial<CheckResult>): CheckResult {
  return {
    name: 'https://app.test/health',
    url: 'https://app.test/health',
    healthy: true,
    status: 200,
    latencyMs: 12,
    attempts: 1,
    lastError: null,
    failure: null,
    bodyExcerpt: '{"status":"ok"}',
    expects: 'status 200-299',
    ...overrides,
  };
}

function report(checks: CheckResult[], overrides: Partial<HealthReport> = {}): HealthReport {
  return {
    healthy: checks.every((c) => c.healthy),
    cancelled: false,
    elapsedMs: 61_500,
    timeoutMs: 300_000,
    checks,
    ...overrides,
  };
}

const version = check({
  name: 'version',
  url: 'https://app.test/api/version',
  healthy: false,
  attempts: 14,
  lastError: 'version is "old111", expected "new222"',
  failure: 'content',
  bodyExcerpt: '{"version":"old111"}',
  expects: 'status 200-299; version = "new222"',
});
const down = check({
  url: 'https://api.test/ready',
  name: 'https://api.test/ready',
  healthy: false,
  status: null,
  latencyMs: null,
  attempts: 30,
  lastError: 'connection refused (ECONNREFUSED): nothing is listening on api.test:443 yet',
  failure: 'network',
  bodyExcerpt: null,
});

describe('toOutputs', () => {
  it('gives healthy and one result-json entry per check, keyed as in action.yml', () => {
    const outputs = toOutputs(report([check({}), version]));
    expect(outputs.healthy).toBe('false');
    expect(JSON.parse(outputs['result-json'])).toEqual([
      {
        name: 'https://app.test/health',
        url: 'https://app.test/health',
        healthy: true,
        status: 200,
        'latency-ms': 12,
        attempts: 1,
        'last-error': null,
      },
      {
        name: 'version',
        url: 'https://app.test/api/version',
        healthy: false,
        status: 200,
        'latency-ms': 12,
        attempts: 14,
        'last-error': 'version is "old111", expected "new222"',
      },
    ]);
    expect(toOutputs(report([check({})])).healthy).toBe('true');
  });
});

describe('buildSummary', () => {
  it('has a row per check and details for each failure', () => {
    const markdown = buildSummary(report([check({}), version, down])).render();
    expect(markdown).toContain('## Health check: ❌ unhealthy');
    expect(markdown).toContain('1 of 3 checks healthy after 1m02s (timeout 5m00s).');
    expect(markdown).toContain('| https://app.test/health | ✅ healthy | 200 | 12 ms | 1 | — |');
    expect(markdown).toContain(
      '| version (https://app.test/api/version) | ❌ unhealthy | 200 | 12 ms | 14 | version is "old111", expected "new222" |',
    );
    expect(markdown).toContain('<details><summary>version: what it saw</summary>');
    expect(markdown).toContain('Body:        {"version":"old111"}');
    expect(markdown).toContain('Body:        (no response)');
    expect(markdown.match(/<details>/g)).toHaveLength(2);
  });

  it('says cancelled, not unhealthy, when the run was cancelled', () => {
    const markdown = buildSummary(report([down], { cancelled: true })).render();
    expect(markdown).toContain('⏹️ cancelled');
    expect(markdown).not.toContain('❌');
  });
});

describe('verdictError', () => {
  it('is undefined when every check is healthy', () => {
    expect(verdictError(report([check({})]))).toBeUndefined();
  });

  it('is one ActionFailure that counts, names each failing check and says what to do', () => {
    const error = verdictError(report([check({}), version, down]));
    expect(error).toBeInstanceOf(ActionFailure);
    expect((error as ActionFailure).title).toBe('Health check failed');
    expect(error?.message).toMatch(
      /^2 of 3 checks unhealthy after 1m02s: version: version is "old111", expected "new222"; https:\/\/api\.test\/ready: connection refused/,
    );
    expect(error?.message).toMatch(/the rollout has not finished or was rolled back/);
    expect(error?.message).toMatch(/raise timeout or initial-delay/);
  });

  it.each([
    ['tls', /set insecure: true for a test endpoint only/],
    ['status', /unexpected status/],
    ['timeout', /raise timeout or initial-delay/],
    ['redirect', /Check the URL/],
  ] as const)('advises on a %s failure', (failure, advice) => {
    expect(verdictError(report([check({ healthy: false, lastError: 'x', failure })]))?.message).toMatch(
      advice,
    );
  });

  it('is a CancelledError when cancelled', () => {
    const error = verdictError(report([down, check({})], { cancelled: true, elapsedMs: 1200 }));
    expect(error).toBeInstanceOf(CancelledError);
    expect(error?.message).toBe(
      'Cancelled after 1.20s, before 1 of 2 checks had passed; no verdict on them. Nothing was changed.',
    );
  });
});
