import { ConfigurationError, quoteUntrusted } from '@planner-deploy/core';
import type { KubeStatus } from './types.js';

/** Which cluster, context and credential a request went to, for an error a person must act on. */
export interface ClusterContext {
  /** `EKS cluster prod (eu-west-1)` or `the kubeconfig input, context ci (https://…)`; no credentials. */
  cluster: string;
  /** The kubeconfig context, when there is one the user chose or wrote. */
  context?: string | undefined;
  /** The credential sent, in words: `the EKS token of the AWS identity in the environment`. */
  credential: string;
  /** What to check when that credential is refused (401). */
  credentialAdvice: string;
}

/** The request that failed. */
export interface FailedRequest {
  method: string;
  path: string;
  query?: Record<string, unknown> | undefined;
}

/** An HTTP error from the API server, with the server's Status reason and message when it sent one. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly statusCode: number;
  /** Status.reason: NotFound, AlreadyExists, Conflict, Invalid, Expired, TooManyRequests, … */
  readonly reason: string | undefined;
  /** Retry-After in ms when the server sent one (429, 503). */
  readonly retryAfterMs: number | undefined;
  readonly status: KubeStatus | undefined;
  /** Set by the transport: the request that failed, and the cluster it went to. */
  request: FailedRequest | undefined;
  where: ClusterContext | undefined;

  constructor(
    statusCode: number,
    message: string,
    options: {
      reason?: string | undefined;
      retryAfterMs?: number | undefined;
      status?: KubeStatus | undefined;
    } = {},
  ) {
    super(message);
    this.statusCode = statusCode;
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }

  /** kubectl's wording: `Error from server (NotFound): deployments.apps "x" not found`. */
  describe(): string {
    return `Error from server (${this.reason ?? this.statusCode}): ${this.message}`;
  }

  /**
   * The user's mistake this error is, as a ConfigurationError that says what to fix: a resource or namespace
   * that does not exist (404), credentials the cluster refuses (401), a permission the identity lacks (403).
   * Undefined for any other status. The boundaries (runAction, the CLI) print it instead of an internal error.
   */
  userError(): ConfigurationError | undefined {
    const text = explainUserError(this);
    if (text === undefined) return undefined;
    return new ConfigurationError(text.message, { title: text.title, cause: this });
  }
}

const KINDS: Record<string, string> = {
  deployments: 'Deployment',
  replicasets: 'ReplicaSet',
  jobs: 'Job',
  pods: 'Pod',
  events: 'Event',
  namespaces: 'Namespace',
  services: 'Service',
  secrets: 'Secret',
  configmaps: 'ConfigMap',
};

interface ParsedPath {
  group: string;
  namespace: string | undefined;
  resource: string;
  name: string | undefined;
  subresource: string | undefined;
}

/** `/apis/apps/v1/namespaces/ns/deployments/web/scale` → its parts. */
export function parseApiPath(path: string): ParsedPath | undefined {
  const pathname = path.split('?')[0] ?? '';
  const namespaceItself = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(pathname);
  if (namespaceItself) {
    return {
      group: '',
      namespace: undefined,
      resource: 'namespaces',
      name: decodeURIComponent(namespaceItself[1] as string),
      subresource: undefined,
    };
  }
  const match =
    /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(
      pathname,
    );
  if (!match) return undefined;
  const decode = (part: string | undefined): string | undefined =>
    part === undefined ? undefined : decodeURIComponent(part);
  return {
    group: match[1] ?? '',
    namespace: decode(match[2]),
    resource: match[3] as string,
    name: decode(match[4]),
    subresource: match[5],
  };
}

/** The RBAC verb a request needs (kubectl auth can-i's vocabulary). */
function rbacVerb(request: FailedRequest, parsed: ParsedPath | undefined): string {
  const watch = request.query?.watch === true || request.query?.watch === 'true';
  switch (request.method.toUpperCase()) {
    case 'GET':
      return watch ? 'watch' : parsed?.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return parsed?.name === undefined ? 'deletecollection' : 'delete';
    default:
      return request.method.toLowerCase();
  }
}

function capped(text: string, limit = 300): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > limit ? `${one.slice(0, limit - 1)}…` : one;
}

