import type * as RdsSdk from '@aws-sdk/client-rds';
import type { RDSClient } from '@aws-sdk/client-rds';
import { backoffDelay, CancelledError, sleep, type Logger } from '@planner-deploy/core';
import type { CredentialsProvider } from './credentials.js';
import { logSdkRetries } from './sdk-retry-log.js';

export type RdsModule = typeof RdsSdk;

let sdk: Promise<RdsModule> | undefined;

/**
 * The RDS client module, imported on first use: it is large, and an action must be able to reject a bad input
 * before paying for loading it.
 */
export function loadRdsSdk(): Promise<RdsModule> {
  sdk ??= import('@aws-sdk/client-rds');
  return sdk;
}

/** Everything the RDS helpers need: the SDK, a client, where it points, how to log and when to stop. */
export interface RdsContext {
  sdk: RdsModule;
  client: RDSClient;
  region: string;
  logger: Logger;
  signal?: AbortSignal | undefined;
}

export interface RdsContextOptions {
  region: string;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Explicit endpoint; otherwise the SDK honours AWS_ENDPOINT_URL_RDS / AWS_ENDPOINT_URL by itself. */
  endpoint?: string | undefined;
  credentials?: CredentialsProvider | undefined;
  /** SDK attempts per request (default 5: throttling is common on Describe* calls in busy accounts). */
  maxAttempts?: number | undefined;
}

export async function createRdsContext(options: RdsContextOptions): Promise<RdsContext> {
  const module = await loadRdsSdk();
  const maxAttempts = options.maxAttempts ?? 5;
  const client = new module.RDSClient({
    region: options.region,
    maxAttempts,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  logSdkRetries(client, options.logger, 'RDS', maxAttempts);
  return { sdk: module, client, region: options.region, logger: options.logger, signal: options.signal };
}

/** The AWS error code of an SDK error (its name), or ''. */
export function errorCode(error: unknown): string {
  if (error instanceof Error) return error.name;
  return '';
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
]);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'TimeoutError']);

/** Errors worth another try: throttling, 5xx, connection resets. Never a cancel, never a 4xx fault. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (THROTTLING.has(error.name)) return true;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) return true;
  if (meta?.httpStatusCode === 429) return true;
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && NETWORK.has(code)) || NETWORK.has(error.name);
}

export function isThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING.has(error.name);
}

/** True when the error is the result of the context's signal being aborted. */
export function isCancellation(error: unknown, signal: AbortSignal | undefined): boolean {
  if (error instanceof CancelledError) return true;
  return (
    signal?.aborted === true &&
    error instanceof Error &&
    (error.name === 'AbortError' || error.name === 'TimeoutError')
  );
}

export interface RetryOptions {
  /** Tries in all, on top of the SDK's own retries (default 4). */
  attempts?: number;
  baseDelayMs?: number;
  capDelayMs?: number;
}

/**
 * Runs an RDS call, and again (jittered backoff) when it fails transiently after the SDK's own retries gave up:
 * a throttled account can throttle for longer than the SDK's attempts last. Anything else is thrown at once.
 */
export async function withRetry<T>(
  context: RdsContext,
  what: string,
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (isCancellation(error, context.signal)) throw error;
      if (attempt >= attempts || !isTransient(error)) throw error;
      const delay = backoffDelay(attempt, options.baseDelayMs ?? 500, options.capDelayMs ?? 8000);
      context.logger.info(
        `${what}: ${errorCode(error)} (${(error as Error).message}); trying again in ${delay} ms.`,
      );
      await sleep(delay, context.signal);
    }
  }
}

/** Options for one SDK call: the context's abort signal, so a cancel stops an in-flight request too. */
export function sendOptions(context: RdsContext): { abortSignal?: AbortSignal } {
  return context.signal ? { abortSignal: context.signal } : {};
}
