import * as http from 'node:http';
import type * as https from 'node:https';
import type { Socket } from 'node:net';
import { formatDuration, redactUrl } from '@planner-deploy/action-kit';
import {
  addressClass,
  redirectRefusal,
  resolveHost,
  type AddressClass,
  type ResolvedAddress,
} from './address-policy.js';
import { CREDENTIAL_HEADERS, displayUrl, mergeHeaders, type HttpMethod } from './checks.js';

/** One attempt: a request, redirects followed by hand, the body read up to a limit. */
export interface ProbeRequest {
  url: URL;
  method: HttpMethod;
  headers: Record<string, string>;
  /** Lower-case names of headers dropped when a redirect leaves the origin (credentials and secrets). */
  sensitiveHeaders: ReadonlySet<string>;
  followRedirects: boolean;
  insecure: boolean;
  timeoutMs: number;
}

export interface ProbeResponse {
  status: number;
  body: string;
  /** Where the response came from after redirects. */
  url: URL;
  redirects: number;
}

/** Why an attempt got no response; `message` is written for the person reading the log. */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  constructor(
    readonly kind: 'timeout' | 'network' | 'tls' | 'redirect' | 'protocol',
    message: string,
    /** A stable key (an error code) so a log line is written only when the kind of failure changes. */
    readonly code: string,
  ) {
    super(message);
  }
}

export const MAX_REDIRECTS = 5;
/** Enough for any health or version document; a larger body is cut, not an error. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'planner-deploy-verify-health';

let httpsModule: typeof https | undefined;

/**
 * Sends one attempt. Rejects with a ProbeError when no usable response came, or with `signal.reason` when
 * `signal` aborts (the overall deadline or a cancel), at once, even while a request is in flight.
 */
export async function probe(request: ProbeRequest, signal: AbortSignal): Promise<ProbeResponse> {
  if (signal.aborted) throw signal.reason;
  const attempt = new AbortController();
  const phase = { name: 'connect' as Phase };
  const onOuterAbort = (): void => attempt.abort(signal.reason);
  signal.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(
    () => attempt.abort(timeoutError(request.timeoutMs, phase.name)),
    request.timeoutMs,
  );
  try {
    let url = request.url;
    let method = request.method;
    let headers: Record<string, string> = mergeHeaders(
      { 'user-agent': USER_AGENT, accept: '*/*' },
      request.headers,
    );
    // The classes of the starting URL's addresses, worked out at the first redirect (the address policy
    // is only needed then; building it before the first request would delay it).
    let startAddresses: readonly ResolvedAddress[] | undefined;
    let startClasses: ReadonlySet<AddressClass> | undefined;
    for (let redirects = 0; ; redirects += 1) {
      // node:https loads the TLS stack, which only https checks (or redirects to https) need at start.
      if (url.protocol === 'https:') httpsModule ??= await import('node:https');
      // The host is resolved here, checked, and the connection made to exactly the addresses checked: a
      // name that resolves to a public address for the check and to 169.254.169.254 for the connection
      // (DNS rebinding) cannot slip past.
      const addresses = await abortable(resolveHost(url), attempt.signal).catch((error: unknown) => {
        throw attempt.signal.aborted ? attempt.signal.reason : describeNetworkError(error, url);
      });
      if (startAddresses === undefined) {
        startAddresses = addresses;
      } else {
        startClasses ??= new Set(startAddresses.map(({ address }) => addressClass(address)));
        const refused = redirectRefusal(startClasses, addresses);
        if (refused) {
          throw new ProbeError(
            'redirect',
            `a redirect to ${displayUrl(url)} was refused: ${url.hostname} is ${refused.address}, a ${refused.class} address, ` +
              `and verify-health follows a redirect to a loopback, link-local or private address only from a URL on the same kind of address. ` +
              'If that target is meant to be checked, list it in "urls" (or the smoke-tests file) itself.',
            'REDIRECT_REFUSED',
          );
        }
      }
      const response = await send(url, addresses, method, headers, request.insecure, attempt.signal, phase);
      const location = response.location;
      if (!request.followRedirects || !REDIRECT_STATUSES.has(response.status) || location === undefined) {
        return { status: response.status, body: response.body, url, redirects };
      }
      if (redirects >= MAX_REDIRECTS) {
        throw new ProbeError(
          'redirect',
          `more than ${MAX_REDIRECTS} redirects (the last one to ${redactUrl(location)})`,
          'TOO_MANY_REDIRECTS',
        );
      }
      const next = resolveRedirect(location, url);
      if (next.origin !== url.origin) headers = dropHeaders(headers, request.sensitiveHeaders);
      if (
        response.status === 303
          ? method !== 'HEAD'
          : (response.status === 301 || response.status === 302) && method === 'POST'
      ) {
        method = 'GET';
      }
      url = next;
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onOuterAbort);
  }
}

type Phase = 'connect' | 'response' | 'body';

function timeoutError(ms: number, phase: Phase): ProbeError {
  const limit = `${formatDuration(ms)} (request-timeout)`;
  const text: Record<Phase, string> = {
    connect: `could not connect within ${limit}`,
    response: `connected, but no response within ${limit}`,
    body: `the response body did not finish within ${limit}`,
  };
  return new ProbeError('timeout', `timeout: ${text[phase]}`, `TIMEOUT_${phase.toUpperCase()}`);
}

function resolveRedirect(location: string, from: URL): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new ProbeError(
      'redirect',
      `a redirect to ${JSON.stringify(redactUrl(location))}, which is not a URL`,
      'BAD_REDIRECT',
    );
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new ProbeError(
      'redirect',
      `a redirect to ${next.protocol}// (only http and https are followed)`,
      'BAD_REDIRECT',
    );
  }
  return next;
}

