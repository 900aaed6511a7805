import { errorMessage, type Logger } from '@planner-deploy/core';
import { isTransient } from './rds-client.js';

/** The part of an SDK client this needs: its middleware stack. */
interface WithMiddleware {
  middlewareStack: {
    addRelativeTo(
      middleware: (
        next: (args: { input: object }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: object }) => Promise<unknown>,
      options: { relation: 'after'; toMiddleware: string; name: string; override: boolean },
    ): void;
  };
}

/**
 * Logs every attempt of an SDK call that fails transiently (throttling, 5xx, resets), one line each, naming
 * the error and the attempt: the SDK's own retries are otherwise silent, and a step that is slow because AWS
 * throttles it should say so. Sits just inside the SDK's retry middleware, so it sees each attempt.
 */
export function logSdkRetries(client: unknown, logger: Logger, service: string, maxAttempts: number): void {
  const stack = (client as Partial<WithMiddleware>).middlewareStack;
  if (typeof stack?.addRelativeTo !== 'function') return; // a stand-in client (tests)
  const attempts = new WeakMap<object, number>();
  stack.addRelativeTo(
    (next, context) => async (args) => {
      const attempt = (attempts.get(args.input) ?? 0) + 1;
      attempts.set(args.input, attempt);
      try {
        return await next(args);
      } catch (error) {
        if (isTransient(error)) {
          const name = error instanceof Error ? error.name : 'Error';
          const what = `${service} ${(context.commandName ?? 'request').replace(/Command$/, '')}`;
          logger.info(
            attempt < maxAttempts
              ? `${what}: ${name} (${errorMessage(error)}); attempt ${attempt} of ${maxAttempts}, the SDK retries with backoff.`
              : `${what}: ${name} (${errorMessage(error)}); attempt ${attempt} of ${maxAttempts}, no SDK attempts left.`,
          );
        }
        throw error;
      }
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'plannerDeployRetryLog', override: true },
  );
}
