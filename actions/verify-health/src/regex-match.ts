import type { Worker } from 'node:worker_threads';
import { formatDuration } from '@planner-deploy/action-kit';

/**
 * Runs a user's regular expression (`expected-body-regex`) against a response body off the main thread,
 * with a time budget.
 *
 * Why a worker and not a linear-time engine: the input is documented as a JavaScript regular expression,
 * and users write lookarounds and backreferences that RE2-style engines refuse; a worker keeps those exact
 * semantics, needs no dependency (re2 is a native addon ncc cannot bundle, its WASM builds add ~1 MB to a
 * 2 MiB dist budget), and a catastrophic pattern such as `^(a+)+$` on `aaaa…b` cannot hold the step: the
 * event loop stays free for the deadline timer and SIGINT, and the worker is terminated when the budget or
 * the step's signal runs out. The cost is one worker start per step (only when a regex is set, at its
 * first match) and a message round trip per match; `pnpm bench` has the figures.
 */
export class RegexTimeout extends Error {
  override readonly name = 'RegexTimeout';
}

/** The engine could not run the pattern (e.g. it is too large to compile); the message names why. */
export class RegexFailure extends Error {
  override readonly name = 'RegexFailure';
}

// The worker's whole program: compile once per source, answer each match. Given as text (eval) so the
// bundled dist needs no second file.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const compiled = new Map();
parentPort.on('message', ({ id, source, flags, text }) => {
  try {
    const key = flags + '/' + source;
    let regex = compiled.get(key);
    if (!regex) { regex = new RegExp(source, flags); compiled.set(key, regex); }
    regex.lastIndex = 0;
    parentPort.postMessage({ id, matched: regex.test(text) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Reply {
  id: number;
  matched?: boolean;
  error?: string;
}

/** One worker for a step's matches, started at the first; `close()` ends it. */
export class RegexMatcher {
  private worker: Promise<Worker> | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, (reply: Reply) => void>();

  constructor(private readonly budgetMs: number) {}

  /**
   * Whether `regex` matches `text`. Rejects with a RegexTimeout when the match takes longer than the budget
   * (the worker is terminated, the next match starts a new one), with `signal.reason` when the signal
   * aborts first, and with an Error carrying the engine's message when the pattern cannot run.
   */
  async test(regex: RegExp, text: string, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) throw signal.reason;
    // The budget counts from when the worker is ready: its start (tens of ms, more on a busy runner) is not
    // the pattern's fault. The signal still ends the wait for it.
    let onStartAbort: (() => void) | undefined;
    const worker = await Promise.race([
      this.start(),
      new Promise<never>((_resolve, reject) => {
        onStartAbort = () => reject(signal.reason as Error);
        signal.addEventListener('abort', onStartAbort, { once: true });
      }),
    ]).finally(() => signal.removeEventListener('abort', onStartAbort as () => void));
    if (signal.aborted) throw signal.reason;
    const id = (this.nextId += 1);
    return new Promise<boolean>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const stop = (error: Error): void => {
        done();
        this.terminate();
        reject(error);
      };
      const onAbort = (): void => stop(signal.reason as Error);
      const timer = setTimeout(
        () => stop(new RegexTimeout(`stopped after ${formatDuration(this.budgetMs)}, the request-timeout`)),
        this.budgetMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, (reply) => {
        done();
        if (reply.error !== undefined) reject(new RegexFailure(withoutPattern(reply.error)));
        else resolve(reply.matched === true);
      });
      worker.postMessage({ id, source: regex.source, flags: regex.flags, text });
    });
  }

  /** Ends the worker (idempotent); a later match starts a new one. */
  close(): void {
    this.terminate();
  }

  private start(): Promise<Worker> {
    this.worker ??= import('node:worker_threads').then(
      ({ Worker }) =>
        new Promise<Worker>((resolve, reject) => {
          const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
          // The step never waits for an idle worker to exit.
          worker.unref();
          worker.on('message', (reply: Reply) => this.pending.get(reply.id)?.(reply));
          worker.on('error', (error: Error) => {
            reject(error);
            for (const settle of [...this.pending.values()]) settle({ id: -1, error: error.message });
          });
          worker.once('online', () => resolve(worker));
        }),
    );
    return this.worker;
  }

  private terminate(): void {
    const worker = this.worker;
    this.worker = undefined;
    // A worker that failed to start has nothing to end.
    worker?.then((started) => started.terminate()).catch(() => undefined);
  }
}

/** V8 quotes the whole pattern in its messages (`Invalid regular expression: /…/: …`); keep only the why. */
export function withoutPattern(message: string): string {
  const match = /^Invalid regular expression: \/.*\/[a-z]*: (.*)$/s.exec(message);
  return match ? (match[1] as string) : message.length > 200 ? `${message.slice(0, 199)}…` : message;
}
