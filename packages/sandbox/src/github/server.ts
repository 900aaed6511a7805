import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ReleasesStore, ValidationFailed, type Release, type ReleaseFields } from './releases-store.js';
import { generateNotes } from './release-notes.js';

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
const DOCS = 'https://docs.github.com/rest';

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

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

const notFound: Reply = {
  status: 404,
  body: { message: 'Not Found', documentation_url: DOCS, status: '404' },
};

function route(store: ReleasesStore, method: string, url: URL, text: string): Reply {
  const prefix = `/repos/${store.owner}/${store.repo}`;
  const path = url.pathname;
  if (!path.startsWith(`${prefix}/`)) return notFound;
  const rest = path.slice(prefix.length);
  const parts = rest.split('/').slice(1).map(decodeURIComponent);

  if (method === 'GET' && parts[0] === 'tags' && parts.length === 1) {
    const tags = store
      .tags()
      .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
      .map((name) => tagJson(store, url.origin, name));
    return paginate(url, tags);
  }
  if (parts[0] !== 'releases') return notFound;

  if (parts.length === 1) {
    if (method === 'GET') return paginate(url, store.all().reverse());
    if (method === 'POST') {
      const fields = parseFields(text);
      if ('reply' in fields) return fields.reply;
      return withValidation(() => ({ status: 201, body: store.create(fields.value) }));
    }
  }
  if (parts.length === 2 && parts[1] === 'generate-notes' && method === 'POST') {
    const input = parseJson(text);
    if (input === undefined) return problemsParsingJson();
    const tag = typeof input.tag_name === 'string' ? input.tag_name : '';
    if (tag === '') return validationReply(new ValidationFailed('missing_field', 'tag_name'));
    const previous = typeof input.previous_tag_name === 'string' ? input.previous_tag_name : undefined;
    if (previous !== undefined && !store.tags().includes(previous)) return notFound;
    return { status: 200, body: generateNotes(store, tag, previous) };
  }
  if (parts.length === 2 && parts[1] === 'latest' && method === 'GET') {
    const latest = store.latest();
    return latest ? { status: 200, body: latest } : notFound;
  }
  if (parts.length === 3 && parts[1] === 'tags' && method === 'GET') {
    const release = store.byTag(parts[2] as string);
    return release ? { status: 200, body: release } : notFound;
  }
  if (parts.length === 2 && /^\d+$/.test(parts[1] as string)) {
    const id = Number(parts[1]);
    if (method === 'GET') {
      const release = store.get(id);
      return release ? { status: 200, body: release } : notFound;
    }
    if (method === 'PATCH') {
      const fields = parseFields(text);
      if ('reply' in fields) return fields.reply;
      return withValidation(() => {
        const release = store.update(id, fields.value);
        return release ? { status: 200, body: release } : notFound;
      });
    }
    if (method === 'DELETE') return store.delete(id) ? { status: 204 } : notFound;
  }
  return notFound;
}

function tagJson(store: ReleasesStore, origin: string, name: string): unknown {
  const api = `${origin}/repos/${store.owner}/${store.repo}`;
  const sha = Buffer.from(name).toString('hex').padEnd(40, '0').slice(0, 40);
  return {
    name,
    zipball_url: `${api}/zipball/refs/tags/${encodeURIComponent(name)}`,
    tarball_url: `${api}/tarball/refs/tags/${encodeURIComponent(name)}`,
    commit: { sha, url: `${api}/commits/${sha}` },
    node_id: `REF_sandbox_${name}`,
  };
}

/** `per_page` (default 30, at most 100) and `page`, with a Link header as GitHub sends it. */
function paginate(url: URL, items: unknown[]): Reply {
  const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? '30') || 30));
  const page = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number): string => {
    const next = new URL(url);
    next.searchParams.set('per_page', String(perPage));
    next.searchParams.set('page', String(n));
    return `<${next.href}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${link(page - 1)}; rel="prev"`, `${link(1)}; rel="first"`);
  if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    ...(links.length > 0 ? { headers: { link: links.join(', ') } } : {}),
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function problemsParsingJson(): Reply {
  return { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS } };
}

function parseFields(text: string): { value: ReleaseFields } | { reply: Reply } {
  const input = parseJson(text);
  if (input === undefined) return { reply: problemsParsingJson() };
  const fields: ReleaseFields = {};
  const strings = ['tag_name', 'target_commitish', 'name', 'body', 'make_latest'] as const;
  for (const key of strings) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' && !(value === null && (key === 'name' || key === 'body'))) {
      return { reply: validationReply(new ValidationFailed('invalid', key)) };
    }
    (fields as Record<string, unknown>)[key] = value;
  }
  for (const key of ['draft', 'prerelease'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') return { reply: validationReply(new ValidationFailed('invalid', key)) };
    fields[key] = value;
  }
  return { value: fields };
}

function withValidation(fn: () => Reply): Reply {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ValidationFailed) return validationReply(error);
    throw error;
  }
}

function validationReply(error: ValidationFailed): Reply {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [
        {
          resource: 'Release',
          code: error.code,
          field: error.field,
          ...(error.detail !== undefined ? { message: error.detail } : {}),
        },
      ],
      documentation_url: `${DOCS}/releases/releases`,
      status: '422',
    },
  };
}
