/**
 * The sandbox's Kubernetes API server: node:http/https on 127.0.0.1, bearer-token auth, discovery,
 * OpenAPI stub, resource verbs, watch, pod logs, fault injection and the loopback-only admin endpoint
 * `/_sandbox/faults`.
 */
import { timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import {
  AGGREGATED_V2,
  AGGREGATED_V2BETA1,
  aggregatedDiscovery,
  apiResourceList,
  discoveryFlavour,
  legacyApiGroup,
  legacyApiGroupList,
  legacyApiVersions,
  openApiGroupVersion,
  openApiRoot,
  VERSION_INFO,
} from './discovery.js';
import { Faults, validateFaultOptions } from './faults.js';
import {
  handleCreate,
  handleDelete,
  handleDeleteCollection,
  handleGet,
  handleList,
  handlePatch,
  handleUpdate,
} from './handlers.js';
import { HttpError, isLoopback, readJson, sendError, sendJson, sendStatus } from './http-util.js';
import type { PodLogs } from './logs.js';
import { servePodLog } from './pod-log.js';
import { parseApiPath, type ResourcePath } from './routes.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import type { ObjectStore } from './store.js';
import type { TlsMaterial } from './tls.js';
import { ChangeHub, serveWatch } from './watch.js';

/** Accepts a bearer token the static one did not match (e.g. an EKS `k8s-aws-v1.` token). */
export type Authenticator = (token: string) => Promise<boolean | { user: string }>;

export interface KubeApiServerOptions {
  store: ObjectStore;
  logs: PodLogs;
  /** Static bearer token. */
  token: string;
  authenticate?: Authenticator;
  /** TLS material; plain HTTP when absent. */
  tls?: TlsMaterial;
  faults?: Faults;
  now?: () => Date;
  host?: string;
  port?: number;
  /** How often a bookmark-enabled watch gets a BOOKMARK when the RV moved on. Default 1000 ms. */
  bookmarkIntervalMs?: number;
}

const ANONYMOUS_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);

/** Supported field selectors per resource (the apiserver answers 400 for others). */
const FIELD_LABELS: Record<string, string[]> = {
  pods: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  namespaces: ['status.phase'],
  replicasets: ['status.replicas'],
  jobs: ['status.successful'],
  deployments: [],
};

/** One resource request as the sandbox saw it (GET/POST/PUT/PATCH/DELETE on an API resource path). */
export interface KubeRequestRecord {
  /** Arrival, ms since the epoch (real time). */
  at: number;
  method: string;
  /** get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The request had `dryRun` set: nothing was changed. */
  dryRun: boolean;
  /** The fault served instead of an answer, if any (reset, throttle, error). */
  fault?: string;
  /** The answer's status; 0 until answered (watches and log streams answer 200 at once). */
  status: number;
}

/** Verbs that change something when not a dry run. */
export const MUTATING_VERBS: ReadonlySet<string> = new Set([
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
]);

export class KubeApiServer {
  readonly faults: Faults;
  /** Every resource request received, in arrival order (admin, discovery and /version are not recorded). */
  readonly requests: KubeRequestRecord[] = [];
  private readonly server: http.Server;
  private readonly now: () => Date;
  private readonly streams = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private baseUrl = '';
  private readonly hub: ChangeHub;

