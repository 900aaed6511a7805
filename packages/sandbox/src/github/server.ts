import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ReleasesStore, type Release } from './releases-store.js';
import { DOCS, route, type Reply } from './routes.js';

export type { Release } from './releases-store.js';

/** Transient failures to serve, each to the next N authenticated requests, in this order. */
export interface GitHubFaults {
  /** 403 "You have exceeded a secondary rate limit" with `retry-after` (1 s unless `retryAfterSeconds`). */
  rateLimitNext?: number;
  /** The `retry-after` of the secondary rate limits served. */
  retryAfterSeconds?: number;
  /** 403 with `x-ratelimit-remaining: 0` and a reset one second ahead (the primary rate limit). */
  primaryRateLimitNext?: number;
  /** 502 Server Error. */
  serverErrorNext?: number;
}

export interface GitHubApiOptions {
  /** The one token accepted (default: a generated `ghs_…` value). */
  token?: string;
  owner?: string;
  repo?: string;
  /** The repository's tags. */
  tags?: string[];
  faults?: GitHubFaults;
  /** Base of html_url links (default https://github.com). */
  serverUrl?: string;
  /**
   * What the token may do: `write` (default), or `read`, which answers writes with 403 "Resource not
   * accessible by integration" as GitHub does for a github.token without `contents: write`.
   */
  permission?: 'read' | 'write';
}

export interface RecordedGitHubRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  /** The answer's status (0 until answered). */
  status: number;
  /** Arrival, in ms since the sandbox started. */
  at: number;
}

export interface GitHubApi {
  /** The API base URL, for GITHUB_API_URL. */
  url: string;
  token: string;
  /** Every release, drafts included, oldest first. */
  releases(): Release[];
  /** The release GitHub shows as "Latest", if any. */
  latest(): Release | undefined;
  tags(): string[];
  setTags(tags: string[]): void;
  /** Adds faults to serve to the next requests. */
  inject(faults: GitHubFaults): void;
  /** Every request received, in arrival order. */
  requests(): RecordedGitHubRequest[];
  stop(): Promise<void>;
}

const RATE_LIMIT = 5000;

/**
 * Starts a local stand-in for the GitHub REST endpoints that create-release uses, on 127.0.0.1 (random
 * port, plain HTTP): releases by tag and by id, list, create, update, delete, generate-notes, and the
 * paginated tags list, with token auth, rate-limit headers and injectable rate limits and 5xx.
 */
export async function startGitHubApi(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const token = options.token ?? `ghs_sandbox${Math.random().toString(36).slice(2).padEnd(26, '0')}`;
  const owner = options.owner ?? 'owner';
  const repo = options.repo ?? 'repo';
  const serverUrl = options.serverUrl ?? 'https://github.com';
  const faults: Required<GitHubFaults> = {
    rateLimitNext: 0,
    retryAfterSeconds: 1,
    primaryRateLimitNext: 0,
    serverErrorNext: 0,
  };
  const addFaults = (more: GitHubFaults): void => {
    if (more.retryAfterSeconds !== undefined) faults.retryAfterSeconds = more.retryAfterSeconds;
    faults.rateLimitNext += more.rateLimitNext ?? 0;
    faults.primaryRateLimitNext += more.primaryRateLimitNext ?? 0;
    faults.serverErrorNext += more.serverErrorNext ?? 0;
  };
  addFaults(options.faults ?? {});
  const recorded: RecordedGitHubRequest[] = [];
  const started = performance.now();
  let used = 0;
  const resetAt = Math.floor(Date.now() / 1000) + 3600;

  const handle = async (store: ReleasesStore, req: IncomingMessage): Promise<Reply> => {
    const body = await readBody(req);
    const auth = authenticate(req.headers.authorization, token);
    if (auth) return auth;
    used++;
    if (faults.rateLimitNext > 0) {
      faults.rateLimitNext--;
      return {
        status: 403,
        headers: { 'retry-after': String(faults.retryAfterSeconds) },
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
          documentation_url: `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
        },
      };
    }
    if (faults.primaryRateLimitNext > 0) {
      faults.primaryRateLimitNext--;
      return {
        status: 403,
        headers: {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1),
        },
        body: { message: 'API rate limit exceeded for installation.', documentation_url: DOCS },
      };
    }
    if (faults.serverErrorNext > 0) {
      faults.serverErrorNext--;
      return { status: 502, body: { message: 'Server Error' } };
    }
    if (options.permission === 'read' && req.method !== 'GET' && req.method !== 'HEAD') {
      return {
        status: 403,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: `${DOCS}/releases/releases#create-a-release`,
          status: '403',
        },
      };
    }
    return route(store, req.method ?? 'GET', new URL(req.url ?? '/', 'http://sandbox'), body);
  };

  const sockets = new Set<Socket>();
  const server = createServer();
  const serve = (store: ReleasesStore, req: IncomingMessage, res: ServerResponse): void => {
    const entry: RecordedGitHubRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      status: 0,
      at: performance.now() - started,
    };
    recorded.push(entry);
    handle(store, req)
      .catch((error: unknown) => ({ status: 500, body: { message: String(error) } }))
      .then((reply) => {
        entry.status = reply.status;
        send(res, reply, { used, resetAt });
      })
      .catch(() => res.destroy());
  };
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const ready = new ReleasesStore({ owner, repo, apiUrl: url, serverUrl, tags: options.tags ?? [] });
  // The store needs the address for its URLs, so requests are served once it exists.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => serve(ready, req, res));

  return {
    url,
    token,
    releases: () => ready.all(),
    latest: () => {
      const latest = ready.latest();
      return latest && structuredClone(latest);
    },
    tags: () => ready.tags(),
    setTags: (tags) => ready.setTags(tags),
    inject: addFaults,
    requests: () => recorded.map((entry) => ({ ...entry })),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function authenticate(header: string | undefined, token: string): Reply | undefined {
  if (header === undefined) {
    return { status: 401, body: { message: 'Requires authentication', documentation_url: DOCS } };
  }
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim());
  if (!match || match[1] !== token) {
    return { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } };
  }
  return undefined;
}

function send(res: ServerResponse, reply: Reply, rate: { used: number; resetAt: number }): void {
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'x-github-api-version-selected': '2022-11-28',
    'x-ratelimit-limit': String(RATE_LIMIT),
    'x-ratelimit-remaining': String(Math.max(0, RATE_LIMIT - rate.used)),
    'x-ratelimit-used': String(rate.used),
    'x-ratelimit-reset': String(rate.resetAt),
    'x-ratelimit-resource': 'core',
    ...reply.headers,
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}
