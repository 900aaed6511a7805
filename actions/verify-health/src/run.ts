import {
  defuseLine,
  formatDuration,
  quoteUntrusted,
  redact,
  sleep,
  type Logger,
} from '@planner-deploy/action-kit';
import {
  CREDENTIAL_HEADERS,
  describeExpectations,
  displayUrl,
  evaluateResponse,
  mergeHeaders,
  urlSecrets,
  type CheckSpec,
  type Mismatch,
} from './checks.js';
import { ProbeError, probe, type ProbeRequest } from './http-probe.js';
import { RegexMatcher } from './regex-match.js';
import { logResults, plural } from './report.js';
import type { Inputs } from './inputs.js';

/** Milliseconds on a monotonic clock (the global `performance` loads perf_hooks at first use: a cold-start cost). */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** What one check ended with. Every text in it is already redacted. */
export interface CheckResult {
  name: string;
  url: string;
  healthy: boolean;
  /** The status of the most recent response, if any came. */
  status: number | null;
  /** The duration of the most recent attempt that got a response. */
  latencyMs: number | null;
  attempts: number;
  /** Why the last attempt did not pass; null when the check is healthy. */
  lastError: string | null;
  /** What kind of failure lastError is, for advice. */
  failure: FailureKind | null;
  /** The start of the most recent response body (≤ 300 characters), for failures. */
  bodyExcerpt: string | null;
  expects: string;
  /** Where the most recent response came from, when redirects were followed (credentials removed). */
  finalUrl?: string | undefined;
}

export interface HealthReport {
  healthy: boolean;
  /** The run's signal aborted (the workflow was cancelled) before every check had a verdict. */
  cancelled: boolean;
  elapsedMs: number;
  timeoutMs: number;
  checks: CheckResult[];
}

export type FailureKind = Mismatch['kind'] | ProbeError['kind'] | 'deadline' | 'streak';

export const BODY_EXCERPT_CHARS = 300;

class DeadlineReached extends Error {
  override readonly name = 'DeadlineReached';
}

interface RunContext {
  inputs: Inputs;
  logger: Logger;
  /** Aborts at the deadline or on cancel. */
  signal: AbortSignal;
  started: number;
  sensitiveHeaders: ReadonlySet<string>;
  scrub: (text: string) => string;
  /** Runs the users' regexes off the main thread, each match within request-timeout (regex-match.ts). */
  regex: RegexMatcher;
}

/**
 * Polls every check in parallel until each has passed `consecutive-successes` times in a row, or until the
 * overall deadline (`timeout`, counted from the start and including `initial-delay`), or until `signal`
 * aborts. Never throws for an unhealthy URL: the report says what each check saw.
 */
export async function verifyHealth(
  inputs: Inputs,
  logger: Logger,
  signal: AbortSignal,
): Promise<HealthReport> {
  const started = monotonicMs();
  const checks = buildChecks(inputs);
  const secrets = secretValues(inputs, checks);
  const scrub = (text: string): string => redact(text, secrets);

  const deadline = new AbortController();
  const timer = setTimeout(
    () =>
      deadline.abort(
        new DeadlineReached(`the deadline (timeout ${formatDuration(inputs.timeout)}) was reached`),
      ),
    inputs.timeout,
  );
  const runSignal = AbortSignal.any([signal, deadline.signal]);
  const context: RunContext = {
    inputs,
    logger,
    signal: runSignal,
    started,
    sensitiveHeaders: new Set(inputs['secret-headers']),
    scrub,
    regex: new RegexMatcher(inputs['request-timeout']),
  };

  if (inputs.insecure) {
    logger.warning(
      'insecure is true: TLS certificates are not verified, so a wrong or intercepted endpoint would pass. Use it only for test endpoints.',
      { title: 'TLS verification is off' },
    );
  }
  const needed = inputs['consecutive-successes'];
  logger.info(
    `Running ${plural(checks.length, 'check')} in parallel, every ${formatDuration(inputs.interval)}, until each passes` +
      `${needed > 1 ? ` ${needed} times in a row` : ''}, within ${formatDuration(inputs.timeout)}.`,
  );

  let results: CheckResult[];
  try {
    if (inputs['initial-delay'] > 0) {
      logger.info(
        `Waiting ${formatDuration(inputs['initial-delay'])} (initial-delay) before the first request.`,
      );
      await sleep(inputs['initial-delay'], runSignal).catch(() => undefined);
    }
    results = await Promise.all(checks.map((check) => pollCheck(check, context)));
  } finally {
    clearTimeout(timer);
    context.regex.close();
  }

  const elapsedMs = monotonicMs() - started;
  const cancelled = signal.aborted && results.some((result) => !result.healthy);
  const report: HealthReport = {
    healthy: results.every((result) => result.healthy),
    cancelled,
    elapsedMs,
    timeoutMs: inputs.timeout,
    checks: results,
  };
  await logResults(report, logger);
  return report;
}

