import { randomBytes } from 'node:crypto';
import {
  MemoryImageStore,
  RegistryImageStore,
  manifestMediaType,
  readImageConfig,
  type EcrImage,
  type ImageConfigSpec,
  type ImageRuntimeConfig,
  type ImageStore,
} from './ecr-images.js';
import { batchGetImage, describeImages, putImage } from './ecr-image-actions.js';
import { spread } from './fault-pattern.js';
import type { RegistryAccess } from './registry-client.js';

/** An ECR error: `type` is the `__type` the SDK maps to an exception class. */
export class EcrError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type TagMutability = 'MUTABLE' | 'IMMUTABLE';

export interface EcrFaults {
  /** Share of ECR API requests (0..1) answered ThrottlingException, spread evenly from the next one. */
  throttle?: number;
  /**
   * How many of the next manifest pushes through the registry front answer 503 (a transient registry
   * error, as `docker push` meets it); counts down.
   */
  failPushes?: number;
}

export interface EcrRepository {
  name: string;
  createdAt: Date;
  imageTagMutability: TagMutability;
  scanOnPush: boolean;
  tags: { Key: string; Value: string }[];
}

/** Where clients reach the registry: the registry itself, or ECR's front in front of it. */
export interface RegistryEndpoint {
  /** http://127.0.0.1:<port> */
  url: string;
  /** 127.0.0.1:<port>, what image names start with. */
  host: string;
}

const REPO_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const TOKEN_LIFETIME_MS = 12 * 3600 * 1000;

/** In-memory ECR: repositories here, images in memory or in the attached registry. */
export class EcrState {
  readonly repositories = new Map<string, EcrRepository>();
  private readonly store: ImageStore;
  /** The password inside every authorization token (the registry's, when one is attached). */
  readonly password: string;
  readonly username: string;

  /** Where `docker login`/`docker push` go when a registry is attached. */
  private readonly endpoint: RegistryEndpoint | undefined;
  private faults: EcrFaults = {};
  private throttleCount = 0;

  constructor(
    readonly region: string,
    readonly accountId: string,
    /** The real registry that holds the images (without one, images live in memory). */
    readonly registry?: RegistryAccess,
    /** What clients are told to use instead of the registry itself (e.g. the ECR front). */
    front?: RegistryEndpoint,
  ) {
    this.endpoint = front ?? (registry ? { url: registry.url, host: new URL(registry.url).host } : undefined);
    this.store = registry ? new RegistryImageStore(registry) : new MemoryImageStore();
    this.username = registry?.username ?? 'AWS';
    this.password = registry?.password ?? randomBytes(24).toString('base64url');
  }

  /** Merges faults in; setting `throttle` restarts its pattern. */
  setFaults(faults: EcrFaults): void {
    this.faults = { ...this.faults, ...faults };
    if (faults.throttle !== undefined) this.throttleCount = 0;
  }

  shouldThrottle(): boolean {
    return spread(this.faults.throttle, this.throttleCount++);
  }

  /** Whether this manifest push fails transiently (and counts it). */
  takePushFailure(): boolean {
    const left = this.faults.failPushes ?? 0;
    if (left <= 0) return false;
    this.faults = { ...this.faults, failPushes: left - 1 };
    return true;
  }

  /** Where `docker login` goes: the local registry, or the real ECR host name. */
  get proxyEndpoint(): string {
    return this.endpoint ? this.endpoint.url : `https://${this.registryHost}`;
  }

  get registryHost(): string {
    return this.endpoint ? this.endpoint.host : `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com`;
  }