function explainUserError(error: KubeApiError): { title: string; message: string } | undefined {
  const code = error.statusCode;
  if (code !== 401 && code !== 403 && code !== 404) return undefined;
  const where = error.where;
  const cluster = where
    ? `${where.cluster}${where.context && !where.cluster.includes(`context ${where.context}`) ? `, context ${where.context}` : ''}`
    : 'the cluster';
  const parsed = error.request ? parseApiPath(error.request.path) : undefined;
  const server = capped(error.message);

  if (code === 401) {
    return {
      title: 'Kubernetes credentials refused',
      message:
        `${cluster} refused ${where?.credential ?? 'the credentials'} (401 Unauthorized: ${server}). ` +
        `${where?.credentialAdvice ?? 'Check that the credentials are current and belong to this cluster.'}`,
    };
  }
  if (code === 403) {
    const verb = error.request ? rbacVerb(error.request, parsed) : 'use';
    const resource = parsed
      ? `${parsed.resource}${parsed.subresource ? `/${parsed.subresource}` : ''}`
      : 'this resource';
    const group = parsed?.group ? `"${parsed.group}"` : 'the core group ("")';
    const scope = parsed?.namespace ? ` in namespace "${parsed.namespace}"` : '';
    return {
      title: 'Kubernetes permission missing',
      message:
        `The deploy identity may not ${verb} ${resource}${scope} on ${cluster} (403 Forbidden: ${server}). ` +
        `Grant it the verb "${verb}" on "${resource}" in API group ${group}${scope ? ' in that namespace' : ''}: ` +
        'examples/k8s/rbac.yaml has the Role and RoleBinding the actions need.',
    };
  }
  const details = (error.status?.details ?? {}) as { kind?: unknown; name?: unknown };
  if (details.kind === 'namespaces' || parsed?.resource === 'namespaces') {
    const name = typeof details.name === 'string' ? details.name : (parsed?.namespace ?? parsed?.name ?? '');
    return {
      title: 'Namespace not found',
      message: `Namespace "${name}" does not exist on ${cluster}. Check the namespace (input or flag "namespace") and the cluster or context.`,
    };
  }
  const kind = parsed ? (KINDS[parsed.resource] ?? parsed.resource) : 'The resource';
  const name = parsed?.name ?? (typeof details.name === 'string' ? details.name : undefined);
  const inNamespace = parsed?.namespace ? ` in namespace "${parsed.namespace}"` : '';
  return {
    title: `${kind} not found`,
    message:
      `${kind}${name !== undefined ? ` "${name}"` : ''} was not found${inNamespace} on ${cluster} (404: ${server}). ` +
      `Check the ${kind === 'The resource' ? 'name' : `${kind}'s name`}, the namespace and the cluster or context` +
      (parsed?.namespace && parsed.resource !== 'namespaces'
        ? ` (kubectl get ${parsed.resource} -n ${parsed.namespace}${where?.context ? ` --context ${where.context}` : ''} lists what is there).`
        : '.'),
  };
}

/** Parses a Retry-After header (seconds or an HTTP date) into ms. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Builds a KubeApiError from a response status, headers and body text. */
export function apiErrorFromResponse(
  statusCode: number,
  bodyText: string,
  retryAfter?: string,
): KubeApiError {
  let status: KubeStatus | undefined;
  try {
    const parsed = JSON.parse(bodyText) as unknown;
    if (parsed !== null && typeof parsed === 'object') status = parsed;
  } catch {
    // Not JSON (a proxy or load balancer page): keep the text.
  }
  // The server's (or a proxy's) words: quoted, as they reach the log and annotations.
  const message = quoteUntrusted(
    typeof status?.message === 'string'
      ? status.message
      : bodyText.trim().slice(0, 300) || `HTTP ${statusCode}`,
    500,
  );
  return new KubeApiError(statusCode, message, {
    reason: status?.reason ?? reasonForCode(statusCode),
    retryAfterMs: parseRetryAfter(retryAfter),
    status,
  });
}

function reasonForCode(code: number): string | undefined {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    409: 'Conflict',
    410: 'Expired',
    415: 'UnsupportedMediaType',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code];
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'REQUEST_TIMEOUT',
]);

/**
 * Errors worth retrying: 5xx, 429, connection resets and timeouts. Never 4xx verdicts like 404 or 422.
 * Network errors are recognised by shape, not `instanceof Error`: they come from Node's own realm, which is
 * not the caller's under a VM sandbox such as Jest's.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof KubeApiError) return error.statusCode >= 500 || error.statusCode === 429;
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  if (name === 'TimeoutError') return true;
  return message === 'socket hang up' || message === 'aborted';
}

/**
 * A transient failure in one phrase for a retry line, naming the fault: `HTTP 503 ServiceUnavailable (…)`,
 * `HTTP 429 TooManyRequests, Retry-After 1s (…)`, `connection reset (ECONNRESET)`.
 */
export function describeTransient(error: unknown): string {
  if (error instanceof KubeApiError) {
    const after =
      error.retryAfterMs !== undefined ? `, Retry-After ${Math.round(error.retryAfterMs / 100) / 10}s` : '';
    return `HTTP ${error.statusCode}${error.reason ? ` ${error.reason}` : ''}${after} (${error.message})`;
  }
  if (typeof error !== 'object' || error === null) return typeof error === 'string' ? error : 'unknown error';
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || text === 'socket hang up' || text === 'aborted')
    return `connection reset (${typeof code === 'string' ? code : text})`;
  if (typeof code === 'string') return `${code}${text ? ` (${text})` : ''}`;
  if (name === 'TimeoutError') return `timeout (${text})`;
  return text || 'unknown error';
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 404;
}

export function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 410;
}
