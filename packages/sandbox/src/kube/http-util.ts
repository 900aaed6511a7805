/** Small HTTP helpers shared by the sandbox's API routes: Status bodies, JSON answers, request bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StoreError, type StoreErrorDetails } from './store.js';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A metav1.Status failure body. */
export function statusBody(
  code: number,
  message: string,
  reason?: string,
  details?: StoreErrorDetails,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: reason ?? REASONS[code] ?? '',
  };
  if (details && Object.keys(details).length > 0) {
    const d: Record<string, unknown> = { ...details };
    for (const k of Object.keys(d)) if (d[k] === undefined || d[k] === '') delete d[k];
    if (Object.keys(d).length > 0) body.details = d;
  }
  body.code = code;
  return body;
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

export function sendStatus(
  res: ServerResponse,
  code: number,
  message: string,
  reason?: string,
  details?: StoreErrorDetails,
  headers: Record<string, string> = {},
): void {
  sendJson(res, code, statusBody(code, message, reason, details), headers);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof StoreError) {
    sendStatus(res, err.code, err.message, err.reason, err.details);
    return;
  }
  const code = typeof (err as { code?: unknown })?.code === 'number' ? (err as { code: number }).code : 500;
  const message = err instanceof Error ? err.message : String(err);
  if (code >= 400 && code < 600) sendStatus(res, code, message);
  else sendStatus(res, 500, message);
}

export class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 8 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string>;
export async function readBody(req: IncomingMessage, binary: true): Promise<Buffer>;
export async function readBody(req: IncomingMessage, binary = false): Promise<string | Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw new HttpError(413, 'the request body is too large');
    chunks.push(b);
  }
  const all = Buffer.concat(chunks);
  return binary ? all : all.toString('utf8');
}

export async function readJson(req: IncomingMessage, allowEmpty = false): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') {
    if (allowEmpty) return undefined;
    throw new HttpError(400, 'the request body is empty');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `the body of the request could not be decoded as JSON: ${(e as Error).message}`);
  }
}

export function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}
