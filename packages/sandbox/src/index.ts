/**
 * @planner-deploy/sandbox: a local stand-in for the cloud. `startSandbox()` runs the Kubernetes API
 * (store, controllers, HTTP(S) server, faults) and the apps' health endpoints in-process.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsServer, type ImageConfigReader } from './kube/apps.js';
import { Clock } from './kube/clock.js';
import {
  ImageCatalog,
  startControllers,
  type FargateOptions,
  type FargateScheduler,
  type ImageBehaviour,
} from './kube/controllers/index.js';
import { Faults, type FaultOptions } from './kube/faults.js';
import { kubeconfigYaml } from './kube/kubeconfig.js';
import { PodLogs } from './kube/logs.js';
import { KubeApiServer, type Authenticator, type KubeRequestRecord } from './kube/server.js';
import { ObjectStore } from './kube/store.js';
import { tlsMaterial } from './kube/tls.js';

export { ObjectStore, StoreError, canonicalJson, rfc3339 } from './kube/store.js';
export type { Change, ChangeType, KubeObject, ObjectMeta, OwnerReference, Resource } from './kube/store.js';
export { PodLogs } from './kube/logs.js';
export { Faults } from './kube/faults.js';
export type { FaultOptions, FaultStats } from './kube/faults.js';
export { Clock } from './kube/clock.js';
export { ImageCatalog } from './kube/controllers/index.js';
export type { ImageBehaviour } from './kube/controllers/index.js';
export {
  FargateScheduler,
  profileFor,
  FARGATE_SCHEDULER,
  FARGATE_PROFILE_ANNOTATION,
  COMPUTE_TYPE_LABEL,
  CAPACITY_ANNOTATION,
  LOGGING_NAMESPACE,
  LOGGING_CONFIGMAP,
  DEFAULT_PROVISIONING_MS,
} from './kube/controllers/index.js';
export type { FargateOptions, FargateProfileSpec, FargateSelector } from './kube/controllers/index.js';
export { KubeApiServer, MUTATING_VERBS } from './kube/server.js';
export type { KubeRequestRecord } from './kube/server.js';
export type { Authenticator } from './kube/server.js';
export { APP_VERSION_ENV, deploymentHealth, imageVersion } from './kube/apps.js';
export type { ImageConfigReader } from './kube/apps.js';
export { kubeconfigYaml } from './kube/kubeconfig.js';

export interface SandboxOptions {
  /** Serve the Kubernetes API over HTTPS with a generated CA (default true); false = plain HTTP. */
  https?: boolean;
  /** Bearer token the API accepts (default: random). */
  token?: string;
  /** Accepts other bearer tokens, e.g. EKS `k8s-aws-v1.` tokens. */
  authenticate?: Authenticator;
  /** Real ms per simulated ms: 0.01 runs the controllers 100× faster (default 1). */
  timeScale?: number;
  /** Faults active from the start (change them later through `sandbox.faults` or POST /_sandbox/faults). */
  faults?: FaultOptions;
  /** What images do when run (see ImageBehaviour); more can be set later on `sandbox.images`. */
  images?: Record<string, ImageBehaviour>;
  /** Run the controllers (default true). Without them the API is a plain object store. */
  controllers?: boolean;
  /** API port (default: random). */
  port?: number;
  /** Apps health port (default: random). */
  appsPort?: number;
  /** Where to write the kubeconfig (default: a new temp dir, removed by stop()). */
  kubeconfigDir?: string;
  /** Namespace of the kubeconfig's context (default "default"). */
  namespace?: string;
  /** How often bookmark-enabled watches get a BOOKMARK (default 1000 ms). */
  bookmarkIntervalMs?: number;
  /** Run the cluster as EKS on Fargate with these profiles (default: one plain node, sandbox-node). */
  fargate?: FargateOptions;
  /**
   * Reads an image's config from the registry, so the apps' endpoints report the version the running image
   * carries (APP_VERSION). startCloud() passes its ECR's; without it, the version is the image's tag.
   */
  imageConfig?: ImageConfigReader;
}

