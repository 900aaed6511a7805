// End to end: the built dist/index.js, run exactly as the GitHub runner runs it, against local servers.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json, runStep, startTestServer, type TestServer } from '@planner-deploy/runner-harness';

const action = 'actions/verify-health';
const servers: TestServer[] = [];

async function server(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const started = await startTestServer(...args);
  servers.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function results(outputs: Record<string, string>): Array<Record<string, unknown>> {
  return JSON.parse(outputs['result-json'] ?? '[]') as Array<Record<string, unknown>>;
}

describe('verify-health (built dist through the runner harness)', () => {
  it('passes for healthy endpoints checked in parallel and writes outputs and a summary', async () => {
    const app = await server((_req, res) => json(res, 200, { status: 'ok', version: 'abc123' }));
    const api = await server((_req, res) => json(res, 204, {}));
    const result = await runStep({
      action,
      inputs: {
        urls: `${app.url}/health\n${api.url}/api/health`,
        'expected-status': '200-299',
        interval: '200ms',
      },
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs.healthy).toBe('true');
    const rows = results(result.outputs);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.healthy === true)).toBe(true);
    expect(rows.map((r) => r.status).sort()).toEqual([200, 204]);
    expect(result.summary).toContain(`${app.url}/health`);
    expect(result.annotations.filter((a) => a.level === 'error')).toEqual([]);
  });

  it('fails an endpoint that keeps answering 500, naming the URL, status and body, at the deadline', async () => {
    const broken = await server((_req, res) => json(res, 500, { error: 'database unreachable' }));
    const result = await runStep({
      action,
      inputs: { urls: `${broken.url}/health`, timeout: '2s', interval: '200ms' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.healthy).toBe('false');
    const [row] = results(result.outputs);
    expect(row?.status).toBe(500);
    expect(Number(row?.attempts)).toBeGreaterThan(1);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors.some((a) => `${a.title} ${a.message}`.includes(`${broken.url}/health`))).toBe(true);
    expect(result.log).toContain('database unreachable');
    expect(result.summary).toContain('500');
  });

  it('needs the consecutive successes: a flapping endpoint passes only once it stays up', async () => {
    // 200, 500, 200, 500, then 200 for good.
    const flapping = await server((_req, res, i) => json(res, i < 4 && i % 2 === 1 ? 500 : 200, { i }));
    const result = await runStep({
      action,
      inputs: { urls: flapping.url, 'consecutive-successes': '3', interval: '100ms', timeout: '20s' },
    });
    expect(result.exitCode).toBe(0);
    // Passing needs 3 in a row after the last failure (request index 3): requests 4, 5 and 6.
    expect(flapping.requests.length).toBe(7);
    expect(results(result.outputs)[0]?.attempts).toBe(7);
  });

  it('gives up on a request that hangs after request-timeout and says so', async () => {
    const hanging = await server(() => undefined);
    const result = await runStep({
      action,
      inputs: { urls: hanging.url, 'request-timeout': '300ms', interval: '100ms', timeout: '2s' },
    });
    expect(result.exitCode).toBe(1);
    expect(hanging.requests.length).toBeGreaterThan(1);
    expect(String(results(result.outputs)[0]?.['last-error'])).toMatch(/time/i);
  });

  it('waits initial-delay before the first request (slow start)', async () => {
    const app = await server((_req, res) => json(res, 200, { status: 'ok' }));
    const result = await runStep({
      action,
      inputs: { urls: app.url, 'initial-delay': '1500ms', interval: '100ms' },
    });
    expect(result.exitCode).toBe(0);
    expect(app.requests.length).toBeGreaterThanOrEqual(1);
    // The process needs some ms to start; no request may come before the delay has passed.
    expect(app.requests[0]?.at).toBeGreaterThanOrEqual(1500);
  });

  it('fails when the old version still serves (expected-json)', async () => {
    const app = await server((_req, res) => json(res, 200, { status: 'ok', version: 'old111' }));
    const result = await runStep({
      action,
      inputs: {
        urls: app.url,
        'expected-json': 'version=new222\nstatus=ok',
        timeout: '1500ms',
        interval: '200ms',
      },
    });
    expect(result.exitCode).toBe(1);
    const error = String(results(result.outputs)[0]?.['last-error']);
    expect(error).toContain('version');
    expect(error).toContain('new222');
    expect(error).toContain('old111');
  });

  it('refuses a self-signed certificate unless insecure is set, and warns when it is', async () => {
    const tls = await server((_req, res) => json(res, 200, { status: 'ok' }), { tls: true });
    const strict = await runStep({ action, inputs: { urls: tls.url, timeout: '1500ms', interval: '200ms' } });
    expect(strict.exitCode).toBe(1);
    expect(String(results(strict.outputs)[0]?.['last-error'])).toMatch(/certificate/i);

    const insecure = await runStep({ action, inputs: { urls: tls.url, insecure: 'true', timeout: '5s' } });
    expect(insecure.exitCode).toBe(0);
    expect(
      insecure.annotations.some(
        (a) => a.level === 'warning' && /insecure|TLS/i.test(`${a.title} ${a.message}`),
      ),
    ).toBe(true);
  });

  it('fails on time when the deadline passes while a request is in flight', async () => {
    const hanging = await server(() => undefined);
    const result = await runStep({
      action,
      inputs: { urls: hanging.url, timeout: '2s', 'request-timeout': '30s' },
    });
    expect(result.exitCode).toBe(1);
    // The deadline is 2 s; the step must end then, not when the 30 s request timeout would.
    expect(result.durationMs).toBeLessThan(6000);
    expect(result.outputs.healthy).toBe('false');
  });

  it('never prints a secret header value, in the log or the summary', async () => {
    const secret = 'Bearer sk_live_e2e_0123456789abcdef';
    const app = await server((req, res) =>
      json(res, req.headers.authorization === secret ? 500 : 401, { echo: req.headers.authorization }),
    );
    const result = await runStep({
      action,
      inputs: {
        urls: app.url,
        headers: `Authorization: ${secret}\nX-Trace: visible`,
        'secret-headers': 'Authorization',
        timeout: '1s',
        interval: '200ms',
      },
    });
    expect(app.requests[0]?.headers.authorization).toBe(secret);
    expect(result.exitCode).toBe(1);
    expect(result.log).not.toContain('sk_live_e2e_0123456789abcdef');
    expect(result.summary).not.toContain('sk_live_e2e_0123456789abcdef');
    expect(result.outputs['result-json']).not.toContain('sk_live_e2e_0123456789abcdef');
  });

  it('runs the smoke tests listed in a file in the repository', async () => {
    const app = await server((req, res) =>
      req.url === '/api/tasks' ? json(res, 200, { items: [{ id: 1 }] }) : json(res, 200, { status: 'ok' }),
    );
    const workspace = await mkdtemp(join(tmpdir(), 'ws-'));
    await writeFile(
      join(workspace, 'smoke.yml'),
      `- name: tasks list\n  url: ${app.url}/api/tasks\n  expected-json:\n    - items[0].id=1\n- name: missing page\n  url: ${app.url}/nope\n  expected-status: "200"\n`,
    );
    const result = await runStep({
      action,
      workspace,
      inputs: { urls: `${app.url}/health`, 'smoke-tests': 'smoke.yml' },
    });
    expect(result.exitCode).toBe(0);
    expect(results(result.outputs).map((r) => r.name)).toEqual(
      expect.arrayContaining(['tasks list', 'missing page']),
    );
    expect(app.requests.map((r) => r.url)).toEqual(
      expect.arrayContaining(['/health', '/api/tasks', '/nope']),
    );
  });

  it('stops promptly on cancel and says it was cancelled', async () => {
    const down = await server((_req, res) => json(res, 503, {}));
    const result = await runStep({
      action,
      inputs: { urls: down.url, timeout: '5m', interval: '200ms' },
      cancel: { afterMs: 1200 },
    });
    expect(result.exitCode).toBe(1);
    expect(result.exitAfterCancelMs).toBeLessThan(7500);
    expect(
      result.annotations.some((a) => a.level === 'error' && /cancel/i.test(`${a.title} ${a.message}`)),
    ).toBe(true);
  });
});

describe('verify-health against hostile endpoints and careless inputs', () => {
  const catastrophic = '^(a+)+$';
  const hostileBody = `${'a'.repeat(48)}b`;

  it('returns by its deadline with a clear failure when expected-body-regex backtracks catastrophically', async () => {
    const app = await server((_req, res) => res.writeHead(200).end(hostileBody));
    const result = await runStep({
      action,
      inputs: {
        urls: `${app.url}/health`,
        'expected-body-regex': catastrophic,
        timeout: '3s',
        'request-timeout': '1s',
        interval: '200ms',
      },
      // Without a budget on the match the step never returns (2^48 paths); the harness stops it here.
      limitMs: 60_000,
    });
    expect(result.signal).toBeNull();
    expect(result.exitCode).toBe(1);
    expect(result.outputs.healthy).toBe('false');
    const [row] = results(result.outputs);
    expect(String(row?.['last-error'])).toContain('backtracks catastrophically');
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors.some((a) => a.message.includes('expected-body-regex /^(a+)+$/ did not finish'))).toBe(true);
  });

  it('still stops within the grace on SIGINT while a catastrophic match runs', async () => {
    const app = await server((_req, res) => res.writeHead(200).end(hostileBody));
    const result = await runStep({
      action,
      inputs: {
        urls: `${app.url}/health`,
        'expected-body-regex': catastrophic,
        timeout: '1h',
        'request-timeout': '1h',
      },
      cancel: { afterMs: 1500 },
      limitMs: 60_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.exitAfterCancelMs).toBeLessThan(7500);
    expect(
      result.annotations.some((a) => a.level === 'error' && /cancel/i.test(`${a.title} ${a.message}`)),
    ).toBe(true);
  });

  it('refuses a redirect to the metadata address and never quotes what is there', async () => {
    const app = await server((_req, res) =>
      res
        .writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' })
        .end(),
    );
    const result = await runStep({
      action,
      inputs: { urls: `${app.url}/health`, timeout: '1s', interval: '200ms' },
    });
    expect(result.exitCode).toBe(1);
    const [row] = results(result.outputs);
    expect(String(row?.['last-error'])).toMatch(/redirect to .*169\.254\.169\.254.* was refused/);
    expect(String(row?.['last-error'])).toContain('link-local');
  });

  it('masks a token given as the user of a URL and logs the final URL without it', async () => {
    const token = 'ghp_e2eUserOnlyToken0123456789abcd';
    const app = await server((req, res) =>
      req.url === '/start' ? res.writeHead(302, { location: '/health' }).end() : json(res, 200, { ok: true }),
    );
    const start = new URL(`${app.url}/start`);
    start.username = token;
    const result = await runStep({
      action,
      inputs: { urls: start.href, interval: '200ms' },
      secrets: { token },
    });
    expect(result.exitCode).toBe(0);
    expect(result.masks).toContain(token);
    const final = new URL(`${app.url}/health`);
    final.username = '***';
    expect(result.log).toContain(`answered by ${final.href}`);
    expect(results(result.outputs)[0]?.['final-url']).toBe(final.href);
    // The runner sent the token as Basic credentials: the server did get it.
    expect(app.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${token}:`).toString('base64')}`,
    );
  });

  it('masks the password of a URL that does not parse, before quoting the line', async () => {
    const password = 'e2e-unparsed-pass-90210';
    const result = await runStep({
      action,
      inputs: { urls: `https://deployer:${password}@bad host/health` },
      secrets: { password },
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations[0]?.message).toContain('deployer:***@');
  });
});

describe('verify-health bad inputs: exit 1 before any request, the message names the input', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['urls', { urls: 'ftp://example.com/health' }],
    ['urls', { urls: 'not a url' }],
    ['method', { method: 'FETCH' }],
    ['headers', { headers: 'NoColonHere' }],
    ['secret-headers', { 'secret-headers': 'X-Not-Given' }],
    ['expected-status', { 'expected-status': '299-200' }],
    ['expected-status', { 'expected-status': 'ok' }],
    ['expected-body-regex', { 'expected-body-regex': '([unclosed' }],
    ['expected-json', { 'expected-json': 'no-equals-sign' }],
    ['initial-delay', { 'initial-delay': 'soon' }],
    ['interval', { interval: '5' }],
    ['request-timeout', { 'request-timeout': '-1s' }],
    ['timeout', { timeout: 'forever' }],
    ['consecutive-successes', { 'consecutive-successes': '0' }],
    ['smoke-tests', { 'smoke-tests': 'does-not-exist.yml' }],
    ['follow-redirects', { 'follow-redirects': 'yes' }],
    ['insecure', { insecure: 'maybe' }],
  ];
  it.each(cases)('%s', async (input, bad) => {
    const app = await server((_req, res) => json(res, 200, {}));
    const inputs = { urls: app.url, ...bad };
    const result = await runStep({ action, inputs });
    expect(result.exitCode).toBe(1);
    const error = result.annotations.find((a) => a.level === 'error');
    expect(error?.message).toContain(`"${input}"`);
    expect(app.requests).toHaveLength(0);
  });
});
