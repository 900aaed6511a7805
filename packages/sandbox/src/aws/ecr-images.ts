import { randomBytes } from 'node:crypto';
import { RegistryClient, sha256Digest, type RegistryAccess } from './registry-client.js';

/** One image (one manifest) of a repository, with every tag that points to it. */
export interface EcrImage {
  digest: string;
  tags: string[];
  manifest: string;
  mediaType: string;
  /** The config's media type (ECR's artifactMediaType). */
  artifactMediaType?: string;
  sizeInBytes: number;
  pushedAt: Date;
}

/** What a synthesized image's config says about running it (as a Dockerfile's ENV and LABEL would). */
export interface ImageConfigSpec {
  env?: Record<string, string>;
  labels?: Record<string, string>;
}

/** The runtime part of an image's config, as the registry holds it: what a container of it starts with. */
export interface ImageRuntimeConfig {
  /** The config's Env, `NAME=value` entries as a map (a later entry wins, as in docker). */
  env: Record<string, string>;
  labels: Record<string, string>;
}

/** Where ECR's images live: in memory, or in a real registry v2. */
export interface ImageStore {
  list(repo: string): Promise<EcrImage[]>;
  /** Stores a manifest, under a tag when given (moving the tag if it pointed elsewhere); returns its digest. */
  put(repo: string, manifest: string, mediaType: string, tag?: string): Promise<string>;
  /**
   * Builds and stores a small image (config + one layer) whose content is `seed` and whose config carries
   * `config`'s env and labels; returns its manifest.
   */
  synthesize(
    repo: string,
    seed: string,
    config?: ImageConfigSpec,
  ): Promise<{ manifest: string; mediaType: string }>;
  /** A manifest by tag or digest; undefined when the repository has no such image. */
  manifest(repo: string, reference: string): Promise<string | undefined>;
  /** A blob by digest (the config of an image); undefined when unknown. */
  blob(repo: string, digest: string): Promise<Buffer | undefined>;
}

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** What ECR reports from a manifest: the compressed size of its layers and config, and the config type. */
export function describeManifest(manifest: string): { sizeInBytes: number; artifactMediaType?: string } {
  try {
    const parsed = JSON.parse(manifest) as {
      config?: { size?: number; mediaType?: string };
      layers?: { size?: number }[];
      manifests?: { size?: number }[];
    };
    const parts = [parsed.config, ...(parsed.layers ?? []), ...(parsed.manifests ?? [])];
    const sizeInBytes = parts.reduce((sum, p) => sum + (p?.size ?? 0), 0);
    return {
      sizeInBytes,
      ...(parsed.config?.mediaType !== undefined ? { artifactMediaType: parsed.config.mediaType } : {}),
    };
  } catch {
    return { sizeInBytes: Buffer.byteLength(manifest) };
  }
}

/** The media type a manifest declares, else Docker's v2 schema 2. */
export function manifestMediaType(manifest: string): string {
  try {
    const mediaType = (JSON.parse(manifest) as { mediaType?: unknown }).mediaType;
    return typeof mediaType === 'string' ? mediaType : DOCKER_MANIFEST;
  } catch {
    return DOCKER_MANIFEST;
  }
}