export interface Sandbox {
  /** Kubernetes API base URL, e.g. https://127.0.0.1:41234. */
  url: string;
  /** Base URL of the apps' health endpoints: `${appsUrl}/_sandbox/apps/<namespace>/<deployment>/health`. */
  appsUrl: string;
  /** PEM of the CA that signed the API's certificate ('' with https:false). */
  caPem: string;
  token: string;
  kubeconfigPath: string;
  kubeconfigYaml: string;
  store: ObjectStore;
  logs: PodLogs;
  images: ImageCatalog;
  faults: Faults;
  /** Every Kubernetes resource request received, in arrival order (see KubeRequestRecord). */
  requests: KubeRequestRecord[];
  clock: Clock;
  /**
   * EKS on Fargate (see controllers/fargate.ts): `enable({ profiles })` makes pods created from then on
   * run on fargate nodes; absent without controllers.
   */
  fargate?: FargateScheduler;
  /** `${appsUrl}/_sandbox/apps/<namespace>/<deployment><path>`. */
  appUrl(namespace: string, deployment: string, path?: string): string;
  stop(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const useHttps = options.https ?? true;
  const token = options.token ?? randomBytes(24).toString('base64url');
  const clock = new Clock({ timeScale: options.timeScale ?? 1 });
  const now = (): Date => clock.now();
  const store = new ObjectStore({ now });
  const logs = new PodLogs({ now });
  const images = new ImageCatalog(options.images);
  const faults = new Faults(options.faults ?? {});
  const tls = useHttps ? await tlsMaterial() : undefined;

  // Logs of a deleted pod go with it.
  store.on(
    (c) => {
      if (c.resource === 'pods' && c.type === 'DELETED')
        logs.removePod(c.object.metadata.namespace ?? 'default', c.object.metadata.name);
    },
    { readOnly: true },
  );
  const controllers =
    options.controllers === false ? undefined : startControllers({ store, logs, clock, images });
  if (options.fargate) controllers?.fargate.enable(options.fargate);

  const api = new KubeApiServer({
    store,
    logs,
    token,
    faults,
    now,
    ...(tls ? { tls } : {}),
    ...(options.authenticate ? { authenticate: options.authenticate } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.bookmarkIntervalMs !== undefined ? { bookmarkIntervalMs: options.bookmarkIntervalMs } : {}),
  });
  const apps = new AppsServer(store, options.imageConfig);
  const url = await api.start();
  const appsUrl = await apps.start('127.0.0.1', options.appsPort ?? 0);

  const ownDir = options.kubeconfigDir === undefined;
  const dir = options.kubeconfigDir ?? (await mkdtemp(join(tmpdir(), 'planner-sandbox-')));
  const yaml = kubeconfigYaml({
    server: url,
    token,
    ...(tls ? { caPem: tls.caPem } : {}),
    ...(options.namespace ? { namespace: options.namespace } : {}),
  });
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, yaml, { mode: 0o600 });

  let stopped = false;
  return {
    url,
    appsUrl,
    caPem: tls?.caPem ?? '',
    token,
    kubeconfigPath,
    kubeconfigYaml: yaml,
    store,
    logs,
    images,
    faults,
    requests: api.requests,
    clock,
    ...(controllers ? { fargate: controllers.fargate } : {}),
    appUrl: (namespace, deployment, path) => apps.appUrl(namespace, deployment, path),
    async stop() {
      if (stopped) return;
      stopped = true;
      controllers?.stop();
      await Promise.all([api.stop(), apps.stop()]);
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
export * from './fixtures.js';
export * from './aws/index.js';
export * from './registry.js';
export { ensureBusyboxBase, PLANNER_BASE_IMAGE } from './docker-base.js';
export * from './github/server.js';
export * from './cloud.js';
export * from './hostile.js';
