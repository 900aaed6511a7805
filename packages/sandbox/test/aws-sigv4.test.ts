import { describe, expect, it } from '@jest/globals';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { WireRequest } from '../src/aws/http.js';
import { verifySigV4 } from '../src/aws/sigv4.js';

const credentials = { accessKeyId: 'AKIASIGV4TEST0000001', secretAccessKey: 'sigv4/test/secret' };
const now = new Date('2026-11-27T12:00:00Z');

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** What a Node server receives for a request the SDK signed: raw path and query, headers by name. */
interface SignedRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
}

function onTheWire(request: SignedRequest, body = ''): WireRequest {
  const query = Object.entries(request.query ?? {})
    .flatMap(([k, v]) =>
      (Array.isArray(v) ? v : v === null ? [] : [v]).map((item) => `${rfc3986(k)}=${rfc3986(item)}`),
    )
    .join('&');
  const headers = new Map<string, string[]>();
  for (const [name, value] of Object.entries(request.headers)) headers.set(name.toLowerCase(), [value]);
  return { method: request.method, path: request.path, query, headers, body: Buffer.from(body) };
}

function signer(service = 'eks', region = 'us-east-1') {
  return new SignatureV4({ credentials, region, service, sha256: Hash.bind(null, 'sha256') });
}

function request(overrides: Partial<ConstructorParameters<typeof HttpRequest>[0]> = {}): HttpRequest {
  return new HttpRequest({
    method: 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: '/',
    headers: { host: '127.0.0.1:4566' },
    ...overrides,
  });
}

const verify = (wire: WireRequest, at = now) =>
  verifySigV4(wire, { credentials, regions: ['us-east-1'], now: at });

describe('verifySigV4 agrees with @smithy/signature-v4', () => {
  it.each([
    ['a plain GET', request()],
    ['an encoded path segment', request({ path: '/clusters/my%20cluster' })],
    ['a path with characters that need encoding twice', request({ path: '/clusters/a%2Fb/c%3Ad' })],
    [
      'query keys out of order and a repeated key',
      request({ query: { b: '2', a: ['z', 'y'], 'X-Weird key': 'v/=&' } }),
    ],
    [
      'a header with runs of spaces',
      request({ headers: { host: '127.0.0.1:4566', 'x-custom': '  a   b  c ' } }),
    ],
    [
      'a POST body',
      request({
        method: 'POST',
        body: 'Action=DescribeDBInstances&Version=2014-10-31',
        headers: { host: '127.0.0.1:4566', 'content-type': 'application/x-www-form-urlencoded' },
      }),
    ],
  ])('header-signed: %s', async (_what, req) => {
    const signed = await signer().sign(req, { signingDate: now });
    const body = typeof req.body === 'string' ? req.body : '';
    expect(await verify(onTheWire(signed, body))).toMatchObject({
      ok: true,
      parts: { service: 'eks', presigned: false },
    });
    const tampered = onTheWire(signed, body + 'x');
    if (body !== '')
      expect(await verify(tampered)).toMatchObject({ ok: false, failure: 'SignatureDoesNotMatch' });
  });

  it('presigned: valid until X-Amz-Expires, tampering detected', async () => {
    const presigned = await signer('sts').presign(
      request({ query: { Action: 'GetCallerIdentity', Version: '2011-06-15' } }),
      {
        signingDate: now,
        expiresIn: 300,
      },
    );
    const wire = onTheWire(presigned);
    expect(await verify(wire)).toMatchObject({ ok: true, parts: { presigned: true, service: 'sts' } });
    expect(await verify(wire, new Date(now.getTime() + 301_000))).toMatchObject({
      ok: false,
      failure: 'RequestExpired',
    });
    const tampered = { ...wire, query: wire.query.replace('GetCallerIdentity', 'GetSessionToken') };
    expect(await verify(tampered)).toMatchObject({ ok: false, failure: 'SignatureDoesNotMatch' });
  });

  it('refuses a header signature older than 15 minutes, or scoped to another region', async () => {
    const signed = onTheWire(await signer().sign(request(), { signingDate: now }));
    expect(await verify(signed, new Date(now.getTime() + 16 * 60_000))).toMatchObject({
      ok: false,
      failure: 'SignatureExpired',
    });
    const otherRegion = onTheWire(await signer('eks', 'eu-west-1').sign(request(), { signingDate: now }));
    expect(await verify(otherRegion)).toMatchObject({ ok: false, failure: 'SignatureDoesNotMatch' });
  });

  it('refuses a host that differs from the signed one', async () => {
    const signed = onTheWire(await signer().sign(request(), { signingDate: now }));
    signed.headers.set('host', ['127.0.0.1:9999']);
    expect(await verify(signed)).toMatchObject({ ok: false, failure: 'SignatureDoesNotMatch' });
  });

  it('tells missing and malformed signatures apart', async () => {
    const bare: WireRequest = {
      method: 'GET',
      path: '/',
      query: '',
      headers: new Map(),
      body: Buffer.alloc(0),
    };
    expect(await verify(bare)).toMatchObject({ ok: false, failure: 'MissingAuthenticationToken' });
    const malformed = { ...bare, headers: new Map([['authorization', ['AWS4-HMAC-SHA256 Credential=x']]]) };
    expect(await verify(malformed)).toMatchObject({ ok: false, failure: 'IncompleteSignature' });
  });
});