/** The `urls` lines (sharing the expectation inputs), then the smoke tests (the `headers` input under their own). */
export function buildChecks(inputs: Inputs): CheckSpec[] {
  const shared = inputs.headers;
  const fromUrls: CheckSpec[] = inputs.urls.map((url) => ({
    name: displayUrl(url),
    url,
    method: inputs.method,
    headers: shared,
    expect: {
      status: inputs['expected-status'],
      body: inputs['expected-body'],
      bodyRegex: inputs['expected-body-regex'],
      json: inputs['expected-json'],
    },
  }));
  const fromFile = (inputs['smoke-tests']?.checks ?? []).map((check) => ({
    ...check,
    headers: mergeHeaders(shared, check.headers),
  }));
  return [...fromUrls, ...fromFile];
}

function secretValues(inputs: Inputs, checks: CheckSpec[]): string[] {
  const values = new Set<string>();
  for (const check of checks) {
    for (const [name, value] of Object.entries(check.headers)) {
      const lower = name.toLowerCase();
      if (CREDENTIAL_HEADERS.has(lower) || inputs['secret-headers'].includes(lower)) values.add(value);
    }
    for (const secret of urlSecrets(check.url)) values.add(secret);
  }
  for (const value of [...values]) {
    // `Bearer <token>`: a server that echoes only the token must not reveal it either.
    const token = /^\S+\s+(\S{6,})$/.exec(value.trim());
    if (token) values.add(token[1] as string);
  }
  return [...values].filter((value) => value.trim() !== '');
}

