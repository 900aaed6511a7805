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
