/**
 * The apps' own HTTP endpoints, one per Deployment, on a separate plain-HTTP port:
 * `GET /_sandbox/apps/<namespace>/<deployment>/<any path>` answers 200 only while the Deployment's rollout
 * is complete (kubectl's done rules, kubernetes-api.md §1) and its pods are ready; 503 otherwise.
 *
 * The body follows the Planner app's health contract (docs/health-contract.md): `status` and `version`,
 * where `version` is what the running image says — APP_VERSION of the container's env, else of the image's
 * config as the registry holds it (the Dockerfile bakes the commit in: build-arg GIT_SHA → ENV
 * APP_VERSION). Only an image the sandbox's registry does not hold (or without APP_VERSION) reports its
 * tag (or digest), as before.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { sendJson } from './http-util.js';
import type { KubeObject, ObjectStore } from './store.js';

/** The environment variable the Planner app reports as its `version` (docs/health-contract.md). */
export const APP_VERSION_ENV = 'APP_VERSION';

/** The config of an image as the registry holds it (Env, Labels); undefined when it is not there. */
export type ImageConfigReader = (
  image: string,
) => Promise<{ env: Record<string, string>; labels: Record<string, string> } | undefined>;

export interface AppHealth {
  healthy: boolean;
  reason: string;
  image?: string;
  version?: string;
}

/** `repo/app:1.2.3` → `1.2.3`; `repo/app@sha256:…` → `sha256:…`; untagged → `latest`. */
export function imageVersion(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return colon >= 0 ? image.slice(colon + 1) : 'latest';
}

/** Whether the rollout is done the way `kubectl rollout status` decides it, and pods serve. */
export function deploymentHealth(d: KubeObject | undefined): AppHealth {
  if (!d) return { healthy: false, reason: 'deployment not found' };
  const image = (d.spec?.template?.spec?.containers?.[0]?.image as string | undefined) ?? '';
  const base = { image, version: imageVersion(image) };
  const spec = d.spec ?? {};
  const st = d.status ?? {};
  const replicas: number = spec.replicas ?? 1;
  const generation = d.metadata.generation ?? 0;
  if (generation > (st.observedGeneration ?? 0))
    return { ...base, healthy: false, reason: 'waiting for deployment spec update to be observed' };
  const progressing = ((st.conditions ?? []) as any[]).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return { ...base, healthy: false, reason: 'deployment exceeded its progress deadline' };
  const updated: number = st.updatedReplicas ?? 0;
  const total: number = st.replicas ?? 0;
  const available: number = st.availableReplicas ?? 0;
  const ready: number = st.readyReplicas ?? 0;
  if (updated < replicas)
    return {
      ...base,
      healthy: false,
      reason: `${updated} out of ${replicas} new replicas have been updated`,
    };
  if (total > updated)
    return { ...base, healthy: false, reason: `${total - updated} old replicas are pending termination` };
  if (available < updated)
    return { ...base, healthy: false, reason: `${available} of ${updated} updated replicas are available` };
  if (replicas === 0 || ready < replicas)
    return { ...base, healthy: false, reason: `${ready} of ${replicas} pods are ready` };
  return { ...base, healthy: true, reason: 'rollout complete' };
}

export class AppsServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private baseUrl = '';
  /**
   * Versions read from image configs. A digest names one image for good; a tag is resolved again when the
   * Deployment's pod template changes (a rollout or a restart pulls again), as the kubelet would.
   */
  private readonly versions = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly readImageConfig?: ImageConfigReader,
  ) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { status: 'error', reason: String(error) });
        else res.destroy();
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get url(): string {
    return this.baseUrl;
  }

  /** The URL of one app's endpoint, e.g. `appUrl('prod', 'web', '/health')`. */
  appUrl(namespace: string, deployment: string, path = '/health'): string {
    return `${this.baseUrl}/_sandbox/apps/${encodeURIComponent(namespace)}/${encodeURIComponent(deployment)}${path.startsWith('/') ? path : `/${path}`}`;
  }

  async start(host = '127.0.0.1', port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.baseUrl = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** What the Deployment's running image reports as its version (see the file comment). */
  private async runningVersion(
    d: KubeObject | undefined,
    fallback: string | undefined,
  ): Promise<string | undefined> {
    const container = d?.spec?.template?.spec?.containers?.[0] as
      { image?: string; env?: { name?: string; value?: unknown }[] } | undefined;
    const own = container?.env?.find((e) => e.name === APP_VERSION_ENV);
    if (typeof own?.value === 'string') return own.value;
    const image = container?.image;
    if (!image || !this.readImageConfig) return fallback;
    const key = image.includes('@')
      ? image
      : `${d?.metadata.uid ?? ''}|${image}|${JSON.stringify(d?.spec?.template?.metadata?.annotations ?? {})}`;
    let pending = this.versions.get(key);
    if (pending === undefined) {
      const read = this.readImageConfig;
      pending = read(image).then((config) => config?.env[APP_VERSION_ENV]);
      this.versions.set(key, pending);
      // A registry that did not answer is asked again next time.
      pending.catch(() => this.versions.delete(key));
    }
    try {
      return (await pending) ?? fallback;
    } catch {
      return fallback;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://apps');
    const m = /^\/_sandbox\/apps\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) {
      sendJson(res, 404, {
        status: 'not found',
        reason: 'use /_sandbox/apps/<namespace>/<deployment>/<path>',
      });
      return;
    }
    const namespace = decodeURIComponent(m[1]!);
    const name = decodeURIComponent(m[2]!);
    const d = this.store.get('deployments', namespace, name);
    const h = deploymentHealth(d);
    const version = await this.runningVersion(d, h.version);
    const body = {
      status: h.healthy ? 'ok' : 'unavailable',
      ...(version !== undefined ? { version } : {}),
      ...(h.image !== undefined ? { image: h.image } : {}),
      namespace,
      deployment: name,
      ...(d?.metadata.annotations?.['deployment.kubernetes.io/revision']
        ? { revision: d.metadata.annotations['deployment.kubernetes.io/revision'] }
        : {}),
      ...(h.healthy ? {} : { reason: h.reason }),
    };
    if (req.method === 'HEAD') {
      res.writeHead(h.healthy ? 200 : 503);
      res.end();
      return;
    }
    sendJson(res, h.healthy ? 200 : 503, body);
  }
}
