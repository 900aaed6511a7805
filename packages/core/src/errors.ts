import { quoteUntrusted } from './untrusted-text.js';

/**
 * An error the user fixes (an input, a permission, a missing resource), as opposed to a bug in the action.
 * `runAction` prints its message as the step's error annotation without a stack trace.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  /** Short annotation title, e.g. "Invalid input". */
  readonly title: string;
  constructor(message: string, options?: { title?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.title = options?.title ?? 'Configuration error';
  }
}

/**
 * The operation ran and reached a verdict the step must fail on (an unhealthy URL, a broken rollout).
 * Like ConfigurationError it carries a title and prints no stack; the message says what to do.
 */
export class ActionFailure extends Error {
  override readonly name = 'ActionFailure';
  readonly title: string;
  constructor(title: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.title = title;
  }
}

/** Thrown by logic that stopped because the run was cancelled; the message says what state was left. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(message = 'The operation was cancelled.') {
    super(message);
  }
}

/** Throws a CancelledError when the signal is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) {
    throw new CancelledError(what ?? 'The operation was cancelled.');
  }
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * The user's mistake an error stands for, when it knows one: an error from a lower layer (a Kubernetes API
 * 404, 401 or 403) offers it through a `userError()` method, so the boundaries (runAction, the CLI) print
 * what to fix instead of an internal error, without depending on that layer.
 */
export function asUserError(error: unknown): ConfigurationError | undefined {
  if (error instanceof ConfigurationError) return error;
  const offer = (error as { userError?: unknown } | null)?.userError;
  if (typeof offer !== 'function') return undefined;
  const found: unknown = offer.call(error);
  return found instanceof ConfigurationError ? found : undefined;
}

/**
 * An AWS service's error answer (the SDK's ServiceException: `$metadata.httpStatusCode`, `$fault`, the error code
 * as its name) that no layer explained: the service's verdict, not a bug of ours, so it is reported as such —
 * the code, the HTTP status and the request id, with the service's message quoted (it is text we do not
 * control: a proxy or a forged endpoint can put anything in it). Undefined for anything else.
 */
export function awsServiceFailure(error: unknown): ActionFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const { $metadata: meta, $fault: fault } = error as {
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
    $fault?: unknown;
  };
  if (typeof meta !== 'object' || meta === null || typeof meta.httpStatusCode !== 'number') return undefined;
  if (fault !== 'client' && fault !== 'server') return undefined;
  const code = quoteUntrusted(error.name, 100);
  const requestId =
    typeof meta.requestId === 'string' ? `, request id ${quoteUntrusted(meta.requestId, 100)}` : '';
  const side =
    fault === 'server'
      ? 'The AWS service failed (retries exhausted); re-run the job once it recovers'
      : 'The AWS service refused the request';
  return new ActionFailure(
    `AWS ${code}`,
    `${side}: ${code} (HTTP ${meta.httpStatusCode}${requestId}): ${quoteUntrusted(error.message)}`,
    { cause: error },
  );
}
