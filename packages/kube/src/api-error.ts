import { quoteUntrusted } from '@planner-deploy/core';
import type { KubeStatus } from './types.js';

/** An HTTP error from the API server, with the server's Status reason and message when it sent one. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly statusCode: number;
  /** Status.reason: NotFound, AlreadyExists, Conflict, Invalid, Expired, TooManyRequests, … */
  readonly reason: string | undefined;
  /** Retry-After in ms when the server sent one (429, 503). */
  readonly retryAfterMs: number | undefined;
  readonly status: KubeStatus | undefined;

  constructor(
    statusCode: number,
    message: string,
    options: {
      reason?: string | undefined;
      retryAfterMs?: number | undefined;
      status?: KubeStatus | undefined;
    } = {},
  ) {
    super(message);
    this.statusCode = statusCode;
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }

  /** kubectl's wording: `Error from server (NotFound): deployments.apps "x" not found`. */
  describe(): string {
    return `Error from server (${this.reason ?? this.statusCode}): ${this.message}`;
  }
}

/** Parses a Retry-After header (seconds or an HTTP date) into ms. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Builds a KubeApiError from a response status, headers and body text. */
export function apiErrorFromResponse(
  statusCode: number,
  bodyText: string,
  retryAfter?: string,
): KubeApiError {
  let status: KubeStatus | undefined;
  try {
    const parsed = JSON.parse(bodyText) as unknown;
    if (parsed !== null && typeof parsed === 'object') status = parsed;
  } catch {
    // Not JSON (a proxy or load balancer page): keep the text.
  }
  // The server's (or a proxy's) words: quoted, as they reach the log and annotations.
  const message = quoteUntrusted(
    typeof status?.message === 'string'
      ? status.message
      : bodyText.trim().slice(0, 300) || `HTTP ${statusCode}`,
    500,
  );
  return new KubeApiError(statusCode, message, {
    reason: status?.reason ?? reasonForCode(statusCode),
    retryAfterMs: parseRetryAfter(retryAfter),
    status,
  });
}

function reasonForCode(code: number): string | undefined {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    409: 'Conflict',
    410: 'Expired',
    415: 'UnsupportedMediaType',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code];
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'REQUEST_TIMEOUT',
]);

/**
 * Errors worth retrying: 5xx, 429, connection resets and timeouts. Never 4xx verdicts like 404 or 422.
 * Network errors are recognised by shape, not `instanceof Error`: they come from Node's own realm, which is
 * not the caller's under a VM sandbox such as Jest's.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof KubeApiError) return error.statusCode >= 500 || error.statusCode === 429;
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  if (name === 'TimeoutError') return true;
  return message === 'socket hang up' || message === 'aborted';
}

/**
 * A transient failure in one phrase for a retry line, naming the fault: `HTTP 503 ServiceUnavailable (…)`,
 * `HTTP 429 TooManyRequests, Retry-After 1s (…)`, `connection reset (ECONNRESET)`.
 */
export function describeTransient(error: unknown): string {
  if (error instanceof KubeApiError) {
    const after =
      error.retryAfterMs !== undefined ? `, Retry-After ${Math.round(error.retryAfterMs / 100) / 10}s` : '';
    return `HTTP ${error.statusCode}${error.reason ? ` ${error.reason}` : ''}${after} (${error.message})`;
  }
  if (typeof error !== 'object' || error === null) return typeof error === 'string' ? error : 'unknown error';
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || text === 'socket hang up' || text === 'aborted')
    return `connection reset (${typeof code === 'string' ? code : text})`;
  if (typeof code === 'string') return `${code}${text ? ` (${text})` : ''}`;
  if (name === 'TimeoutError') return `timeout (${text})`;
  return text || 'unknown error';
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 404;
}

export function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 410;
}
