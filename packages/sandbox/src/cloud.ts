/**
 * The whole local cloud in one call: the Kubernetes API (accepting EKS tokens), ECR/RDS/EKS/STS, the
 * GitHub releases API, and `seedPlanner()`, which puts the Planner app where the pipeline guide expects it
 * (ECR repository `planner-app`, Deployment `planner-app` in `planner-<env>`, one RDS instance per
 * environment). Used by the demo, the CLI's tests and `pnpm sandbox`.
 */
import { startAwsSandbox, type AwsSandbox, type AwsSandboxOptions } from './aws/index.js';
import { startGitHubApi, type GitHubApi, type GitHubApiOptions } from './github/server.js';
import { createDeployment, type DeploymentFixture } from './fixtures.js';
import type { RegistryInfo } from './registry.js';
import { startSandbox, type Sandbox, type SandboxOptions } from './index.js';
import type { FargateOptions, FargateProfileSpec } from './kube/controllers/fargate.js';

export const PLANNER_CLUSTER = 'planner-production-cluster';
export const PLANNER_REPOSITORY = 'planner-app';
export const PLANNER_DEPLOYMENT = 'planner-app';
/** The label the Planner pods carry besides the Deployment's selector; production's profile selects on it. */
export const PLANNER_PART_OF = { 'app.kubernetes.io/part-of': 'planner' };

/**
 * The Planner cluster's Fargate profiles, as the pipeline guide's cluster has them: CoreDNS in kube-system,
 * one profile per environment; staging selects its whole namespace, production only the Planner's pods.
 */
export function plannerFargateProfiles(environments: string[]): FargateProfileSpec[] {
  return [
    { name: 'coredns', selectors: [{ namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }] },
    ...environments.map((env) => ({
      name: `planner-${env}`,
      selectors: [
        env === 'production'
          ? { namespace: `planner-${env}`, labels: { ...PLANNER_PART_OF } }
          : { namespace: `planner-${env}` },
      ],
    })),
  ];
}

export interface CloudOptions {
  /** Real ms per simulated ms for both the controllers and RDS (default 1). */
  timeScale?: number;
  /** `auto` starts docker-registry when installed (default); `none` keeps ECR's images in memory. */
  registry?: RegistryInfo | 'auto' | 'none';
  /** The GitHub releases API; false leaves it out (default: started). */
  github?: GitHubApiOptions | false;
  kube?: Omit<SandboxOptions, 'authenticate' | 'timeScale'>;
  aws?: Omit<AwsSandboxOptions, 'kube' | 'timeScale' | 'registry'>;
  /** The EKS cluster that DescribeCluster answers for (default planner-production-cluster). */
  clusterName?: string;
  /** EKS on Fargate from the start (seedPlanner turns it on with the Planner's profiles by itself). */
  fargate?: FargateOptions;
}

