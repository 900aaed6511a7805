/**
 * Fault injection for the sandbox's Kubernetes API: 5xx, 429 with Retry-After, latency, connection
 * resets, watch streams cut every N seconds and forced 410s. Faults are decided before a request is
 * handled, so a faulted write is never applied: stored state stays what a fault-free run makes it.
 */

export interface FaultOptions {
  /** Share (0–1) of API requests answered with a 5xx Status. */
  errorRate?: number;
  /** Codes to pick from for errorRate. Default [500, 503]. */
  errorCodes?: number[];
  /** When set, 5xx answers carry `Retry-After: <n>` (client-go then retries them itself). */
  errorRetryAfterSeconds?: number;
  /** Share (0–1) of API requests answered 429 TooManyRequests. */
  throttleRate?: number;
  /** Retry-After of 429 answers, seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Added latency before each API request is handled: a fixed ms, or [min, max]. */
  latencyMs?: number | [number, number];
  /** Share (0–1) of API requests whose connection is destroyed without an answer. */
  resetRate?: number;
  /** Every watch stream is closed (cleanly) this many seconds after it starts. */
  watchCutSeconds?: number;
  /** The next N watch requests get an ERROR event with a 410 Expired Status. */
  expireNextWatches?: number;
  /**
   * Requests that match `verbs`/`resources` are refused 403 Forbidden, as RBAC refuses an identity that
   * lacks the permission (the request is not applied). Set `verbs` or `resources`: alone it forbids all.
   */
  forbid?: boolean;
  /** Only requests with these verbs are faulted (get, list, watch, create, update, patch, delete). Default all. */
  verbs?: string[];
  /** Only requests for these resources are faulted (e.g. ["deployments"]). Default all. */
  resources?: string[];
  /** Only requests for objects with these names are faulted (e.g. one Deployment of several). Default all. */
  names?: string[];
  /** Seed for a repeatable sequence of decisions. Default: random. */
  seed?: number;
}

export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'error'; code: number; retryAfterSeconds?: number }
  | { kind: 'throttle'; retryAfterSeconds: number }
  | { kind: 'forbidden' }
  | { kind: 'reset' };

export interface FaultStats {
  requests: number;
  errors: number;
  throttled: number;
  resets: number;
  watchesCut: number;
  watchesExpired: number;
}