  createRepository(
    name: string,
    options: { imageTagMutability?: TagMutability; scanOnPush?: boolean; tags?: EcrRepository['tags'] } = {},
  ): EcrRepository {
    if (name.length < 2 || name.length > 256 || !REPO_NAME.test(name)) {
      throw new EcrError(
        'InvalidParameterException',
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${REPO_NAME.source.slice(1, -1)}''`,
      );
    }
    if (this.repositories.has(name)) {
      throw new EcrError(
        'RepositoryAlreadyExistsException',
        `The repository with name '${name}' already exists in the registry with id '${this.accountId}'`,
      );
    }
    const mutability = options.imageTagMutability ?? 'MUTABLE';
    if (mutability !== 'MUTABLE' && mutability !== 'IMMUTABLE') {
      throw new EcrError(
        'InvalidParameterException',
        `Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE]'`,
      );
    }
    const repo: EcrRepository = {
      name,
      createdAt: new Date(),
      imageTagMutability: mutability,
      scanOnPush: options.scanOnPush ?? false,
      tags: options.tags ?? [],
    };
    this.repositories.set(name, repo);
    return repo;
  }

  repository(name: string, registryId?: string): EcrRepository {
    const repo = this.repositories.get(name);
    if (!repo || (registryId !== undefined && registryId !== this.accountId)) {
      throw new EcrError(
        'RepositoryNotFoundException',
        `The repository with name '${name}' does not exist in the registry with id '${registryId ?? this.accountId}'`,
      );
    }
    return repo;
  }

  repositoryJson(repo: EcrRepository): Record<string, unknown> {
    return {
      repositoryArn: `arn:aws:ecr:${this.region}:${this.accountId}:repository/${repo.name}`,
      registryId: this.accountId,
      repositoryName: repo.name,
      repositoryUri: `${this.registryHost}/${repo.name}`,
      createdAt: repo.createdAt.getTime() / 1000,
      imageTagMutability: repo.imageTagMutability,
      imageScanningConfiguration: { scanOnPush: repo.scanOnPush },
      encryptionConfiguration: { encryptionType: 'AES256' },
    };
  }

  /** Images of a repository as they are now (read from the registry when one is attached). */
  async images(repo: string): Promise<EcrImage[]> {
    this.repository(repo);
    return this.store.list(repo);
  }

  /** Stores a manifest (under a tag, moving it) as is; returns the digest. */
  storeImage(repo: string, manifest: string, mediaType: string, tag?: string): Promise<string> {
    return this.store.put(repo, manifest, mediaType, tag);
  }

  /**
   * Puts an image into a repository (created, mutable, if missing): the given manifest, or a
   * small synthetic image (its blobs uploaded to the registry when one is attached) whose config has
   * `config`'s env and labels — by default `APP_VERSION=<tag>`, what the Planner app built for that tag
   * reports as its version (docs/health-contract.md).
   */
  async addImage(
    repo: string,
    tag: string,
    manifest?: string,
    config: ImageConfigSpec = { env: { APP_VERSION: tag } },
  ): Promise<{ digest: string; manifest: string }> {
    if (!this.repositories.has(repo)) this.createRepository(repo);
    const image =
      manifest !== undefined
        ? { manifest, mediaType: manifestMediaType(manifest) }
        : await this.store.synthesize(repo, `${repo}:${tag}:${Date.now()}`, config);
    const digest = await this.store.put(repo, image.manifest, image.mediaType, tag);
    return { digest, manifest: image.manifest };
  }

  /**
   * The runtime config (Env, Labels) of an image reference in this registry, as a kubelet pulling it would
   * get it: `<registryHost>/<repo>:<tag>`, `…@sha256:…` (the digest wins over a tag). undefined when the
   * reference names another registry, an unknown repository or image, or a manifest without an image config.
   */
  async imageConfig(image: string): Promise<ImageRuntimeConfig | undefined> {
    // The registry's own name (the ECR front on loopback when a registry is attached), or ECR's canonical
    // host name, which a workflow builds from the account and region (deploy-manual.yml does).
    const prefix = [`${this.registryHost}/`, `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com/`].find(
      (host) => image.startsWith(host),
    );
    if (prefix === undefined) return undefined;
    let rest = image.slice(prefix.length);
    let reference: string | undefined;
    const at = rest.indexOf('@');
    if (at >= 0) {
      reference = rest.slice(at + 1);
      rest = rest.slice(0, at);
    }
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      reference ??= rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
    if (!this.repositories.has(rest)) return undefined;
    return readImageConfig(this.store, rest, reference ?? 'latest');
  }

  getAuthorizationToken(): Record<string, unknown> {
    return {
      authorizationData: [
        {
          authorizationToken: Buffer.from(`${this.username}:${this.password}`).toString('base64'),
          expiresAt: (Date.now() + TOKEN_LIFETIME_MS) / 1000,
          proxyEndpoint: this.proxyEndpoint,
        },
      ],
    };
  }

  describeRepositories(input: any): Record<string, unknown> {
    const registryId = optionalString(input, 'registryId');
    const names = input?.repositoryNames as string[] | undefined;
    const repos =
      names !== undefined
        ? names.map((n) => this.repository(n, registryId))
        : registryId !== undefined && registryId !== this.accountId
          ? []
          : [...this.repositories.values()];
    const { items, nextToken } = paginate(repos, input, 1000);
    return {
      repositories: items.map((r) => this.repositoryJson(r)),
      ...(nextToken !== undefined ? { nextToken } : {}),
    };
  }
}

export function requiredString(input: any, name: string): string {
  const value = input?.[name];
  if (typeof value !== 'string' || value === '') {
    throw new EcrError(
      'InvalidParameterException',
      `Invalid parameter at '${name}' failed to satisfy constraint: 'Member must not be null'`,
    );
  }
  return value;
}

export function optionalString(input: any, name: string): string | undefined {
  const value = input?.[name];
  return typeof value === 'string' ? value : undefined;
}

export function paginate<T>(items: T[], input: any, max: number): { items: T[]; nextToken?: string } {
  const maxResults = typeof input?.maxResults === 'number' ? (input.maxResults as number) : max;
  if (maxResults < 1 || maxResults > 1000) {
    throw new EcrError(
      'InvalidParameterException',
      "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000'",
    );
  }
  let start = 0;
  if (typeof input?.nextToken === 'string') {
    const m = /^offset:(\d+)$/.exec(Buffer.from(input.nextToken as string, 'base64url').toString('utf8'));
    if (!m) throw new EcrError('InvalidParameterException', "Invalid parameter at 'nextToken'");
    start = Number(m[1]);
  }
  const next = start + maxResults;
  return next < items.length
    ? { items: items.slice(start, next), nextToken: Buffer.from(`offset:${next}`).toString('base64url') }
    : { items: items.slice(start) };
}

/** Runs one ECR JSON action (the part of X-Amz-Target after the dot). */
export async function handleEcrAction(
  state: EcrState,
  action: string,
  input: any,
): Promise<Record<string, unknown>> {
  switch (action) {
    case 'GetAuthorizationToken':
      return state.getAuthorizationToken();
    case 'DescribeRepositories':
      return state.describeRepositories(input);
    case 'CreateRepository': {
      const repo = state.createRepository(requiredString(input, 'repositoryName'), {
        imageTagMutability: (optionalString(input, 'imageTagMutability') ?? 'MUTABLE') as TagMutability,
        scanOnPush: input?.imageScanningConfiguration?.scanOnPush === true,
        tags: Array.isArray(input?.tags) ? input.tags : [],
      });
      return { repository: state.repositoryJson(repo) };
    }
    case 'DescribeImages':
      return describeImages(state, input);
    case 'BatchGetImage':
      return batchGetImage(state, input);
    case 'PutImage':
      return putImage(state, input);
    default:
      throw new EcrError('UnknownOperationException', `Unknown operation ${action}`);
  }
}
