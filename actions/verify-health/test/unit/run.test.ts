import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelledError,
  MemoryLogger,
  inputEnvName,
  setInputSource,
  type InputSource,
} from '@planner-deploy/action-kit';
import { readInputs } from '../../src/inputs.js';
import { buildSummary, toOutputs, verdictError } from '../../src/report.js';
import { BODY_EXCERPT_CHARS, excerpt, verifyHealth, type HealthReport } from '../../src/run.js';
import { closeServers, freePort, json, startServer } from './servers.js';

afterEach(closeServers);

interface Run {
  report: HealthReport;
  logger: MemoryLogger;
  elapsedMs: number;
}

/** Reads the inputs the way the action does, then runs the checks. */
async function run(
  inputs: Record<string, string>,
  options: { signal?: AbortSignal; workspace?: string } = {},
): Promise<Run> {
  const source: InputSource = {};
  for (const [name, value] of Object.entries({ interval: '50ms', timeout: '5s', ...inputs }))
    source[inputEnvName(name)] = value;
  const previous = setInputSource(source);
  try {
    const parsed = await readInputs({ GITHUB_WORKSPACE: options.workspace ?? process.cwd() });
    const logger = new MemoryLogger();
    const started = performance.now();
    const report = await verifyHealth(parsed, logger, options.signal ?? new AbortController().signal);
    return { report, logger, elapsedMs: performance.now() - started };
  } finally {
    setInputSource(previous);
  }
}

function only(report: HealthReport) {
  expect(report.checks).toHaveLength(1);
  return report.checks[0] as HealthReport['checks'][number];
}

function errors(logger: MemoryLogger) {
  return logger.entries.filter((entry) => entry.level === 'error');
}