/** mulberry32: tiny, seedable, good enough to spread faults. The sequence `new Faults({ seed })` draws from. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clampRate = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;

export class Faults {
  private opts: FaultOptions = {};
  private random: () => number = Math.random;
  private expireLeft = 0;
  readonly stats: FaultStats = {
    requests: 0,
    errors: 0,
    throttled: 0,
    resets: 0,
    watchesCut: 0,
    watchesExpired: 0,
  };

  constructor(options: FaultOptions = {}) {
    this.set(options);
  }

  /** Replaces the whole configuration. */
  set(options: FaultOptions): void {
    validateFaultOptions(options);
    this.opts = { ...options };
    this.expireLeft = options.expireNextWatches ?? 0;
    this.random = options.seed !== undefined ? seededRandom(options.seed) : Math.random;
  }

  /** Changes only the given settings. */
  update(partial: FaultOptions): void {
    validateFaultOptions(partial);
    this.opts = { ...this.opts, ...partial };
    if (partial.expireNextWatches !== undefined) this.expireLeft = partial.expireNextWatches;
    if (partial.seed !== undefined) this.random = seededRandom(partial.seed);
  }

  clear(): void {
    this.set({});
  }

  current(): FaultOptions {
    return { ...this.opts, expireNextWatches: this.expireLeft };
  }

  /** Added latency for the next request, ms. */
  latency(): number {
    const l = this.opts.latencyMs;
    if (l === undefined) return 0;
    if (typeof l === 'number') return Math.max(0, l);
    const [min, max] = l;
    return Math.max(0, min + this.random() * (max - min));
  }

  /** What happens to an API request with this verb and resource. */
  decide(verb: string, resource: string | undefined, name?: string): FaultDecision {
    this.stats.requests++;
    if (!this.applies(verb, resource, name)) return { kind: 'none' };
    const o = this.opts;
    if (o.forbid === true) return { kind: 'forbidden' };
    if (clampRate(o.resetRate) > 0 && this.random() < clampRate(o.resetRate)) {
      this.stats.resets++;
      return { kind: 'reset' };
    }
    if (clampRate(o.throttleRate) > 0 && this.random() < clampRate(o.throttleRate)) {
      this.stats.throttled++;
      return { kind: 'throttle', retryAfterSeconds: o.retryAfterSeconds ?? 1 };
    }
    if (clampRate(o.errorRate) > 0 && this.random() < clampRate(o.errorRate)) {
      const codes = o.errorCodes && o.errorCodes.length > 0 ? o.errorCodes : [500, 503];
      const code = codes[Math.floor(this.random() * codes.length)] ?? 500;
      this.stats.errors++;
      return o.errorRetryAfterSeconds !== undefined
        ? { kind: 'error', code, retryAfterSeconds: o.errorRetryAfterSeconds }
        : { kind: 'error', code };
    }
    return { kind: 'none' };
  }

  /** Consumes one forced 410 for a watch request, if any are left. */
  takeExpiredWatch(resource: string | undefined): boolean {
    if (this.expireLeft <= 0 || !this.applies('watch', resource)) return false;
    this.expireLeft--;
    this.stats.watchesExpired++;
    return true;
  }

  /** Seconds after which a watch stream is cut, if configured. */
  watchCutSeconds(): number | undefined {
    const s = this.opts.watchCutSeconds;
    return typeof s === 'number' && s > 0 ? s : undefined;
  }

  noteWatchCut(): void {
    this.stats.watchesCut++;
  }

  private applies(verb: string, resource: string | undefined, name?: string): boolean {
    const { verbs, resources, names } = this.opts;
    if (names && names.length > 0 && (name === undefined || !names.includes(name))) return false;
    if (verbs && verbs.length > 0 && !verbs.includes(verb)) return false;
    if (resources && resources.length > 0 && (!resource || !resources.includes(resource))) return false;
    return true;
  }
}

/** Throws a readable error for settings that are not what the admin endpoint accepts. */
export function validateFaultOptions(o: unknown): asserts o is FaultOptions {
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    throw new Error('fault options must be a JSON object');
  const known = new Set([
    'errorRate',
    'errorCodes',
    'errorRetryAfterSeconds',
    'throttleRate',
    'retryAfterSeconds',
    'latencyMs',
    'resetRate',
    'watchCutSeconds',
    'expireNextWatches',
    'verbs',
    'resources',
    'seed',
    'forbid',
    'names',
  ]);
  for (const [k, v] of Object.entries(o)) {
    if (!known.has(k)) throw new Error(`unknown fault option "${k}"; known: ${[...known].join(', ')}`);
    if (v === undefined) continue;
    if (['errorRate', 'throttleRate', 'resetRate'].includes(k) && (typeof v !== 'number' || v < 0 || v > 1)) {
      throw new Error(`${k} must be a number between 0 and 1, got ${JSON.stringify(v)}`);
    }
    if (
      [
        'errorRetryAfterSeconds',
        'retryAfterSeconds',
        'watchCutSeconds',
        'expireNextWatches',
        'seed',
      ].includes(k) &&
      (typeof v !== 'number' || v < 0)
    ) {
      throw new Error(`${k} must be a non-negative number, got ${JSON.stringify(v)}`);
    }
    if (
      k === 'latencyMs' &&
      !(
        typeof v === 'number' ||
        (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'))
      )
    ) {
      throw new Error(`latencyMs must be a number or [min, max], got ${JSON.stringify(v)}`);
    }
    if (
      k === 'errorCodes' &&
      !(Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 500 && x <= 599))
    ) {
      throw new Error(`errorCodes must be a list of 5xx codes, got ${JSON.stringify(v)}`);
    }
    if (
      (k === 'verbs' || k === 'resources' || k === 'names') &&
      !(Array.isArray(v) && v.every((x) => typeof x === 'string'))
    ) {
      throw new Error(`${k} must be a list of strings, got ${JSON.stringify(v)}`);
    }
    if (k === 'forbid' && typeof v !== 'boolean') {
      throw new Error(`forbid must be true or false, got ${JSON.stringify(v)}`);
    }
  }
}