export interface Cloud {
  kube: Sandbox;
  aws: AwsSandbox;
  github?: GitHubApi;
  clusterName: string;
  /**
   * What a client process needs: KUBECONFIG, the AWS endpoints and credentials, EKS_CLUSTER_NAME,
   * GITHUB_API_URL, and SANDBOX_APPS_URL.
   */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

export async function startCloud(options: CloudOptions = {}): Promise<Cloud> {
  const clusterName = options.clusterName ?? PLANNER_CLUSTER;
  const ts = options.timeScale !== undefined ? { timeScale: options.timeScale } : {};
  const registry = options.registry ?? 'auto';
  const aws = await startAwsSandbox({
    ...options.aws,
    ...ts,
    ...(registry === 'none' ? {} : { registry }),
  });
  let kube: Sandbox | undefined;
  let github: GitHubApi | undefined;
  try {
    kube = await startSandbox({
      imageConfig: (image) => aws.ecr.imageConfig(image),
      ...options.kube,
      ...ts,
      ...(options.fargate ? { fargate: { region: aws.region, ...options.fargate } } : {}),
      authenticate: aws.authenticator(),
    });
    const fargate = kube.fargate;
    aws.setKube({
      endpoint: kube.url,
      caData: Buffer.from(kube.caPem).toString('base64'),
      clusterName,
      fargateProfiles: () => (fargate?.enabled ? fargate.profiles() : []),
    });
    if (options.github !== false) github = await startGitHubApi(options.github ?? {});
  } catch (e) {
    await Promise.allSettled([aws.stop(), kube?.stop()]);
    throw e;
  }
  const k = kube;
  return {
    kube: k,
    aws,
    ...(github ? { github } : {}),
    clusterName,
    env: () => ({
      ...aws.env(),
      KUBECONFIG: k.kubeconfigPath,
      EKS_CLUSTER_NAME: clusterName,
      SANDBOX_APPS_URL: k.appsUrl,
      ...(github ? { GITHUB_API_URL: github.url } : {}),
    }),
    async stop() {
      await Promise.allSettled([k.stop(), aws.stop(), github?.stop()]);
    },
  };
}

export interface PlannerSeed {
  /** `<registry host>/planner-app`. */
  repositoryUri: string;
  /** `<repositoryUri>:<tag>`. */
  image(tag: string): string;
  /** Namespace of an environment: planner-<env>. */
  namespace(env: string): string;
  /** RDS instance of an environment: planner-<env>-db. */
  dbInstance(env: string): string;
  /**
   * Health URL of an environment's app (the sandbox's apps endpoint; `version` = APP_VERSION of the running
   * image's config in ECR: the seeded tag for seeded images, the baked-in commit for built ones).
   */
  appUrl(env: string, path?: string): string;
}

export interface SeedOptions {
  environments?: string[];
  /** Tag of the image running now and present in ECR (default v1.0.0). */
  tag?: string;
  /** More tags put into ECR (not deployed). */
  moreTags?: string[];
  replicas?: number;
  /** Extra Deployment fields (env, progressDeadlineSeconds …). */
  deployment?: Partial<DeploymentFixture>;
  /**
   * Run the cluster as EKS on Fargate with `plannerFargateProfiles(environments)` (default true; when the
   * cloud already runs Fargate, the environments' profiles are added to its own). false leaves it as it is.
   */
  fargate?: boolean;
}

/** Puts the Planner app into a started cloud: ECR images, Deployments, RDS instances. */
export async function seedPlanner(cloud: Cloud, options: SeedOptions = {}): Promise<PlannerSeed> {
  const environments = options.environments ?? ['staging', 'production'];
  const tag = options.tag ?? 'v1.0.0';
  const ecr = cloud.aws.ecr;
  for (const t of [tag, ...(options.moreTags ?? [])]) await ecr.addImage(PLANNER_REPOSITORY, t);
  const repositoryUri = `${ecr.registryHost}/${PLANNER_REPOSITORY}`;
  const seed: PlannerSeed = {
    repositoryUri,
    image: (t) => `${repositoryUri}:${t}`,
    namespace: (env) => `planner-${env}`,
    dbInstance: (env) => `planner-${env}-db`,
    appUrl: (env, path = '/health') => cloud.kube.appUrl(`planner-${env}`, PLANNER_DEPLOYMENT, path),
  };
  const fargate = cloud.kube.fargate;
  if (options.fargate !== false && fargate) {
    const profiles = plannerFargateProfiles(environments);
    if (fargate.enabled) for (const p of profiles) fargate.addProfile(p);
    else fargate.enable({ profiles, region: cloud.aws.region });
  }
  for (const env of environments) {
    if (!cloud.kube.store.get('namespaces', undefined, seed.namespace(env)))
      cloud.kube.store.create('namespaces', {
        metadata: { name: seed.namespace(env), labels: { 'app.kubernetes.io/part-of': 'planner' } },
      });
    createDeployment(cloud.kube, {
      name: PLANNER_DEPLOYMENT,
      namespace: seed.namespace(env),
      image: seed.image(tag),
      replicas: options.replicas ?? 2,
      container: 'planner-app',
      env: [{ name: 'ENVIRONMENT', value: env }],
      envFrom: [{ secretRef: { name: 'planner-secrets' } }],
      podLabels: { ...PLANNER_PART_OF },
      ...options.deployment,
    });
    cloud.aws.rds.addInstance({ id: seed.dbInstance(env), engine: 'postgres', engineVersion: '16.4' });
  }
  return seed;
}
