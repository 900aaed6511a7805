import type http from 'node:http';
import type https from 'node:https';
import { LINE_LIMIT_CHARS, LineSplitter, quoteUntrusted } from '@planner-deploy/core';
import { apiErrorFromResponse, KubeApiError, type ClusterContext } from './api-error.js';
import type { WatchEvent } from './types.js';

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  /** Default `application/json` when there is a body. PATCH needs one of the patch types. */
  contentType?: string;
  accept?: string;
  signal?: AbortSignal | undefined;
  /** Idle timeout of the socket. Default 30 s for requests; none for streams unless given. */
  timeoutMs?: number;
}

/** Fills TLS options and the Authorization header for one request (KubeConfig.applyToHTTPSOptions). */
export type Authorize = (options: https.RequestOptions) => Promise<void>;

/**
 * Raw HTTP to the API server over node:http(s): JSON requests, line streams (logs) and watch streams.
 * client-node's typed clients hide status codes, Retry-After and content types we need exactly (undo's
 * json-patch, 410 on watches), so the logic in this package goes through this and the typed clients are
 * offered for callers that want them.
 */
export interface Transport {
  readonly server: string;
  /** A JSON request; throws KubeApiError on a status ≥ 400. */
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** Same, returning the body as text. */
  requestText(method: string, path: string, options?: RequestOptions): Promise<string>;
  /** A streaming GET read line by line (pod logs). Ends when the server ends the stream or the signal aborts. */
  lines(path: string, options?: RequestOptions): Promise<AsyncIterable<string>>;
  /** A watch (`watch=true` is added); yields events until the server closes the stream or the signal aborts. */
  watch<T>(path: string, options?: RequestOptions): Promise<AsyncIterable<WatchEvent<T>>>;
  /** Closes idle keep-alive sockets. */
  close(): void;
}

