import { backoffDelay, formatDuration, sleep, type Logger } from '@planner-deploy/core';
import { describeTransient, isTransient, KubeApiError } from './api-error.js';

export interface RetryOptions {
  /** What is being done, for the log: `GET deployments/web`. */
  what: string;
  /** Epoch ms after which no further attempt starts; the last error is thrown instead. */
  deadline?: number | undefined;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  /** Attempts in all when there is no deadline. Default 6. */
  maxAttempts?: number;
  /** Which errors to retry. Default: `isTransient`. */
  retryable?: (error: unknown) => boolean;
  /** Delay base and cap for the jittered backoff. */
  baseMs?: number;
  capMs?: number;
  random?: () => number;
  now?: () => number;
}

/**
 * Runs `fn` until it succeeds or fails with a non-transient error, waiting a full-jitter exponential backoff
 * (or the server's Retry-After on 429/503) between attempts, never past the deadline, and stopping at once
 * when the signal aborts.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const retryable = options.retryable ?? isTransient;
  const maxAttempts = options.deadline === undefined ? (options.maxAttempts ?? 6) : Number.POSITIVE_INFINITY;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted || !retryable(error) || attempt + 1 >= maxAttempts) throw error;
      const retryAfter = error instanceof KubeApiError ? error.retryAfterMs : undefined;
      const delay =
        retryAfter ?? backoffDelay(attempt, options.baseMs ?? 250, options.capMs ?? 5000, options.random);
      if (options.deadline !== undefined && now() + delay >= options.deadline) throw error;
      // One line per retry, naming the fault survived (it is what a reader of a slow step looks for).
      options.logger?.info(
        `${options.what}: ${describeTransient(error)}; attempt ${attempt + 1} failed, retrying in ${formatDuration(delay)}.`,
      );
      await sleep(delay, options.signal);
    }
  }
}
