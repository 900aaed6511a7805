/** Raw HTTP(S) requests to a sandbox, trusting its CA: for what client libraries hide (headers, streams). */
import http from 'node:http';
import https from 'node:https';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  token?: string | null;
  ca?: string;
}

function requester(url: URL): typeof http.request {
  return url.protocol === 'https:' ? https.request : http.request;
}

export function rawRequest(base: string, path: string, opts: RawOptions = {}): Promise<RawResponse> {
  const url = new URL(path, base);
  const body =
    opts.body === undefined
      ? undefined
      : typeof opts.body === 'string'
        ? opts.body
        : JSON.stringify(opts.body);
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (body !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = requester(url)(
      url,
      { method: opts.method ?? 'GET', headers, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Lines received so far (watch events are parsed as JSON). */
  lines: string[];
  ended: Promise<void>;
  /** Resolves when at least n lines arrived. */
  waitForLines(n: number, timeoutMs?: number): Promise<string[]>;
  close(): void;
}

/** Opens a streaming GET (watch or log follow) and collects its lines. */
export function openStream(base: string, path: string, opts: RawOptions = {}): Promise<Stream> {
  const url = new URL(path, base);
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = requester(url)(
      url,
      { method: 'GET', headers, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const lines: string[] = [];
        let buf = '';
        const waiters: (() => void)[] = [];
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            lines.push(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
          for (const w of [...waiters]) w();
        });
        let finished = false;
        const ended = new Promise<void>((r) => {
          const done = (): void => {
            if (finished) return;
            finished = true;
            if (buf) lines.push(buf);
            buf = '';
            for (const w of [...waiters]) w();
            r();
          };
          res.on('end', done);
          res.on('error', done);
          res.on('close', done);
        });
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          lines,
          ended,
          waitForLines(n: number, timeoutMs = 10000) {
            return new Promise((ok, fail) => {
              const check = (): boolean => {
                if (lines.length >= n) {
                  clearTimeout(t);
                  ok(lines.slice());
                  return true;
                }
                if (finished) {
                  clearTimeout(t);
                  fail(
                    new Error(`stream ended with ${lines.length} lines, wanted ${n}: ${lines.join(' | ')}`),
                  );
                  return true;
                }
                return false;
              };
              const t = setTimeout(
                () =>
                  fail(new Error(`timed out with ${lines.length} lines, wanted ${n}: ${lines.join(' | ')}`)),
                timeoutMs,
              );
              if (!check()) {
                const w = (): void => {
                  if (check()) waiters.splice(waiters.indexOf(w), 1);
                };
                waiters.push(w);
              }
            });
          },
          close() {
            req.destroy();
          },
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
