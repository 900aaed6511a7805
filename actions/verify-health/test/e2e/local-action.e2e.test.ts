// verify-health run from source by GitHub's @github/local-action (`pnpm exec local-action run …` with a dotenv
// file), against a local HTTP server: action.yml's defaults applied by its @actions/core stub, the outputs
// shown in its table, and the step's exit code.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { json, runLocalAction, startTestServer, type TestServer } from '@planner-deploy/runner-harness';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer((req, res) => {
    if (req.url === '/healthz') json(res, 200, { status: 'ok', version: 'abc123' });
    else json(res, 503, { status: 'starting' });
  });
});
afterAll(() => server.close());

describe('verify-health under @github/local-action', () => {
  it('passes, with the defaults of action.yml, and shows its outputs', async () => {
    const r = await runLocalAction({
      action: 'actions/verify-health',
      env: { INPUT_URLS: `${server.url}/healthz`, 'INPUT_EXPECTED-JSON': 'version=abc123' },
    });
    expect(r.exitCode).toBe(0);
    // GET, every 5s, within 5m: action.yml's defaults, which only local-action's getInput stub supplies.
    expect(r.stdout).toContain('every 5.00s, until each passes, within 5m00s');
    expect(server.requests.some((q) => q.method === 'GET' && q.url === '/healthz')).toBe(true);
    expect(r.outputs.healthy).toBe('true');
    expect(JSON.parse(r.outputs['result-json'] ?? '[]')).toEqual([
      expect.objectContaining({ url: `${server.url}/healthz`, healthy: true, status: 200 }),
    ]);
    expect(r.outputsTable).toMatch(/'healthy'\s+│\s+'true'/);
  }, 180_000);

  it('fails with exit code 1 and still shows healthy=false', async () => {
    const r = await runLocalAction({
      action: 'actions/verify-health',
      env: { INPUT_URLS: `${server.url}/starting`, INPUT_TIMEOUT: '2s', INPUT_INTERVAL: '500ms' },
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.healthy).toBe('false');
    expect(r.stdout).toMatch(/::error title=[^:]*::.*starting/);
    expect(r.outputsTable).toMatch(/'healthy'\s+│\s+'false'/);
  }, 180_000);
});