function syntheticBlobs(seed: string, spec: ImageConfigSpec = {}): { config: Buffer; layer: Buffer } {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {
        ...(spec.env ? { Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`) } : {}),
        Labels: { 'org.opencontainers.image.description': seed, ...spec.labels },
      },
      rootfs: { type: 'layers', diff_ids: [sha256Digest(seed)] },
    }),
  );
  // Not a real gzip stream: registries store blobs without looking inside.
  const layer = Buffer.concat([Buffer.from(seed), randomBytes(16)]);
  return { config, layer };
}

function syntheticManifest(config: Buffer, layer: Buffer): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: config.length, digest: sha256Digest(config) },
    layers: [{ mediaType: DOCKER_LAYER, size: layer.length, digest: sha256Digest(layer) }],
  });
}

interface StoredImage {
  manifest: string;
  mediaType: string;
  tags: Set<string>;
  pushedAt: Date;
}

export class MemoryImageStore implements ImageStore {
  private readonly repos = new Map<string, Map<string, StoredImage>>();
  /** Config blobs of synthesized images, by digest (layers are not kept: nothing reads them). */
  private readonly blobs = new Map<string, Buffer>();

  list(repo: string): Promise<EcrImage[]> {
    const images = [...(this.repos.get(repo)?.entries() ?? [])];
    return Promise.resolve(
      images.map(([digest, image]) => ({
        digest,
        tags: [...image.tags],
        manifest: image.manifest,
        mediaType: image.mediaType,
        pushedAt: image.pushedAt,
        ...describeManifest(image.manifest),
      })),
    );
  }

  put(repo: string, manifest: string, mediaType: string, tag?: string): Promise<string> {
    const digest = sha256Digest(manifest);
    const images = this.repos.get(repo) ?? new Map<string, StoredImage>();
    this.repos.set(repo, images);
    const image = images.get(digest) ?? {
      manifest,
      mediaType,
      tags: new Set<string>(),
      pushedAt: new Date(),
    };
    images.set(digest, image);
    if (tag !== undefined) {
      for (const other of images.values()) other.tags.delete(tag);
      image.tags.add(tag);
    }
    return Promise.resolve(digest);
  }

  synthesize(
    _repo: string,
    seed: string,
    spec?: ImageConfigSpec,
  ): Promise<{ manifest: string; mediaType: string }> {
    const { config, layer } = syntheticBlobs(seed, spec);
    this.blobs.set(sha256Digest(config), config);
    return Promise.resolve({ manifest: syntheticManifest(config, layer), mediaType: DOCKER_MANIFEST });
  }

  manifest(repo: string, reference: string): Promise<string | undefined> {
    const images = this.repos.get(repo);
    const byDigest = images?.get(reference);
    if (byDigest) return Promise.resolve(byDigest.manifest);
    const byTag = [...(images?.values() ?? [])].find((image) => image.tags.has(reference));
    return Promise.resolve(byTag?.manifest);
  }

  blob(_repo: string, digest: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.blobs.get(digest));
  }
}

/** Images as a real registry holds them: tags from /tags/list, manifests and digests as served. */
export class RegistryImageStore implements ImageStore {
  private readonly client: RegistryClient;
  /** The registry does not say when a manifest was pushed: remember when the sandbox first saw it. */
  private readonly firstSeen = new Map<string, Date>();

  constructor(access: RegistryAccess) {
    this.client = new RegistryClient(access);
  }

  async list(repo: string): Promise<EcrImage[]> {
    const tags = await this.client.tags(repo);
    const byDigest = new Map<string, EcrImage>();
    for (const tag of tags.sort()) {
      const manifest = await this.client.manifest(repo, tag);
      if (manifest === undefined) continue;
      const existing = byDigest.get(manifest.digest);
      if (existing) {
        existing.tags.push(tag);
        continue;
      }
      const key = `${repo}@${manifest.digest}`;
      const pushedAt = this.firstSeen.get(key) ?? new Date();
      this.firstSeen.set(key, pushedAt);
      byDigest.set(manifest.digest, {
        digest: manifest.digest,
        tags: [tag],
        manifest: manifest.body,
        mediaType: manifest.mediaType,
        pushedAt,
        ...describeManifest(manifest.body),
      });
    }
    return [...byDigest.values()];
  }

  async put(repo: string, manifest: string, mediaType: string, tag?: string): Promise<string> {
    const digest = await this.client.putManifest(repo, tag ?? sha256Digest(manifest), manifest, mediaType);
    const key = `${repo}@${digest}`;
    if (!this.firstSeen.has(key)) this.firstSeen.set(key, new Date());
    return digest;
  }

  async synthesize(
    repo: string,
    seed: string,
    spec?: ImageConfigSpec,
  ): Promise<{ manifest: string; mediaType: string }> {
    const { config, layer } = syntheticBlobs(seed, spec);
    await this.client.putBlob(repo, config);
    await this.client.putBlob(repo, layer);
    return { manifest: syntheticManifest(config, layer), mediaType: DOCKER_MANIFEST };
  }

  async manifest(repo: string, reference: string): Promise<string | undefined> {
    return (await this.client.manifest(repo, reference))?.body;
  }

  blob(repo: string, digest: string): Promise<Buffer | undefined> {
    return this.client.blob(repo, digest);
  }
}

/**
 * The runtime config of the image a manifest describes: for an index (multi-platform), its linux/amd64
 * entry, else its first; then the config blob's Env and Labels. undefined when a part is missing or is not
 * an image (an attestation, a blob that is not JSON).
 */
export async function readImageConfig(
  store: Pick<ImageStore, 'manifest' | 'blob'>,
  repo: string,
  reference: string,
): Promise<ImageRuntimeConfig | undefined> {
  let text = await store.manifest(repo, reference);
  for (let depth = 0; text !== undefined && depth < 2; depth += 1) {
    const parsed = parseJson(text) as {
      config?: { digest?: unknown };
      manifests?: { digest?: unknown; platform?: { os?: unknown; architecture?: unknown } }[];
    };
    if (Array.isArray(parsed?.manifests)) {
      const entries = parsed.manifests;
      const chosen =
        entries.find((m) => m?.platform?.os === 'linux' && m.platform.architecture === 'amd64') ?? entries[0];
      if (typeof chosen?.digest !== 'string') return undefined;
      text = await store.manifest(repo, chosen.digest);
      continue;
    }
    const digest = parsed?.config?.digest;
    if (typeof digest !== 'string') return undefined;
    const blob = await store.blob(repo, digest);
    if (blob === undefined) return undefined;
    const config = (parseJson(blob.toString('utf8')) as { config?: { Env?: unknown; Labels?: unknown } })
      ?.config;
    const env: Record<string, string> = {};
    for (const entry of Array.isArray(config?.Env) ? config.Env : []) {
      if (typeof entry !== 'string') continue;
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    const labels: Record<string, string> = {};
    const rawLabels = config?.Labels;
    if (rawLabels && typeof rawLabels === 'object' && !Array.isArray(rawLabels)) {
      for (const [key, value] of Object.entries(rawLabels))
        if (typeof value === 'string') labels[key] = value;
    }
    return { env, labels };
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
