/** The image build, as argument arrays for `docker buildx build` or the legacy `docker build`. */

export type Builder = 'buildx' | 'legacy';
export type CacheMode = 'gha' | 'registry' | 'none';

/** A build secret handed to BuildKit through an environment variable, so its value is in no argument. */
export interface BuildSecret {
  id: string;
  value: string;
}

export interface BuildSpec {
  /** Build context: a directory, or (buildx) a Git/HTTP URL. */
  context: string;
  file?: string | undefined;
  target?: string | undefined;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  platforms: string[];
  /** Full image references (`host/repository:tag`). */
  tags: string[];
  secrets: BuildSecret[];
  cache: CacheMode;
  /** `host/repository:buildcache`, the registry cache's reference. */
  cacheRef?: string | undefined;
  /** GitHub cache scope (one per repository, so two images do not evict each other). */
  cacheScope?: string | undefined;
  push: boolean;
  /** buildx writes the pushed digest here (`containerimage.digest`). */
  metadataFile?: string | undefined;
  /** The legacy builder writes the image id here. */
  iidFile?: string | undefined;
}

/** The environment variable that carries secret `index` to `--secret id=…,env=…`. */
export function secretEnvName(index: number): string {
  return `PLANNER_DEPLOY_BUILD_SECRET_${index}`;
}

/** Environment entries for the secrets (merged into the build command's environment only). */
export function secretEnv(secrets: BuildSecret[]): Record<string, string> {
  return Object.fromEntries(secrets.map((s, i) => [secretEnvName(i), s.value]));
}

function pairs(flag: string, values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([key, value]) => [flag, `${key}=${value}`]);
}

/** `--cache-from`/`--cache-to` for buildx; the legacy builder exports no cache, so it gets none. */
export function cacheArgs(spec: Pick<BuildSpec, 'cache' | 'cacheRef' | 'cacheScope' | 'push'>): string[] {
  if (spec.cache === 'gha') {
    const scope = spec.cacheScope !== undefined ? `,scope=${spec.cacheScope}` : '';
    return ['--cache-from', `type=gha${scope}`, '--cache-to', `type=gha,mode=max${scope}`];
  }
  if (spec.cache === 'registry' && spec.cacheRef !== undefined) {
    const from = ['--cache-from', `type=registry,ref=${spec.cacheRef}`];
    // ECR accepts the cache only as an image manifest with OCI media types (build-push-action#20).
    return spec.push
      ? [
          ...from,
          '--cache-to',
          `type=registry,ref=${spec.cacheRef},mode=max,image-manifest=true,oci-mediatypes=true`,
        ]
      : from;
  }
  return [];
}

/** `docker buildx build …`: pushes (or loads, for one platform) and writes the digest to the metadata file. */
export function buildxArgs(spec: BuildSpec): string[] {
  const args = ['buildx', 'build'];
  if (spec.file !== undefined) args.push('--file', spec.file);
  if (spec.target !== undefined) args.push('--target', spec.target);
  args.push(...pairs('--build-arg', spec.buildArgs));
  args.push(...pairs('--label', spec.labels));
  if (spec.platforms.length > 0) args.push('--platform', spec.platforms.join(','));
  for (const tag of spec.tags) args.push('--tag', tag);
  spec.secrets.forEach((secret, i) => args.push('--secret', `id=${secret.id},env=${secretEnvName(i)}`));
  args.push(...cacheArgs(spec));
  // One manifest per platform and no attestation manifests: ECR's console and `docker pull` show
  // "unknown/unknown" entries for provenance attestations, which confuses people choosing an image.
  args.push('--provenance=false');
  if (spec.metadataFile !== undefined) args.push('--metadata-file', spec.metadataFile);
  if (spec.push) args.push('--push');
  else if (spec.platforms.length <= 1) args.push('--load');
  args.push(spec.context);
  return args;
}

/**
 * Legacy `docker build …` (no buildx plugin): one platform at most, no secrets and no cache export — the
 * caller checks those before choosing it. Pushing is separate (`docker push`).
 */
export function legacyBuildArgs(spec: BuildSpec): string[] {
  const args = ['build'];
  if (spec.file !== undefined) args.push('--file', spec.file);
  if (spec.target !== undefined) args.push('--target', spec.target);
  args.push(...pairs('--build-arg', spec.buildArgs));
  args.push(...pairs('--label', spec.labels));
  if (spec.platforms.length === 1) args.push('--platform', spec.platforms[0] as string);
  for (const tag of spec.tags) args.push('--tag', tag);
  if (spec.iidFile !== undefined) args.push('--iidfile', spec.iidFile);
  args.push(spec.context);
  return args;
}

/** Why the legacy builder cannot build this spec, or undefined when it can. */
export function legacyBuilderProblem(spec: Pick<BuildSpec, 'platforms' | 'secrets'>): string | undefined {
  if (spec.platforms.length > 1) {
    return `building for several platforms (${spec.platforms.join(', ')}) needs docker buildx`;
  }
  if (spec.secrets.length > 0) return 'build secrets need BuildKit (docker buildx)';
  return undefined;
}

/** The digest buildx wrote to its metadata file (`containerimage.digest`), if any. */
export function metadataDigest(metadata: string): string | undefined {
  try {
    const parsed = JSON.parse(metadata) as Record<string, unknown>;
    const digest = parsed['containerimage.digest'];
    return typeof digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
  } catch {
    return undefined;
  }
}

/** What the builder can cache with, decided from its driver and the runner's environment. */
export interface CacheChoice {
  cache: CacheMode;
  /** Why the asked-for cache is not used, for the log. */
  note?: string;
}

/**
 * The cache to build with. buildx's default `docker` driver exports no cache (the build would fail), and the
 * GitHub cache needs the runner's cache service (ACTIONS_RUNTIME_TOKEN with ACTIONS_CACHE_URL or
 * ACTIONS_RESULTS_URL), which exists only on GitHub Actions runners.
 */
export function chooseCache(
  asked: CacheMode,
  builder: Builder,
  driver: string | undefined,
  env: Record<string, string | undefined>,
): CacheChoice {
  if (asked === 'none') return { cache: 'none' };
  if (builder === 'legacy') {
    return { cache: 'none', note: `the legacy builder cannot use cache "${asked}"; building without it` };
  }
  if (driver === 'docker') {
    return {
      cache: 'none',
      note: `buildx's "docker" driver cannot export a cache; building without cache "${asked}" (docker/setup-buildx-action makes a builder that can)`,
    };
  }
  if (asked === 'gha' && !(env.ACTIONS_RUNTIME_TOKEN && (env.ACTIONS_CACHE_URL || env.ACTIONS_RESULTS_URL))) {
    return {
      cache: 'none',
      note: 'the GitHub Actions cache service is not available here (no ACTIONS_RUNTIME_TOKEN/ACTIONS_CACHE_URL); building without cache "gha"',
    };
  }
  return { cache: asked };
}

/** The driver `docker buildx inspect` reports (`Driver: docker-container`), if any. */
export function inspectDriver(output: string): string | undefined {
  return /^Driver:\s+(\S+)/m.exec(output)?.[1];
}
