import { backoffDelay, sleep, type Logger } from '@planner-deploy/core';
import { lastErrorLine, type CommandResult } from './docker-cli.js';

export type FailureKind = 'transient' | 'terminal';

/** Answers the registry gives for a request that will fail the same way again. */
const TERMINAL = [
  /tag invalid/i,
  /cannot be overwritten because the repository is immutable/i,
  /\bdenied\b/i,
  /unauthorized/i,
  /no basic auth credentials/i,
  /authentication required/i,
  /name unknown/i,
  /does not exist in the registry/i,
  /manifest invalid/i,
  /blob unknown/i,
  /An image does not exist locally/i,
  /no such image/i,
  /invalid reference format/i,
];

/** Registry and network hiccups that a later attempt usually gets past. */
const TRANSIENT = [
  /HTTP status:? 5\d\d/i,
  /internal server error/i,
  /bad gateway/i,
  /service unavailable/i,
  /gateway time-?out/i,
  /toomanyrequests/i,
  /too many requests/i,
  /HTTP status:? 429/i,
  /connection reset by peer/i,
  /connection refused/i,
  /broken pipe/i,
  /i\/o timeout/i,
  /TLS handshake timeout/i,
  /unexpected EOF/i,
  /\bEOF\b/,
  /net\/http: request canceled/i,
  /context deadline exceeded/i,
  /temporary failure in name resolution/i,
  /ThrottlingException/i,
];

/**
 * Whether a failed `docker push` is worth another try. An answer that says the push is refused (immutable
 * tag, denied, unknown repository) is terminal even when a transient word also appears in the output.
 */
export function classifyPushFailure(output: string): FailureKind {
  if (TERMINAL.some((re) => re.test(output))) return 'terminal';
  if (TRANSIENT.some((re) => re.test(output))) return 'transient';
  return 'terminal';
}

export interface RetryPolicy {
  /** Tries in all (default 4). */
  attempts?: number;
  baseDelayMs?: number;
  capDelayMs?: number;
  signal?: AbortSignal | undefined;
  /** For tests: the delay function and the random source of the jitter. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * Runs a docker command until it succeeds, fails terminally, or the attempts are spent; a transient failure
 * waits a full-jitter backoff first. Returns the last result and how many tries it took.
 */
export async function retryDocker(
  what: string,
  run: () => Promise<CommandResult>,
  logger: Logger,
  policy: RetryPolicy = {},
): Promise<{ result: CommandResult; attempts: number }> {
  const attempts = policy.attempts ?? 4;
  const wait = policy.wait ?? sleep;
  for (let attempt = 1; ; attempt++) {
    const result = await run();
    if (result.code === 0) return { result, attempts: attempt };
    const kind = classifyPushFailure(`${result.stderr}\n${result.stdout}`);
    if (kind === 'terminal' || attempt >= attempts) return { result, attempts: attempt };
    const delay = backoffDelay(
      attempt,
      policy.baseDelayMs ?? 1000,
      policy.capDelayMs ?? 15000,
      policy.random,
    );
    logger.warning(
      `${what} failed (attempt ${attempt} of ${attempts}): ${lastErrorLine(result)}. This looks transient; trying again in ${(delay / 1000).toFixed(1)} s.`,
    );
    await wait(delay, policy.signal);
  }
}
