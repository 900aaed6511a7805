/**
 * The sandbox's simulated clock. Simulated time starts at the real time of construction and runs
 * `1 / timeScale` times faster than real time: with `timeScale: 0.01`, 100 simulated seconds pass in one
 * real second. Every timestamp the controllers write (conditions, events, container states) comes from
 * `now()`, and every delay they wait (pulls, back-offs, deadlines, TTLs) is given in simulated
 * milliseconds to `setTimeout`/`sleep`.
 */

/** An opaque timer handle (delays longer than Node's 24.8-day timer limit are re-armed in steps). */
export interface ClockHandle {
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Node's setTimeout limit (2^31 - 1 ms); longer delays fire at once with a warning. */
const MAX_REAL_DELAY = 2_147_483_647;

export interface ClockOptions {
  /** Real milliseconds per simulated millisecond. 1 = real time (default); 0.01 = 100× faster. */
  timeScale?: number;
  /** Simulated time at construction (default: the real time). */
  start?: Date;
}

export class Clock {
  readonly timeScale: number;
  private readonly simStart: number;
  private readonly realStart: number;

  constructor(opts: ClockOptions = {}) {
    const scale = opts.timeScale ?? 1;
    if (!Number.isFinite(scale) || scale <= 0)
      throw new RangeError(`timeScale must be a positive number, got ${scale}`);
    this.timeScale = scale;
    this.simStart = (opts.start ?? new Date()).getTime();
    this.realStart = performance.now();
  }

  /** The simulated time. */
  now(): Date {
    return new Date(this.nowMs());
  }

  /** The simulated time in epoch milliseconds (fractional). */
  nowMs(): number {
    return this.simStart + (performance.now() - this.realStart) / this.timeScale;
  }

  /** Real milliseconds that `simulatedMs` take. */
  toReal(simulatedMs: number): number {
    return Math.max(0, simulatedMs) * this.timeScale;
  }

  /**
   * Runs `fn` after `simulatedMs` of simulated time. The timer does not keep the process alive: the
   * sandbox's server (or the test) does.
   */
  setTimeout(fn: () => void, simulatedMs: number): ClockHandle {
    const handle: ClockHandle = { timer: undefined };
    const arm = (remainingReal: number): void => {
      const step = Math.min(remainingReal, MAX_REAL_DELAY);
      handle.timer = setTimeout(() => {
        if (remainingReal > step) arm(remainingReal - step);
        else {
          handle.timer = undefined;
          fn();
        }
      }, step);
      handle.timer.unref?.();
    };
    arm(this.toReal(simulatedMs));
    return handle;
  }

  clearTimeout(handle: ClockHandle | undefined): void {
    if (handle?.timer !== undefined) clearTimeout(handle.timer);
    if (handle) handle.timer = undefined;
  }

  /** Resolves after `simulatedMs`; rejects with the signal's reason when it aborts first. */
  sleep(simulatedMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const onAbort = (): void => {
        this.clearTimeout(h);
        clearInterval(keepAlive);
        reject(abortReason(signal));
      };
      // A sleep is awaited by someone: keep the process alive while it runs.
      const keepAlive = setInterval(() => undefined, MAX_REAL_DELAY);
      const h = this.setTimeout(() => {
        clearInterval(keepAlive);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, simulatedMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new Error(r === undefined ? 'aborted' : JSON.stringify(r));
}