async function pollCheck(check: CheckSpec, context: RunContext): Promise<CheckResult> {
  const { inputs, logger, signal, scrub } = context;
  const needed = inputs['consecutive-successes'];
  const label = scrub(check.name);
  // The check's name can come from the smoke-tests file (free text): quoted where it starts a log line of ours.
  const shown = quoteUntrusted(label);
  const request: ProbeRequest = {
    url: check.url,
    method: check.method,
    headers: check.headers,
    sensitiveHeaders: context.sensitiveHeaders,
    followRedirects: inputs['follow-redirects'],
    insecure: inputs.insecure,
    timeoutMs: inputs['request-timeout'],
  };
  const result: CheckResult = {
    name: label,
    url: scrub(displayUrl(check.url)),
    healthy: false,
    status: null,
    latencyMs: null,
    attempts: 0,
    lastError: null,
    failure: null,
    bodyExcerpt: null,
    expects: scrub(describeExpectations(check.expect)),
  };
  let streak = 0;
  let lastState: string | undefined;

  while (!signal.aborted) {
    const attemptStart = monotonicMs();
    result.attempts += 1;
    let failure: { kind: FailureKind; message: string } | undefined;
    let state: string;
    try {
      const response = await probe(request, signal);
      result.latencyMs = Math.round(monotonicMs() - attemptStart);
      result.status = response.status;
      result.bodyExcerpt = excerpt(response.body, scrub);
      failure = await evaluateResponse(response, check.expect, (regex, text) =>
        context.regex.test(regex, text, signal),
      );
      result.finalUrl = response.redirects > 0 ? scrub(displayUrl(response.url)) : undefined;
      state = failure === undefined ? 'ok' : failure.message;
    } catch (error) {
      if (signal.aborted) {
        if (signal.reason instanceof DeadlineReached && result.lastError === null && streak === 0) {
          const waited = formatDuration(monotonicMs() - attemptStart);
          result.lastError = `no response before ${signal.reason.message}: attempt ${result.attempts} was still waiting after ${waited}`;
          result.failure = 'deadline';
        }
        break;
      }
      if (!(error instanceof ProbeError)) throw error;
      failure = { kind: error.kind, message: error.message };
      state = error.code;
    }

    const at = formatDuration(monotonicMs() - context.started);
    if (failure === undefined) {
      streak += 1;
      result.lastError = null;
      result.failure = null;
      const progress = needed > 1 ? ` (${streak}/${needed} in a row)` : '';
      const line = `[${shown}] attempt ${result.attempts} at ${at}: ${result.status} in ${result.latencyMs}ms${via(result)}, passed${progress}`;
      if (state !== lastState) logger.info(line);
      else logger.debug(line);
      if (streak >= needed) {
        result.healthy = true;
        logger.info(`[${shown}] healthy after ${plural(result.attempts, 'attempt')} (${at}).`);
        break;
      }
    } else {
      const restart =
        streak > 0 && needed > 1
          ? ` (after ${plural(streak, 'success', 'successes')} in a row; the count starts again)`
          : '';
      streak = 0;
      // A failure can quote the server (a redirect location, a protocol error): neutralised as a whole.
      result.lastError = quoteUntrusted(scrub(failure.message));
      result.failure = failure.kind;
      const line = `[${shown}] attempt ${result.attempts} at ${at}: ${result.lastError}${failure.kind === 'status' || failure.kind === 'content' ? via(result) : ''}${restart}`;
      if (state !== lastState) logger.info(line);
      else logger.debug(line);
    }
    lastState = state;

    const wait = attemptStart + inputs.interval - monotonicMs();
    if (wait > 0) await sleep(wait, signal).catch(() => undefined);
  }

  if (!result.healthy && result.lastError === null && signal.reason instanceof DeadlineReached) {
    result.failure = streak > 0 ? 'streak' : 'deadline';
    result.lastError =
      streak > 0
        ? `passed ${streak} of the ${needed} consecutive-successes needed before ${signal.reason.message}`
        : `no attempt finished before ${signal.reason.message}`;
  }
  return result;
}

/** Where the response came from after redirects, for the log line (credentials already removed). */
function via(result: CheckResult): string {
  // The final URL comes from the server's Location headers: quoted like any text we do not control.
  return result.finalUrl === undefined
    ? ''
    : ` (answered by ${quoteUntrusted(result.finalUrl)} after redirects)`;
}

/**
 * The start of a body for a message, on one line: secrets replaced first (over the whole body, so a cut
 * cannot leave half a secret), white space collapsed, control characters shown as �, then cut.
 */
export function excerpt(body: string, scrub: (text: string) => string): string | null {
  const head = scrub(body)
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, BODY_EXCERPT_CHARS + 1);
  if (head === '') return null;
  let clean = '';
  for (const char of head) {
    const code = char.charCodeAt(0);
    clean += code < 0x20 || code === 0x7f ? '\ufffd' : char;
  }
  // One line already; what the runner would read as a command (`##[`, a leading `::`) is broken.
  return defuseLine(clean.length > BODY_EXCERPT_CHARS ? `${clean.slice(0, BODY_EXCERPT_CHARS - 1)}…` : clean);
}
