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

/** Where ECR's images live: in memory, or in a real registry v2. */
export interface ImageStore {
  list(repo: string): Promise<EcrImage[]>;
  /** Stores a manifest, under a tag when given (moving the tag if it pointed elsewhere); returns its digest. */
  put(repo: string, manifest: string, mediaType: string, tag?: string): Promise<string>;
  /** Builds and stores a small image (config + one layer) whose content is `seed`; returns its manifest. */
  synthesize(repo: string, seed: string): Promise<{ manifest: string; mediaType: string }>;
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

function syntheticBlobs(seed: string): { config: Buffer; layer: Buffer } {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'org.opencontainers.image.description': seed } },
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

  synthesize(_repo: string, seed: string): Promise<{ manifest: string; mediaType: string }> {
    const { config, layer } = syntheticBlobs(seed);
    return Promise.resolve({ manifest: syntheticManifest(config, layer), mediaType: DOCKER_MANIFEST });
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

  async synthesize(repo: string, seed: string): Promise<{ manifest: string; mediaType: string }> {
    const { config, layer } = syntheticBlobs(seed);
    await this.client.putBlob(repo, config);
    await this.client.putBlob(repo, layer);
    return { manifest: syntheticManifest(config, layer), mediaType: DOCKER_MANIFEST };
  }
}
