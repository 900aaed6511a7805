import type { RequestOptions } from '../../src/transport.js';
import type { WatchEvent } from '../../src/types.js';

/** An async stream the test feeds: push events, end it cleanly, or fail it. */
export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly signal?: AbortSignal) {
    signal?.addEventListener('abort', () => this.end(), { once: true });
  }
  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }
  end(): void {
    this.ended = true;
    this.wake?.();
  }
  fail(error: Error): void {
    this.error = error;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.error !== undefined) throw this.error;
      if (this.ended || this.signal?.aborted) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

export interface RecordedCall {
  method: string;
  path: string;
  options: RequestOptions;
}

export interface OpenWatch {
  path: string;
  options: RequestOptions;
  channel: Channel<WatchEvent<unknown>>;
}

/**
 * A scripted API: `onRequest` answers requests (throw a KubeApiError for errors); every watch opens a channel
 * the test drives through `watches` (or `onWatch` throws to refuse it).
 */
export class FakeConn {
  readonly calls: RecordedCall[] = [];
  readonly watches: OpenWatch[] = [];
  private waiters: (() => void)[] = [];
  onWatch: ((path: string, options: RequestOptions) => void) | undefined;

  constructor(public onRequest: (method: string, path: string, options: RequestOptions) => unknown) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    this.calls.push({ method, path, options });
    return structuredClone(await this.onRequest(method, path, options)) as T;
  }
  async requestText(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    this.calls.push({ method, path, options });
    return String(await this.onRequest(method, path, options));
  }
  // eslint-disable-next-line @typescript-eslint/require-await -- async so a refusal from onWatch rejects
  async watch<T>(path: string, options: RequestOptions = {}): Promise<AsyncIterable<WatchEvent<T>>> {
    this.calls.push({ method: 'WATCH', path, options });
    this.onWatch?.(path, options);
    const channel = new Channel<WatchEvent<unknown>>(options.signal);
    this.watches.push({ path, options, channel });
    for (const wake of this.waiters.splice(0)) wake();
    return channel as unknown as AsyncIterable<WatchEvent<T>>;
  }
  async lines(path: string, options: RequestOptions = {}): Promise<AsyncIterable<string>> {
    this.calls.push({ method: 'LINES', path, options });
    const stream = (await this.onRequest('LINES', path, options)) as AsyncIterable<string>;
    // Like the real transport, an aborted request ends its stream.
    if (stream instanceof Channel)
      options.signal?.addEventListener('abort', () => stream.end(), { once: true });
    return stream;
  }

  /** Resolves with the n-th watch (0-based) once it is open. */
  async nthWatch(n: number, path?: string): Promise<OpenWatch> {
    for (;;) {
      const matching = this.watches.filter((w) => path === undefined || w.path.includes(path));
      const found = matching[n];
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  count(method: string, pathPart: string): number {
    return this.calls.filter((c) => c.method === method && c.path.includes(pathPart)).length;
  }
}
