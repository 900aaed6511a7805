import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeApiError } from '../../src/api-error.js';
import { createTransport, type Transport } from '../../src/transport.js';

let server: http.Server;
let transport: Transport;
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/ok') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"Thing"}');
      } else if (url.pathname === '/missing') {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(
            '{"kind":"Status","message":"deployments.apps \\"x\\" not found","reason":"NotFound","code":404}',
          );
      } else if (url.pathname === '/busy') {
        res.writeHead(429, { 'retry-after': '3' }).end('slow down');
      } else if (url.pathname === '/watch') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}\n{"type":"MODI');
        setTimeout(() => {
          res.write('FIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}\n');
          res.end('{"type":"DELETED","object":{"metad');
        }, 20);
      } else if (url.pathname === '/log') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('one\r\ntw');
        setTimeout(() => res.end('o\nthree'), 20);
      } else if (url.pathname === '/forever') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first\n');
      } else {
        res.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  transport = createTransport({
    server: `http://127.0.0.1:${port}/`,
    authorize: (opts) => {
      opts.headers = { ...opts.headers, Authorization: 'Bearer t0ken' };
      return Promise.resolve();
    },
  });
});
afterAll(async () => {
  transport.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('transport', () => {
  it('sends JSON with the authorizer headers and the query, and parses the answer', async () => {
    const answer = await transport.request('PATCH', '/ok', {
      query: { fieldManager: 'planner-deploy', dryRun: undefined },
      body: [{ op: 'replace', path: '/a', value: 1 }],
      contentType: 'application/json-patch+json',
    });
    expect(answer).toEqual({ kind: 'Thing' });
    const request = seen.at(-1);
    expect(request).toMatchObject({
      method: 'PATCH',
      url: '/ok?fieldManager=planner-deploy',
      body: '[{"op":"replace","path":"/a","value":1}]',
    });
    expect(request?.headers).toMatchObject({
      authorization: 'Bearer t0ken',
      'content-type': 'application/json-patch+json',
    });
  });

  it.each<[string, number, string | undefined, string, number | undefined]>([
    ['/missing', 404, 'NotFound', 'deployments.apps "x" not found', undefined],
    ['/busy', 429, 'TooManyRequests', 'slow down', 3000],
    ['/boom', 500, 'InternalError', 'HTTP 500', undefined],
  ])('turns %s into a KubeApiError', async (path, statusCode, reason, message, retryAfterMs) => {
    const error = await transport.request('GET', path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ statusCode, reason, message, retryAfterMs });
  });

  it('parses watch events across chunks and drops a torn last line', async () => {
    const events = await collect(
      await transport.watch<{ metadata: { name: string } }>('/watch', { query: { resourceVersion: '0' } }),
    );
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED a', 'MODIFIED a']);
    expect(seen.at(-1)?.url).toBe('/watch?resourceVersion=0&watch=true');
  });

  it('splits a log stream into lines (CRLF, a chunk mid-line, no final newline)', async () => {
    expect(await collect(await transport.lines('/log'))).toEqual(['one', 'two', 'three']);
  });

  it('ends a stream when the signal aborts', async () => {
    const controller = new AbortController();
    const lines = await transport.lines('/forever', { signal: controller.signal });
    const got: string[] = [];
    setTimeout(() => controller.abort(), 50);
    for await (const line of lines) got.push(line);
    expect(got).toEqual(['first']);
  });
});