function dropHeaders(headers: Record<string, string>, names: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(
      ([name]) => !names.has(name.toLowerCase()) && !CREDENTIAL_HEADERS.has(name.toLowerCase()),
    ),
  );
}

interface RawResponse {
  status: number;
  body: string;
  location: string | undefined;
}

/**
 * One HTTP exchange on a fresh connection (no keep-alive: behind a Kubernetes Service a reused connection
 * stays on one pod, and a health check should see what a new client sees).
 */
function send(
  url: URL,
  addresses: readonly ResolvedAddress[],
  method: HttpMethod,
  headers: Record<string, string>,
  insecure: boolean,
  signal: AbortSignal,
  phase: { name: Phase },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const fail = (error: unknown): void =>
      settle(() => reject(error instanceof Error ? error : new Error(String(error))));
    const onAbort = (): void => {
      fail(signal.reason);
      req.destroy();
    };

    phase.name = 'connect';
    const options: https.RequestOptions = { method, headers, agent: false, lookup: pinnedLookup(addresses) };
    if (url.protocol === 'https:') options.rejectUnauthorized = !insecure;
    const module = url.protocol === 'https:' ? (httpsModule as typeof https) : http;
    const req = module.request(url, options, (res) => {
      phase.name = 'body';
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void =>
        settle(() =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            location: res.headers.location,
          }),
        );
      res.on('data', (chunk: Buffer) => {
        if (size < BODY_LIMIT_BYTES) chunks.push(chunk.subarray(0, BODY_LIMIT_BYTES - size));
        size += chunk.length;
        if (size >= BODY_LIMIT_BYTES) {
          finish();
          req.destroy();
        }
      });
      res.on('end', finish);
      res.on('error', (error) => fail(describeNetworkError(error, url)));
      res.on('close', () => {
        if (!res.complete)
          fail(new ProbeError('network', 'the connection closed before the body was complete', 'BODY_CUT'));
      });
    });
    req.on('socket', (socket: Socket) => {
      const connected = (): void => {
        if (phase.name === 'connect') phase.name = 'response';
      };
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    req.on('error', (error) => fail(describeNetworkError(error, url)));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    else req.end();
  });
}

/** Rejects with `signal.reason` when the signal aborts first (a DNS lookup cannot itself be aborted). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A `lookup` for http.request that answers with the addresses already resolved and checked. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): NonNullable<https.RequestOptions['lookup']> {
  const pinned = ((
    _hostname: string,
    options: { all?: boolean },
    callback: (error: Error | null, address: unknown, family?: number) => void,
  ): void => {
    const first = addresses[0] as ResolvedAddress;
    if (options.all)
      callback(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, first.address, first.family);
  }) as unknown as NonNullable<https.RequestOptions['lookup']>;
  return pinned;
}

const TLS_HINT = 'set insecure: true only for test endpoints';

/** Turns Node's network and TLS errors into a sentence that says what happened and, where clear, what to do. */
export function describeNetworkError(error: unknown, url: URL): ProbeError {
  const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
  const message = error instanceof Error ? error.message : String(error);
  const target = `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  const known: Record<string, [ProbeError['kind'], string]> = {
    ECONNREFUSED: ['network', `connection refused (ECONNREFUSED): nothing is listening on ${target} yet`],
    ECONNRESET: ['network', `connection reset by the server (ECONNRESET)`],
    ENOTFOUND: ['network', `DNS lookup failed: no such host ${url.hostname} (ENOTFOUND)`],
    EAI_AGAIN: ['network', `DNS lookup of ${url.hostname} failed temporarily (EAI_AGAIN)`],
    EHOSTUNREACH: ['network', `host unreachable: ${target} (EHOSTUNREACH)`],
    ENETUNREACH: ['network', `network unreachable for ${target} (ENETUNREACH)`],
    ETIMEDOUT: ['network', `the connection to ${target} timed out (ETIMEDOUT)`],
    EPIPE: ['network', 'the server closed the connection while the request was sent (EPIPE)'],
    DEPTH_ZERO_SELF_SIGNED_CERT: ['tls', `TLS error: self-signed certificate; ${TLS_HINT}`],
    SELF_SIGNED_CERT_IN_CHAIN: ['tls', `TLS error: self-signed certificate in the chain; ${TLS_HINT}`],
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: [
      'tls',
      `TLS error: the certificate's issuer is not trusted (${code}); ${TLS_HINT}`,
    ],
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: [
      'tls',
      `TLS error: the certificate's issuer is not trusted (${code}); ${TLS_HINT}`,
    ],
    CERT_HAS_EXPIRED: ['tls', 'TLS error: the certificate has expired (CERT_HAS_EXPIRED)'],
    CERT_NOT_YET_VALID: ['tls', 'TLS error: the certificate is not yet valid (CERT_NOT_YET_VALID)'],
    ERR_TLS_CERT_ALTNAME_INVALID: [
      'tls',
      `TLS error: the certificate is not valid for ${url.hostname} (ERR_TLS_CERT_ALTNAME_INVALID)`,
    ],
    ERR_SSL_WRONG_VERSION_NUMBER: [
      'tls',
      'TLS handshake failed: the server does not speak TLS here; is it an http:// endpoint?',
    ],
    EPROTO: ['tls', `TLS handshake failed (EPROTO): ${message}`],
  };
  const hit = known[code];
  if (hit) return new ProbeError(hit[0], hit[1], code);
  if (code.startsWith('HPE_'))
    return new ProbeError('protocol', `not a valid HTTP response (${code}): ${message}`, code);
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))
    return new ProbeError('tls', `TLS error (${code}): ${message}`, code);
  return new ProbeError('network', `${message} (${code})`, code);
}
