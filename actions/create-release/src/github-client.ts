import {
  ActionFailure,
  backoffDelay,
  CancelledError,
  formatDuration,
  quoteUntrusted,
  sleep,
  type Logger,
} from '@planner-deploy/action-kit';
import type { Octokit } from '@octokit/core';

export interface ClientOptions {
  token: string;
  apiUrl: string;
  logger: Logger;
  /** The run's cancellation. */
  signal: AbortSignal;
  /** Epoch ms: requests still running then are aborted, and no wait starts that would end later. */
  deadline: number;
}

/** Retries of a 5xx answer (plugin-retry), each after a jittered backoff. */
export const RETRIES = 3;
/** Rate-limit waits for one request before giving up. */
const MAX_WAITS = 5;

/** What octokit's RequestError carries that this action reads. */
export interface RequestFailure {
  status: number;
  message: string;
  response?: { data?: unknown; headers?: Record<string, string | undefined> };
}

export function asRequestFailure(error: unknown): RequestFailure | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { status?: unknown }).status === 'number'
  ) {
    return error as RequestFailure;
  }
  return undefined;
}

interface RequestLike {
  method?: string;
  url?: string;
  request?: { retryCount?: number };
}

/** `METHOD /path` of an octokit request, for log lines (never headers, so never the token). */
export function describeRequest(options: RequestLike): string {
  return `${options.method ?? 'GET'} ${options.url ?? ''}`;
}

/**
 * The error of a request cut by cancellation or by the deadline. It carries an empty `request` so that
 * plugin-retry takes it for a request error without retry options and does not retry it.
 */
export function stopped(cancel: AbortSignal, during: string): Error {
  const error = cancel.aborted
    ? new CancelledError(
        `Cancelled during ${during}; at worst a draft release is left, which a re-run adopts.`,
      )
    : new ActionFailure(
        'Timed out',
        `The step's timeout passed during ${during}. Re-run the job (it is safe), or raise "timeout".`,
      );
  return Object.assign(error, { request: {} });
}

type LimitHandler = (retryAfter: number, request: object, octokit: unknown, count: number) => unknown;

/** plugin-throttling awaits a limit handler and retries when it resolves to true (its typing says void). */
function limitHandler(
  fn: (retryAfter: number, request: RequestLike, count: number) => Promise<boolean>,
): LimitHandler {
  const handler = (retryAfter: number, request: object, _octokit: unknown, count: number) =>
    fn(retryAfter, request, count);
  return handler;
}

/**
 * Builds the octokit client: token auth, GITHUB_API_URL, retries of 5xx (plugin-retry) and waits on GitHub's
 * primary and secondary rate limits (plugin-throttling). The plugins decide *whether* to retry; this client
 * does the waiting itself (their own delays are set to 0) so that every wait is logged, ends at cancellation
 * and never passes the deadline. Octokit is loaded here, on first use, so input errors and no-op runs start fast.
 */
export async function createOctokit(
  options: ClientOptions,
): Promise<{ octokit: Octokit; stop: AbortSignal }> {
  const [{ Octokit: Core }, { retry }, { throttling }] = await Promise.all([
    import('@octokit/core'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
  ]);
  const { logger, deadline, signal } = options;
  const stop = AbortSignal.any([signal, AbortSignal.timeout(Math.max(0, deadline - Date.now()))]);

  /** Waits `ms` unless that passes the deadline; false when it cannot or the run stopped meanwhile. */
  const wait = async (why: string, ms: number, request: RequestLike, count: number): Promise<boolean> => {
    const left = deadline - Date.now();
    if (count >= MAX_WAITS) {
      logger.warning(`${why} on ${describeRequest(request)} again after ${count} waits; giving up.`);
      return false;
    }
    if (ms > left) {
      logger.warning(
        `${why} on ${describeRequest(request)}: waiting ${formatDuration(ms)} would go past the step's timeout (${formatDuration(Math.max(0, left))} left); giving up.`,
      );
      return false;
    }
    logger.info(`${why}: waiting ${formatDuration(ms)} before retrying ${describeRequest(request)}.`);
    try {
      await sleep(ms, stop);
      return true;
    } catch {
      return false;
    }
  };

  // Registered before retry and throttling, so it wraps the bare request and sees every attempt.
  const attempts = (octokit: Octokit): void => {
    octokit.hook.wrap('request', async (request, requestOptions) => {
      const options = requestOptions as RequestLike;
      for (let waits = 0; ; waits++) {
        try {
          return await request(requestOptions);
        } catch (error) {
          if (stop.aborted) throw stopped(signal, describeRequest(options));
          const failure = asRequestFailure(error);
          if (failure === undefined) throw error;
          const retryAfter = Number(failure.response?.headers?.['retry-after']);
          if (
            (failure.status === 403 || failure.status === 429) &&
            retryAfter > 0 &&
            !/\bsecondary rate\b/i.test(failure.message)
          ) {
            // A rate limit that plugin-throttling does not recognise (it keys on the message): honour retry-after.
            if (
              await wait(
                `GitHub answered ${failure.status} with retry-after: ${retryAfter}`,
                retryAfter * 1000,
                options,
                waits,
              )
            )
              continue;
          } else if (failure.status >= 500) {
            const retryCount = options.request?.retryCount ?? 0;
            if (retryCount < RETRIES) {
              const delay = 500 + backoffDelay(retryCount + 1, 500, 8000);
              const why = `${describeRequest(options)} answered ${failure.status} ${quoteUntrusted(failure.message, 500)}; retry ${retryCount + 1} of ${RETRIES}`;
              await wait(why, delay, options, 0);
            } else {
              logger.info(
                `${describeRequest(options)} answered ${failure.status} ${quoteUntrusted(failure.message, 500)}; no retries left.`,
              );
            }
          }
          throw stop.aborted ? stopped(signal, describeRequest(options)) : error;
        }
      }
    });
  };

  const Client = Core.plugin(attempts, retry, throttling);
  const octokit = new Client({
    auth: options.token,
    baseUrl: options.apiUrl,
    userAgent: 'planner-deploy/create-release',
    request: { signal: stop },
    // 429 is left to plugin-throttling, which reads GitHub's rate-limit headers.
    retry: { retries: RETRIES, retryAfterBaseValue: 0, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
    throttle: {
      retryAfterBaseValue: 0,
      onRateLimit: limitHandler((retryAfter, request, count) =>
        wait('Primary rate limit reached (x-ratelimit-remaining: 0)', retryAfter * 1000, request, count),
      ),
      onSecondaryRateLimit: limitHandler((retryAfter, request, count) =>
        wait(`Secondary rate limit (retry-after: ${retryAfter}s)`, retryAfter * 1000, request, count),
      ),
    },
    log: {
      debug: (message: string) => logger.debug(message),
      info: (message: string) => logger.debug(message),
      warn: (message: string) => logger.debug(message),
      error: (message: string) => logger.debug(message),
    },
  });
  return { octokit, stop };
}