  constructor(private readonly options: KubeApiServerOptions) {
    this.hub = new ChangeHub(options.store);
    this.faults = options.faults ?? new Faults();
    this.now = options.now ?? (() => new Date());
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendError(res, e);
        else res.destroy();
      });
    };
    this.server = options.tls
      ? https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem, noDelay: true }, handler)
      : http.createServer({ noDelay: true }, handler);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `${this.options.tls ? 'https' : 'http'}://${host}:${port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const r of this.streams) if (!r.writableEnded) r.end();
    this.streams.clear();
    this.hub.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    const method = (req.method ?? 'GET').toUpperCase();

    if (path.startsWith('/_sandbox/')) return this.handleAdmin(req, res, path, method);
    if (!ANONYMOUS_PATHS.has(path) && !(await this.authorized(req))) {
      req.resume();
      sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    if (path === '/version') return sendJson(res, 200, VERSION_INFO);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (path === '/api' || path === '/apis') return this.discovery(req, res, path === '/api');
    if (path === '/openapi/v3') return sendJson(res, 200, openApiRoot());
    if (path.startsWith('/openapi/v3/')) {
      const doc = openApiGroupVersion(path.slice('/openapi/v3/'.length));
      if (doc) return sendJson(res, 200, doc);
      return sendStatus(res, 404, 'the server could not find the requested resource', 'NotFound');
    }
    if (path.startsWith('/apis/') && path.split('/').length === 3) {
      const g = legacyApiGroup(path.split('/')[2]!);
      if (g) return sendJson(res, 200, g);
    }
    const parsed = parseApiPath(path);
    if (parsed.kind === 'group-version') {
      const list = apiResourceList(parsed.group, parsed.version);
      if (list) return sendJson(res, 200, list);
    }
    if (parsed.kind !== 'resource') {
      req.resume();
      return sendStatus(res, 404, 'the server could not find the requested resource', 'NotFound', {});
    }
    await this.resourceRequest(req, res, q, method, parsed.path);
  }

  private async resourceRequest(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    method: string,
    p: ResourcePath,
  ): Promise<void> {
    const isWatch = p.watchPrefix || q.get('watch') === 'true' || q.get('watch') === '1';
    let verb: string;
    if (method === 'GET')
      verb = p.name === undefined ? (isWatch ? 'watch' : 'list') : isWatch ? 'watch' : 'get';
    else if (method === 'POST' && p.name === undefined) verb = 'create';
    else if (method === 'PUT' && p.name !== undefined) verb = 'update';
    else if (method === 'PATCH' && p.name !== undefined) verb = 'patch';
    else if (method === 'DELETE') verb = p.name === undefined ? 'deletecollection' : 'delete';
    else {
      req.resume();
      return sendStatus(
        res,
        405,
        `the server does not allow this method on the requested resource`,
        'MethodNotAllowed',
      );
    }
    if (
      p.name === undefined &&
      p.info.namespaced &&
      p.namespace === undefined &&
      !['list', 'watch'].includes(verb)
    ) {
      req.resume();
      return sendStatus(res, 404, 'the server could not find the requested resource', 'NotFound');
    }

    const record: KubeRequestRecord = {
      at: Date.now(),
      method,
      verb,
      resource: p.resource,
      ...(p.subresource !== undefined ? { subresource: p.subresource } : {}),
      ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
      ...(p.name !== undefined ? { name: p.name } : {}),
      dryRun: q.has('dryRun'),
      status: 0,
    };
    this.requests.push(record);
    const recordStatus = (): void => {
      record.status = res.statusCode;
    };
    res.once('finish', recordStatus);
    res.once('close', recordStatus);
    const origWriteHead = res.writeHead.bind(res);
    res.writeHead = ((...args: Parameters<typeof res.writeHead>) => {
      record.status = args[0];
      return origWriteHead(...args);
    }) as typeof res.writeHead;

    // Faults are decided before anything is read or written: a faulted write is never applied.
    const latency = this.faults.latency();
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    // A client that gave up during the latency is served nothing: no fault is decided or counted for it.
    if (req.socket.destroyed || res.destroyed) return;
    const decision = this.faults.decide(verb, p.resource, p.name);
    if (decision.kind !== 'none') record.fault = decision.kind;
    if (decision.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (decision.kind === 'forbidden') {
      req.resume();
      // The API server's RBAC wording (what kubectl shows for a missing permission).
      const group = p.info.group;
      const what = `${p.resource}${p.subresource ? `/${p.subresource}` : ''}`;
      const object = `${p.resource}${group ? `.${group}` : ''}${p.name ? ` "${p.name}"` : ''}`;
      const scope = p.namespace ? ` in the namespace "${p.namespace}"` : ' at the cluster scope';
      return sendStatus(
        res,
        403,
        `${object} is forbidden: User "sandbox" cannot ${verb} resource "${what}" in API group "${group}"${scope}`,
        'Forbidden',
        { ...(p.name ? { name: p.name } : {}), group, kind: p.resource },
      );
    }
    if (decision.kind === 'throttle') {
      req.resume();
      return sendStatus(
        res,
        429,
        'Too many requests, please try again later.',
        'TooManyRequests',
        { retryAfterSeconds: decision.retryAfterSeconds },
        {
          'Retry-After': String(decision.retryAfterSeconds),
        },
      );
    }
    if (decision.kind === 'error') {
      req.resume();
      const headers: Record<string, string> =
        decision.retryAfterSeconds !== undefined ? { 'Retry-After': String(decision.retryAfterSeconds) } : {};
      const message =
        decision.code === 503
          ? 'the server is currently unable to handle the request (sandbox fault)'
          : 'an error on the server ("sandbox fault") has prevented the request from succeeding';
      return sendStatus(
        res,
        decision.code,
        message,
        undefined,
        decision.retryAfterSeconds !== undefined
          ? { retryAfterSeconds: decision.retryAfterSeconds }
          : undefined,
        headers,
      );
    }

    const ctx = { store: this.options.store, now: this.now };
    try {
      switch (verb) {
        case 'get':
          if (p.subresource === 'log') {
            if (p.resource !== 'pods') break;
            return servePodLog(
              { ...ctx, logs: this.options.logs, streams: this.streams },
              p.namespace ?? 'default',
              p.name!,
              logQuery(q),
              res,
            );
          }
          return handleGet(ctx, req, q, res, p);
        case 'list':
          this.checkSelectors(p, q);
          return handleList(ctx, req, q, res, p);
        case 'watch': {
          const fieldSelector =
            p.name !== undefined
              ? joinSelector(q.get('fieldSelector'), `metadata.name=${p.name}`)
              : (q.get('fieldSelector') ?? undefined);
          const { labels, fields } = this.checkSelectors(p, q, fieldSelector);
          const timeout = Number(q.get('timeoutSeconds') ?? '');
          return serveWatch(
            {
              store: this.options.store,
              hub: this.hub,
              faults: this.faults,
              now: this.now,
              bookmarkIntervalMs: this.options.bookmarkIntervalMs ?? 1000,
              streams: this.streams,
            },
            {
              resource: p.resource,
              ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
              labels,
              fields,
              resourceVersion: q.get('resourceVersion') ?? '',
              allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
              ...(Number.isFinite(timeout) && timeout > 0 ? { timeoutSeconds: timeout } : {}),
              table: /as=Table/.test((req.headers.accept ?? '').split(',')[0] ?? ''),
            },
            res,
          );
        }
        case 'create':
          return await handleCreate(ctx, req, q, res, p);
        case 'update':
          if (p.subresource === 'log') break;
          return await handleUpdate(ctx, req, q, res, p);
        case 'patch':
          if (p.subresource === 'log') break;
          return await handlePatch(ctx, req, q, res, p);
        case 'delete':
          if (p.subresource !== undefined) break;
          return await handleDelete(ctx, req, q, res, p);
        case 'deletecollection':
          return await handleDeleteCollection(ctx, req, q, res, p);
      }
    } catch (e) {
      req.resume();
      if (e instanceof HttpError) return sendStatus(res, e.code, e.message, e.reason);
      throw e;
    }
    req.resume();
    sendStatus(
      res,
      405,
      'the server does not allow this method on the requested resource',
      'MethodNotAllowed',
    );
  }

  private checkSelectors(
    p: ResourcePath,
    q: URLSearchParams,
    fieldSelector = q.get('fieldSelector') ?? undefined,
  ) {
    try {
      const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
      const fields = parseFieldSelector(fieldSelector);
      const allowed = new Set(['metadata.name', 'metadata.namespace', ...(FIELD_LABELS[p.resource] ?? [])]);
      for (const f of fields) {
        if (!allowed.has(f.field))
          throw new HttpError(400, `field label not supported: ${f.field}`, 'BadRequest');
        if (f.field === 'source' && p.resource === 'events') f.field = 'source.component';
        if (f.field === 'status.successful' && p.resource === 'jobs') f.field = 'status.succeeded';
      }
      return { labels, fields };
    } catch (e) {
      if (e instanceof SelectorError) throw new HttpError(400, e.message, 'BadRequest');
      throw e;
    }
  }

  private discovery(req: IncomingMessage, res: ServerResponse, core: boolean): void {
    const flavour = discoveryFlavour(req.headers.accept);
    if (flavour === 'legacy') {
      const host = req.headers.host ?? '127.0.0.1';
      sendJson(res, 200, core ? legacyApiVersions(host) : legacyApiGroupList());
      return;
    }
    sendJson(res, 200, aggregatedDiscovery(core, flavour), {
      'Content-Type': flavour === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1,
      Vary: 'Accept',
    });
  }

  private async authorized(req: IncomingMessage): Promise<boolean> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const token = m[1]!;
    const a = Buffer.from(token);
    const b = Buffer.from(this.options.token);
    if (a.length === b.length && timingSafeEqual(a, b)) return true;
    if (!this.options.authenticate) return false;
    try {
      return (await this.options.authenticate(token)) !== false;
    } catch {
      return false;
    }
  }

  /** `/_sandbox/faults`: GET the settings and stats, POST/PUT to replace, PATCH to change some, DELETE to clear. */
  private async handleAdmin(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    method: string,
  ): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      req.resume();
      return sendStatus(res, 403, 'the sandbox admin endpoints only answer loopback clients', 'Forbidden');
    }
    if (path !== '/_sandbox/faults') {
      req.resume();
      return sendStatus(res, 404, `no sandbox endpoint ${path}`, 'NotFound');
    }
    try {
      if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
        const body = (await readJson(req, true)) ?? {};
        validateFaultOptions(body);
        if (method === 'PATCH') this.faults.update(body);
        else this.faults.set(body);
      } else if (method === 'DELETE') {
        req.resume();
        this.faults.clear();
      } else if (method !== 'GET') {
        req.resume();
        return sendStatus(res, 405, `${method} is not allowed on /_sandbox/faults`, 'MethodNotAllowed');
      } else req.resume();
    } catch (e) {
      if (e instanceof HttpError) return sendStatus(res, e.code, e.message);
      return sendStatus(res, 400, (e as Error).message, 'BadRequest');
    }
    sendJson(res, 200, { faults: this.faults.current(), stats: this.faults.stats });
  }
}

function joinSelector(a: string | null, b: string): string {
  return a ? `${a},${b}` : b;
}

function logQuery(q: URLSearchParams) {
  const num = (k: string): number | undefined => {
    const v = q.get(k);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new HttpError(400, `invalid ${k}: ${v}`, 'BadRequest');
    return n;
  };
  const container = q.get('container') || undefined;
  const sinceSeconds = num('sinceSeconds');
  const tailLines = num('tailLines');
  const limitBytes = num('limitBytes');
  const sinceTime = q.get('sinceTime') || undefined;
  return {
    ...(container !== undefined ? { container } : {}),
    follow: q.get('follow') === 'true' || q.get('follow') === '1',
    previous: q.get('previous') === 'true' || q.get('previous') === '1',
    timestamps: q.get('timestamps') === 'true' || q.get('timestamps') === '1',
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
    ...(sinceTime !== undefined ? { sinceTime } : {}),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
}
