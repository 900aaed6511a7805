import { afterEach, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import {
  BODY_LIMIT_BYTES,
  ProbeError,
  describeNetworkError,
  probe,
  type ProbeRequest,
} from '../../src/http-probe.js';
import { closeServers, freePort, json, startServer } from './servers.js';

afterEach(closeServers);

function request(url: string, extra: Partial<ProbeRequest> = {}): ProbeRequest {
  return {
    url: new URL(url),
    method: 'GET',
    headers: {},
    sensitiveHeaders: new Set(),
    followRedirects: true,
    insecure: false,
    timeoutMs: 2000,
    ...extra,
  };
}

async function probeError(req: ProbeRequest, signal = new AbortController().signal): Promise<ProbeError> {
  const error = await probe(req, signal).catch((e: unknown) => e);
  if (!(error instanceof ProbeError)) throw new Error(`expected a ProbeError, got ${String(error)}`);
  return error;
}

describe('probe', () => {
  it('sends the method and headers on a fresh connection and reads status and body', async () => {
    const server = await startServer((req, res) =>
      json(res, 201, { method: req.method, env: req.headers['x-env'] }),
    );
    const response = await probe(
      request(server.url, { method: 'POST', headers: { 'X-Env': 'staging' } }),
      new AbortController().signal,
    );
    expect(response.status).toBe(201);
    expect(JSON.parse(response.body)).toEqual({ method: 'POST', env: 'staging' });
    expect(server.requests[0]?.headers['user-agent']).toBe('planner-deploy-verify-health');
    expect(server.requests[0]?.headers.connection).toBe('close');
    // A POST without a body says so, rather than starting a chunked body some servers refuse.
    expect(server.requests[0]?.headers['content-length']).toBe('0');
  });

  it('follows redirects by hand and reports where the response came from', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/a') res.writeHead(301, { location: '/b' }).end();
      else if (req.url === '/b') res.writeHead(307, { location: '/c' }).end();
      else json(res, 200, { at: req.url });
    });
    const response = await probe(request(`${server.url}/a`), new AbortController().signal);
    expect(response.status).toBe(200);
    expect(response.redirects).toBe(2);
    expect(response.url.pathname).toBe('/c');
  });

  it('checks the 3xx itself when follow-redirects is false', async () => {
    const server = await startServer((_req, res) => res.writeHead(302, { location: '/elsewhere' }).end());
    const response = await probe(
      request(server.url, { followRedirects: false }),
      new AbortController().signal,
    );
    expect(response.status).toBe(302);
    expect(server.requests).toHaveLength(1);
  });

  it('stops after 5 redirects', async () => {
    const server = await startServer((req, res, i) => res.writeHead(302, { location: `/r${i + 1}` }).end());
    const error = await probeError(request(server.url));
    expect(error.message).toMatch(/more than 5 redirects/);
    expect(server.requests).toHaveLength(6);
  });

  it.each([
    [303, 'POST', 'GET'],
    [302, 'POST', 'GET'],
    [307, 'POST', 'POST'],
    [303, 'HEAD', 'HEAD'],
  ] as const)('after a %i, %s becomes %s', async (status, method, next) => {
    const server = await startServer((req, res) =>
      req.url === '/' ? res.writeHead(status, { location: '/next' }).end() : json(res, 200, {}),
    );
    await probe(request(server.url, { method }), new AbortController().signal);
    expect(server.requests.map((r) => r.method)).toEqual([method, next]);
  });

  it('drops credentials and secret headers when a redirect leaves the origin, keeps them on the same origin', async () => {
    const other = await startServer((_req, res) => json(res, 200, {}));
    const first = await startServer((req, res) =>
      req.url === '/'
        ? res.writeHead(302, { location: '/same' }).end()
        : res.writeHead(302, { location: `${other.url}/x` }).end(),
    );
    const headers = { Authorization: 'Bearer t0ken', 'X-Deploy-Token': 's3cret', 'X-Env': 'staging' };
    await probe(
      request(first.url, { headers, sensitiveHeaders: new Set(['x-deploy-token']) }),
      new AbortController().signal,
    );
    expect(first.requests[1]?.headers.authorization).toBe('Bearer t0ken');
    expect(first.requests[1]?.headers['x-deploy-token']).toBe('s3cret');
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
    expect(other.requests[0]?.headers['x-deploy-token']).toBeUndefined();
    expect(other.requests[0]?.headers['x-env']).toBe('staging');
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/iam/', '169.254.169.254', 'link-local'],
    ['http://[::ffff:169.254.169.254]/latest/', '::ffff:a9fe:a9fe', 'link-local'],
    ['http://10.0.0.1:1/admin', '10.0.0.1', 'private'],
  ])(
    'refuses a redirect from a loopback URL to %s without connecting, naming the address',
    async (location, address, kind) => {
      const server = await startServer((_req, res) => res.writeHead(302, { location }).end());
      const error = await probeError(request(`${server.url}/health`));
      expect(error.code).toBe('REDIRECT_REFUSED');
      expect(error.message).toContain(`is ${address}, a ${kind} address`);
      expect(server.requests).toHaveLength(1);
    },
  );

  it('follows a redirect between loopback addresses (a check of localhost stays on localhost)', async () => {
    const other = await startServer((_req, res) => json(res, 200, { at: 'other' }));
    const port = new URL(other.url).port;
    const first = await startServer((_req, res) =>
      res.writeHead(302, { location: `http://localhost:${port}/x` }).end(),
    );
    const response = await probe(request(first.url), new AbortController().signal);
    expect(response.status).toBe(200);
    expect(response.url.href).toBe(`http://localhost:${port}/x`);
  });

  it('names a host that does not resolve before connecting', async () => {
    const error = await probeError(request('http://no-such-host.invalid/'));
    expect(error.message).toMatch(/DNS lookup failed: no such host no-such-host\.invalid/);
  });

  it('refuses a redirect to another scheme', async () => {
    const server = await startServer((_req, res) => res.writeHead(302, { location: 'ftp://x.test/' }).end());
    expect((await probeError(request(server.url))).message).toMatch(/only http and https are followed/);
  });

  it('follows a redirect from http to https (loading TLS only then), with insecure applied there too', async () => {
    const tls = await startServer((_req, res) => json(res, 200, { secure: true }), { tls: true });
    const plain = await startServer((_req, res) =>
      res.writeHead(301, { location: `${tls.url}/health` }).end(),
    );
    const response = await probe(request(plain.url, { insecure: true }), new AbortController().signal);
    expect(response.status).toBe(200);
    expect(response.url.href).toBe(`${tls.url}/health`);
  });

  it('cuts a huge body at the limit instead of reading it all', async () => {
    const chunk = 'x'.repeat(64 * 1024);
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      const write = (left: number): void => {
        if (left === 0 || res.destroyed) return void res.end();
        res.write(chunk, () => write(left - 1));
      };
      write(64); // 4 MiB
    });
    const response = await probe(request(server.url), new AbortController().signal);
    expect(response.body.length).toBe(BODY_LIMIT_BYTES);
  });

  it('names a refused connection', async () => {
    const port = await freePort();
    const error = await probeError(request(`http://127.0.0.1:${port}/health`));
    expect(error.message).toBe(
      `connection refused (ECONNREFUSED): nothing is listening on 127.0.0.1:${port} yet`,
    );
  });

  it('names a self-signed certificate and what to do, and passes with insecure', async () => {
    const server = await startServer((_req, res) => json(res, 200, { ok: true }), { tls: true });
    const error = await probeError(request(server.url));
    expect(error.kind).toBe('tls');
    expect(error.message).toBe(
      'TLS error: self-signed certificate; set insecure: true only for test endpoints',
    );
    expect(server.requests).toHaveLength(0);
    const response = await probe(request(server.url, { insecure: true }), new AbortController().signal);
    expect(response.status).toBe(200);
  });

  it('says when TLS is spoken to a plain HTTP port', async () => {
    const server = await startServer((_req, res) => json(res, 200, {}));
    const error = await probeError(request(server.url.replace('http:', 'https:')));
    expect(error.kind).toBe('tls');
  });

  it.each([
    [
      'no response headers',
      (): void => undefined,
      /^timeout: connected, but no response within 300ms \(request-timeout\)$/,
    ],
    [
      'a body that never ends',
      (_req: unknown, res: ServerResponse): void => {
        res.writeHead(200);
        res.write('partial');
      },
      /^timeout: the response body did not finish within 300ms/,
    ],
  ])('times out on %s, saying which phase hung', async (_what, handler, message) => {
    const server = await startServer(handler);
    const started = performance.now();
    const error = await probeError(request(server.url, { timeoutMs: 300 }));
    expect(error.message).toMatch(message);
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('rejects with the signal reason at once when the signal aborts mid-request', async () => {
    const server = await startServer(() => undefined);
    const controller = new AbortController();
    const reason = new Error('deadline');
    setTimeout(() => controller.abort(reason), 100);
    const started = performance.now();
    await expect(probe(request(server.url, { timeoutMs: 30_000 }), controller.signal)).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(2500);
  });
});

describe('describeNetworkError', () => {
  const url = new URL('https://app.example.test/health');
  const cases: Array<[string, RegExp]> = [
    ['ENOTFOUND', /DNS lookup failed: no such host app\.example\.test/],
    ['ECONNRESET', /connection reset by the server/],
    ['CERT_HAS_EXPIRED', /TLS error: the certificate has expired/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /not valid for app\.example\.test/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /issuer is not trusted.*insecure: true only for test endpoints/],
    ['HPE_INVALID_CONSTANT', /not a valid HTTP response/],
    ['EWHATEVER', /boom \(EWHATEVER\)/],
  ];
  it.each(cases)('%s', (code, message) => {
    const error = Object.assign(new Error('boom'), { code });
    expect(describeNetworkError(error, url).message).toMatch(message);
  });
});