export interface TransportOptions {
  server: string;
  authorize: Authorize;
  /** Keep the agent the authorizer sets (proxies); by default a keep-alive agent of our own is used. */
  keepAuthorizerAgent?: boolean;
  userAgent?: string;
  /** The cluster, context and credential, named in errors a person must act on (401, 403, 404). */
  where?: ClusterContext | undefined;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function createTransport(options: TransportOptions): Transport {
  const base = options.server.replace(/\/+$/, '');
  const isHttps = base.startsWith('https:');
  // node:http or node:https (with the TLS stack and node:crypto) is loaded here, when a connection is set up,
  // not when an action starts: an input error is reported without them (cold start).
  const client = isHttps ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http');
  const agent = new client.Agent({ keepAlive: true });

  async function open(method: string, path: string, request: RequestOptions, stream: boolean) {
    const url = new URL(base + path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const httpsOptions: https.RequestOptions = { headers: {} };
    await options.authorize(httpsOptions);
    let body: Buffer | undefined;
    if (request.body !== undefined) {
      body = Buffer.from(
        typeof request.body === 'string' ? request.body : JSON.stringify(request.body),
        'utf8',
      );
    }
    const headers: http.OutgoingHttpHeaders = {
      ...(httpsOptions.headers as http.OutgoingHttpHeaders),
      Accept: request.accept ?? 'application/json',
      'User-Agent': options.userAgent ?? 'planner-deploy',
      ...(body
        ? { 'Content-Type': request.contentType ?? 'application/json', 'Content-Length': body.length }
        : {}),
    };
    const chosenAgent = options.keepAuthorizerAgent && httpsOptions.agent ? httpsOptions.agent : agent;
    const timeoutMs = request.timeoutMs ?? (stream ? undefined : DEFAULT_TIMEOUT_MS);
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = client.request(
        url,
        {
          method,
          headers,
          agent: chosenAgent,
          ...(isHttps ? tlsOptionsOf(httpsOptions) : {}),
          ...(httpsOptions.auth ? { auth: httpsOptions.auth } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        },
        resolve,
      );
      req.on('error', reject);
      if (timeoutMs !== undefined) {
        req.setTimeout(timeoutMs, () => {
          const error = Object.assign(new Error(`${method} ${path} timed out after ${timeoutMs} ms`), {
            code: 'REQUEST_TIMEOUT',
          });
          req.destroy(error);
        });
      }
      req.end(body);
    });
  }

  async function readBody(response: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function openOk(method: string, path: string, request: RequestOptions, stream: boolean) {
    const response = await open(method, path, request, stream);
    const status = response.statusCode ?? 0;
    if (status >= 400) {
      const text = await readBody(response);
      const error = apiErrorFromResponse(status, text, headerText(response.headers['retry-after']));
      error.request = { method, path, query: request.query };
      error.where = options.where;
      throw error;
    }
    return response;
  }

  async function requestText(method: string, path: string, request: RequestOptions = {}): Promise<string> {
    const response = await openOk(method, path, request, false);
    return readBody(response);
  }

  return {
    server: base,
    requestText,
    async request<T>(method: string, path: string, request: RequestOptions = {}): Promise<T> {
      const text = await requestText(method, path, request);
      if (text.trim() === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new KubeApiError(
          200,
          `${method} ${path} returned a body that is not JSON: ${quoteUntrusted(text, 200)}`,
        );
      }
    },
    async lines(path: string, request: RequestOptions = {}): Promise<AsyncIterable<string>> {
      const response = await openOk('GET', path, { accept: '*/*', ...request }, true);
      return readLines(response, request.signal, LINE_LIMIT_CHARS);
    },
    async watch<T>(path: string, request: RequestOptions = {}): Promise<AsyncIterable<WatchEvent<T>>> {
      const response = await openOk(
        'GET',
        path,
        { ...request, query: { ...request.query, watch: 'true' } },
        true,
      );
      return parseEvents<T>(readLines(response, request.signal));
    },
    close(): void {
      agent.destroy();
    },
  };
}

function tlsOptionsOf(source: https.RequestOptions): https.RequestOptions {
  const out: https.RequestOptions = {};
  if (source.ca !== undefined) out.ca = source.ca;
  if (source.cert !== undefined) out.cert = source.cert;
  if (source.key !== undefined) out.key = source.key;
  if (source.pfx !== undefined) out.pfx = source.pfx;
  if (source.passphrase !== undefined) out.passphrase = source.passphrase;
  if (source.rejectUnauthorized !== undefined) out.rejectUnauthorized = source.rejectUnauthorized;
  if (source.servername !== undefined) out.servername = source.servername;
  return out;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The lines of a streamed body, split in linear time (core's LineSplitter). A log line is capped for
 * display (`maxLineChars`, the rest counted); a watch event is a whole JSON object and is never cut.
 */
async function* readLines(
  response: http.IncomingMessage,
  signal: AbortSignal | undefined,
  maxLineChars = Number.POSITIVE_INFINITY,
): AsyncGenerator<string> {
  const onAbort = (): void => {
    response.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const decoder = new TextDecoder('utf-8');
  const splitter = new LineSplitter({ maxLineChars });
  try {
    for await (const chunk of response) {
      yield* splitter.push(decoder.decode(chunk as Buffer, { stream: true }));
    }
    yield* splitter.push(decoder.decode());
    yield* splitter.end();
  } catch (error) {
    // An aborted stream is a normal end for the caller, who checks its signal.
    if (!signal?.aborted) throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    response.destroy();
  }
}

async function* parseEvents<T>(lines: AsyncIterable<string>): AsyncGenerator<WatchEvent<T>> {
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let event: WatchEvent<T>;
    try {
      event = JSON.parse(line) as WatchEvent<T>;
    } catch {
      // A torn last line of a cut stream: the re-watch from the last RV will deliver it again.
      continue;
    }
    if (event && typeof event === 'object' && typeof event.type === 'string') yield event;
  }
}
