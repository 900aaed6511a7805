import * as core from './toolkit.js';
import {
  ActionFailure,
  asUserError,
  awsServiceFailure,
  CancelledError,
  ConfigurationError,
  errorMessage,
  type Logger,
} from '@planner-deploy/core';
import { coreLogger } from './logger.js';
import { resumeCommands } from './untrusted.js';

/** What every action's logic receives. */
export interface ActionContext {
  /** Aborted on SIGINT/SIGTERM (the runner's cancel). Logic stops waiting and says what state it left. */
  signal: AbortSignal;
  logger: Logger;
}

export type ActionPhase = (context: ActionContext) => Promise<void>;

/** The runner sends SIGTERM 7.5 s after SIGINT and kills the tree 2.5 s later; we leave before that. */
export const CANCEL_GRACE_MS = 6500;
const POST_STATE = 'isPost';

/**
 * The single error boundary of an action: runs `main` (or `post` in the post step), turns signals into an
 * AbortSignal, and reports a failure as exactly one error annotation.
 */
export async function runAction(main: ActionPhase, post?: ActionPhase): Promise<void> {
  const isPost = core.getState(POST_STATE) === 'true';
  if (isPost && !post) return;
  if (!isPost && post) core.saveState(POST_STATE, 'true');

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      core.annotate('error', `Received ${signal} again while stopping; exiting now.`, { title: 'Cancelled' });
      process.exit(1);
    }
    core.info(`Received ${signal}: the run was cancelled. Stopping and cleaning up…`);
    controller.abort(new CancelledError(`Cancelled by ${signal}.`));
    const timer = setTimeout(() => {
      core.annotate(
        'error',
        `Cleanup did not finish within ${CANCEL_GRACE_MS / 1000}s of ${signal}; exiting.`,
        {
          title: 'Cancelled',
        },
      );
      process.exit(1);
    }, CANCEL_GRACE_MS);
    timer.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await (isPost ? (post as ActionPhase) : main)({ signal: controller.signal, logger: coreLogger });
  } catch (error) {
    fail(error, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // A later step or the post step must find commands on.
    resumeCommands();
  }
}

/**
 * Ends the process as soon as the step's work is done and its log is flushed; `src/index.ts` calls it after
 * `run()` (never `run()` itself, so @github/local-action can import and run an action and print its outputs).
 * Outputs, state and the summary are already written (synchronously, or awaited by the phase), so nothing is
 * lost; what is cut short is the wait for idle keep-alive sockets and closed watches to wind down, which
 * otherwise delays the runner's next step by tens of milliseconds after the result is known.
 */
export async function exitPromptly(): Promise<void> {
  const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
    stream.writableLength === 0 ? Promise.resolve() : new Promise((resolve) => stream.once('drain', resolve));
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit();
}

function fail(error: unknown, signal: AbortSignal): void {
  process.exitCode = 1;
  if (error instanceof ConfigurationError || error instanceof ActionFailure) {
    core.annotate('error', error.message, { title: error.title });
    return;
  }
  const userError = asUserError(error);
  if (userError) {
    core.annotate('error', userError.message, { title: userError.title });
    return;
  }
  const serviceFailure = awsServiceFailure(error);
  if (serviceFailure && !signal.aborted) {
    core.annotate('error', serviceFailure.message, { title: serviceFailure.title });
    return;
  }
  if (error instanceof CancelledError || (signal.aborted && isAbortError(error))) {
    const message = error instanceof CancelledError ? error.message : 'The run was cancelled.';
    core.annotate('error', message, { title: 'Cancelled' });
    return;
  }
  core.annotate(
    'error',
    `${errorMessage(error)} (an unexpected error: please report it with the debug log, ACTIONS_STEP_DEBUG=true)`,
    { title: 'Internal error' },
  );
  if (error instanceof Error && error.stack) core.debug(error.stack);
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}