describe('verifyHealth', () => {
  it('passes healthy endpoints, all checked in parallel', async () => {
    const slowA = await startServer((_req, res) => setTimeout(() => json(res, 200, { status: 'ok' }), 500));
    const slowB = await startServer((_req, res) => setTimeout(() => json(res, 204, {}), 500));
    const { report, logger, elapsedMs } = await run({ urls: `${slowA.url}/health\n${slowB.url}/ready` });
    expect(report.healthy).toBe(true);
    expect(report.checks.map((c) => [c.name, c.healthy, c.status, c.attempts, c.lastError])).toEqual([
      [`${slowA.url}/health`, true, 200, 1, null],
      [`${slowB.url}/ready`, true, 204, 1, null],
    ]);
    expect(report.checks.every((c) => typeof c.latencyMs === 'number' && c.latencyMs >= 450)).toBe(true);
    // In parallel: one after the other, two 500 ms answers would take 1 s.
    expect(elapsedMs).toBeLessThan(950);
    expect(errors(logger)).toEqual([]);
    expect(logger.entries.filter((e) => e.level === 'group').map((e) => e.message)).toEqual([
      expect.stringMatching(/^✓ .*\/health: healthy \(status 200, 1 attempt\)$/),
      expect.stringMatching(/^✓ .*\/ready: healthy \(status 204, 1 attempt\)$/),
    ]);
    expect(verdictError(report)).toBeUndefined();
  });

  it('fails an endpoint that keeps answering 500 at the deadline, with status, body, error and attempts', async () => {
    const broken = await startServer((_req, res) => json(res, 500, { error: 'database unreachable' }));
    const { report, logger, elapsedMs } = await run({ urls: `${broken.url}/health`, timeout: '600ms' });
    const check = only(report);
    expect(report.healthy).toBe(false);
    expect(report.cancelled).toBe(false);
    expect(check.status).toBe(500);
    expect(check.attempts).toBeGreaterThan(3);
    // The attempt in flight at the deadline may not have reached the server.
    expect(check.attempts - broken.requests.length).toBeGreaterThanOrEqual(0);
    expect(check.attempts - broken.requests.length).toBeLessThanOrEqual(1);
    expect(check.lastError).toBe('status 500 is not in expected-status 200-299');
    expect(check.bodyExcerpt).toBe('{"error":"database unreachable"}');
    expect(elapsedMs).toBeGreaterThanOrEqual(590);
    expect(elapsedMs).toBeLessThan(1300);
    expect(errors(logger)).toEqual([
      {
        level: 'error',
        message: expect.stringContaining('status 500 is not in expected-status 200-299'),
        properties: { title: `Health check failed: ${broken.url}/health` },
      },
    ]);
    expect(errors(logger)[0]?.message).toContain('database unreachable');
  });

  it('logs an attempt at info level only when the outcome changes, not once per attempt', async () => {
    const flips = await startServer((_req, res, i) => json(res, i < 6 ? 503 : 200, {}));
    const { report, logger } = await run({ urls: flips.url });
    expect(only(report).attempts).toBe(7);
    const infoAttempts = logger.entries.filter((e) => e.level === 'info' && /attempt \d+ at/.test(e.message));
    expect(infoAttempts.map((e) => e.message)).toEqual([
      expect.stringMatching(/attempt 1 at .*: status 503 is not in expected-status/),
      expect.stringMatching(/attempt 7 at .*: 200 in \d+ms, passed$/),
    ]);
    expect(
      logger.entries.filter((e) => e.level === 'debug' && /attempt \d+ at/.test(e.message)),
    ).toHaveLength(5);
  });

  it('needs the consecutive successes: a failure starts the count again', async () => {
    // 200, 500, 200, 500, then 200 for good: passes on requests 4, 5 and 6.
    const flapping = await startServer((_req, res, i) => json(res, i < 4 && i % 2 === 1 ? 500 : 200, { i }));
    const { report, logger } = await run({ urls: flapping.url, 'consecutive-successes': '3' });
    expect(report.healthy).toBe(true);
    expect(only(report).attempts).toBe(7);
    expect(flapping.requests).toHaveLength(7);
    expect(logger.text()).toMatch(/after 1 success in a row; the count starts again/);
    expect(logger.text()).toMatch(/passed \(3\/3 in a row\)/);
  });

  it('fails a check that had not enough successes in a row by the deadline, and says so', async () => {
    const app = await startServer((_req, res) => json(res, 200, {}));
    const { report } = await run({
      urls: app.url,
      'consecutive-successes': '100',
      interval: '100ms',
      timeout: '700ms',
    });
    expect(report.healthy).toBe(false);
    // Even when the deadline aborts an attempt in flight, the streak so far is what the user needs to know.
    expect(only(report).lastError).toMatch(
      /^passed \d of the 100 consecutive-successes needed before the deadline \(timeout 700ms\) was reached$/,
    );
    expect(only(report).failure).toBe('streak');
  });

  it('gives up on a hanging request after request-timeout and tries again', async () => {
    const hanging = await startServer(() => undefined);
    const { report } = await run({ urls: hanging.url, 'request-timeout': '200ms', timeout: '1s' });
    const check = only(report);
    expect(check.healthy).toBe(false);
    expect(hanging.requests.length).toBeGreaterThanOrEqual(3);
    expect(check.status).toBeNull();
    expect(check.lastError).toBe('timeout: connected, but no response within 200ms (request-timeout)');
  });

  it('waits initial-delay before the first request, and a slow start then passes', async () => {
    const began = performance.now();
    const app = await startServer((_req, res) => json(res, performance.now() - began < 400 ? 503 : 200, {}));
    const { report } = await run({ urls: app.url, 'initial-delay': '500ms' });
    expect(report.healthy).toBe(true);
    expect(only(report).attempts).toBe(1);
    expect(app.requests[0]?.at).toBeGreaterThanOrEqual(490);
  });

  it('counts initial-delay inside the deadline', async () => {
    const app = await startServer((_req, res) => json(res, 503, {}));
    const { report, elapsedMs } = await run({ urls: app.url, 'initial-delay': '400ms', timeout: '600ms' });
    expect(report.healthy).toBe(false);
    expect(elapsedMs).toBeLessThan(1500);
    expect(app.requests.length).toBeGreaterThan(0);
  });

  it('fails while the old version serves (expected-json), and passes once the new one does', async () => {
    const old = await startServer((_req, res) => json(res, 200, { version: 'old111', checks: { db: 'ok' } }));
    const stale = await run({
      urls: old.url,
      'expected-json': 'version=new222\nchecks.db=ok',
      timeout: '500ms',
    });
    expect(only(stale.report).lastError).toBe('version is "old111", expected "new222"');
    expect(verdictError(stale.report)?.message).toMatch(
      /if it is the old version, the rollout has not finished/,
    );

    const rolling = await startServer((_req, res, i) =>
      json(res, 200, { version: i < 3 ? 'old111' : 'new222', checks: { db: 'ok' } }),
    );
    const done = await run({ urls: rolling.url, 'expected-json': 'version=new222\nchecks.db=ok' });
    expect(done.report.healthy).toBe(true);
    expect(only(done.report).attempts).toBe(4);
  });

  it('checks expected-body and expected-body-regex', async () => {
    const app = await startServer((_req, res) => json(res, 200, { status: 'degraded' }));
    const body = await run({ urls: app.url, 'expected-body': '"ok"', timeout: '300ms' });
    expect(only(body.report).lastError).toBe('the body does not contain expected-body "\\"ok\\""');
    const regex = await run({
      urls: app.url,
      'expected-body-regex': '"status":\\s*"(ok|degraded)"',
      timeout: '300ms',
    });
    expect(regex.report.healthy).toBe(true);
  });

  it('refuses a self-signed certificate unless insecure is set, which warns', async () => {
    const tls = await startServer((_req, res) => json(res, 200, { status: 'ok' }), { tls: true });
    const strict = await run({ urls: tls.url, timeout: '400ms' });
    expect(only(strict.report).lastError).toBe(
      'TLS error: self-signed certificate; set insecure: true only for test endpoints',
    );
    expect(tls.requests).toHaveLength(0);
    expect(verdictError(strict.report)?.message).toMatch(/insecure: true for a test endpoint only/);

    const insecure = await run({ urls: tls.url, insecure: 'true' });
    expect(insecure.report.healthy).toBe(true);
    expect(insecure.logger.entries.filter((e) => e.level === 'warning')).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/TLS certificates are not verified/),
        properties: { title: 'TLS verification is off' },
      }),
    ]);
    expect(strict.logger.entries.filter((e) => e.level === 'warning')).toEqual([]);
  });

  it('fails on time when the deadline passes while a request is in flight', async () => {
    const hanging = await startServer(() => undefined);
    const { report, elapsedMs } = await run({
      urls: hanging.url,
      timeout: '800ms',
      'request-timeout': '30s',
    });
    expect(report.healthy).toBe(false);
    expect(elapsedMs).toBeGreaterThanOrEqual(790);
    // On time: far sooner than the 30 s request-timeout (the margin absorbs a loaded machine).
    expect(elapsedMs).toBeLessThan(800 + 700);
    const check = only(report);
    expect(check.attempts).toBe(1);
    expect(check.lastError).toMatch(
      /^no response before the deadline \(timeout 800ms\) was reached: attempt 1 was still waiting after/,
    );
  });

  it('names a refused connection', async () => {
    const port = await freePort();
    const { report } = await run({ urls: `http://127.0.0.1:${port}/health`, timeout: '300ms' });
    expect(only(report).lastError).toMatch(/^connection refused \(ECONNREFUSED\)/);
    expect(verdictError(report)?.message).toMatch(/raise timeout or initial-delay/);
  });

  it('never logs, reports or summarises a secret header value, even when the server echoes it', async () => {
    const token = 'sk_live_unit_0123456789abcdef';
    const deployKey = 'dk-unit-99887766';
    const app = await startServer((req, res) =>
      json(res, 500, { echoed: req.headers.authorization, key: req.headers['x-deploy-key'], token }),
    );
    const { report, logger } = await run({
      urls: `${app.url}/health`,
      headers: `Authorization: Bearer ${token}\nX-Deploy-Key: ${deployKey}\nX-Trace: visible`,
      'secret-headers': 'X-Deploy-Key',
      timeout: '300ms',
    });
    expect(app.requests[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(app.requests[0]?.headers['x-deploy-key']).toBe(deployKey);
    const everything = [
      logger.text(),
      JSON.stringify(logger.entries),
      JSON.stringify(report),
      JSON.stringify(toOutputs(report)),
      buildSummary(report).render(),
      verdictError(report)?.message ?? '',
    ].join('\n');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(deployKey);
    expect(only(report).bodyExcerpt).toContain('***');
  });

  it('sends a URL password as basic auth and shows it nowhere', async () => {
    const app = await startServer((req, res) => json(res, 503, { auth: req.headers.authorization }));
    const url = app.url.replace('http://', 'http://deployer:pa55-word-1234@');
    const { report, logger } = await run({ urls: `${url}/health`, timeout: '200ms' });
    expect(app.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('deployer:pa55-word-1234').toString('base64')}`,
    );
    expect(only(report).name).toBe(`${app.url.replace('http://', 'http://deployer:***@')}/health`);
    const shown = JSON.stringify(report) + logger.text();
    expect(shown).not.toContain('pa55-word-1234');
    expect(shown).not.toContain(Buffer.from('deployer:pa55-word-1234').toString('base64'));
  });

  it('runs smoke tests beside the urls, each with its own expectations and the shared headers', async () => {
    const app = await startServer((req, res) => {
      if (req.url === '/api/tasks')
        json(res, 200, { items: [{ id: 1 }], env: req.headers['x-env'], team: req.headers['x-team'] });
      else if (req.url === '/login')
        res.writeHead(200, { 'content-type': 'text/html' }).end('<form id="login">');
      else json(res, 200, { status: 'ok' });
    });
    const workspace = await mkdtemp(join(tmpdir(), 'verify-health-run-'));
    try {
      await writeFile(
        join(workspace, 'smoke.yml'),
        [
          '- name: tasks list',
          '  url: /api/tasks',
          '  headers: { X-Team: planner }',
          '  expected-json:',
          '    items[0].id: 1',
          '    env: staging',
          '    team: planner',
          '- name: login page',
          '  url: /login',
          '  expected-body: <form',
          '',
        ].join('\n'),
      );
      const { report } = await run(
        { urls: `${app.url}/health`, headers: 'X-Env: staging', 'smoke-tests': 'smoke.yml' },
        { workspace },
      );
      expect(report.checks.map((c) => [c.name, c.healthy])).toEqual([
        [`${app.url}/health`, true],
        ['tasks list', true],
        ['login page', true],
      ]);
      expect(app.requests.map((r) => r.url).sort()).toEqual(['/api/tasks', '/health', '/login']);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });

  it('stops at once on cancel, and says it was cancelled rather than unhealthy', async () => {
    const down = await startServer((_req, res) => json(res, 503, {}));
    const hanging = await startServer(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new CancelledError('Cancelled by SIGINT.')), 300);
    const { report, logger, elapsedMs } = await run(
      { urls: `${down.url}\n${hanging.url}`, timeout: '5m', 'request-timeout': '1m' },
      { signal: controller.signal },
    );
    expect(elapsedMs).toBeLessThan(1500);
    expect(report.cancelled).toBe(true);
    expect(report.healthy).toBe(false);
    expect(errors(logger)).toEqual([]);
    const verdict = verdictError(report);
    expect(verdict).toBeInstanceOf(CancelledError);
    expect(verdict?.message).toMatch(/^Cancelled after .* before 2 of 2 checks had passed/);
  });

  it('stops during initial-delay on cancel', async () => {
    const app = await startServer((_req, res) => json(res, 200, {}));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new CancelledError()), 100);
    const { report, elapsedMs } = await run(
      { urls: app.url, 'initial-delay': '60s', timeout: '5m' },
      { signal: controller.signal },
    );
    expect(elapsedMs).toBeLessThan(2000);
    expect(report.cancelled).toBe(true);
    expect(app.requests).toHaveLength(0);
  });
});

describe('excerpt', () => {
  const secret = 'tok_abcdef123456';
  const scrub = (text: string): string => text.split(secret).join('***');
  const cases: Array<[string, string, string | null]> = [
    ['short bodies as they are', '{"status":"ok"}', '{"status":"ok"}'],
    ['empty bodies as null', '  \n ', null],
    ['white space collapsed to one line', '<html>\n  <body>\n\tdown\n</body>', '<html> <body> down </body>'],
    ['control characters shown', 'a\u0000b\u007fc', 'a\ufffdb\ufffdc'],
    ['a secret replaced, even across the cut', `${'x'.repeat(295)}${secret}`, `${'x'.repeat(295)}***`],
  ];
  it.each(cases)('%s', (_what, body, expected) => {
    expect(excerpt(body, scrub)).toBe(expected);
  });

  it(`cuts at ${BODY_EXCERPT_CHARS} characters`, () => {
    const cut = excerpt('y'.repeat(10_000), scrub) ?? '';
    expect(cut).toHaveLength(BODY_EXCERPT_CHARS);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('never shows the start of a secret that the cut would split', () => {
    const cut = excerpt(`${'x'.repeat(290)}${secret}${'z'.repeat(100)}`, scrub) ?? '';
    expect(cut).not.toContain('tok_');
  });
});
