/**
 * What each image does when the simulated kubelet runs it. Tests and the CLI set behaviours at any time;
 * the kubelet reads the catalog at each step (pull, start, restart), so a change applies from the next
 * step of every pod that runs the image.
 *
 * Lookup order for an image reference: an exact entry; then the reference without its digest; then the
 * repository without tag or digest (`registry/app` matches `registry/app:v2`); then glob entries with `*`
 * (most specific — longest — pattern first); else the default behaviour (ready after 2 simulated s).
 *
 * Missing secrets and configmaps: the store has no Secret or ConfigMap resource, so every reference is
 * taken to exist unless it is declared missing here (`addMissingSecret(name, namespace?)`,
 * `addMissingConfigMap(name, namespace?)`; without a namespace the name is missing in every namespace).
 * References marked `optional: true` are never missing, as with the real kubelet.
 */

export type ImageBehaviour =
  /** Starts, prints `lines`, becomes Ready `after` ms after it started (default 2000). */
  | { kind: 'ready'; after?: number; lines?: string[] }
  /**
   * Starts and runs, but its readiness probe fails forever (Unhealthy events every probe period).
   * `probeOutput`: what an exec probe printed, quoted in the event as the kubelet does.
   */
  | { kind: 'never-ready'; lines?: string[]; probeOutput?: string }
  /** Starts, prints `lines`, exits with `exitCode` (default 1) `after` ms later (default 1000); restarts with back-off. */
  | { kind: 'crash'; exitCode?: number; lines?: string[]; after?: number }
  /** Starts, prints `lines`, is OOM-killed (exit 137) `after` ms later (default 1000); restarts with back-off. */
  | { kind: 'oom'; lines?: string[]; after?: number }
  /**
   * Prints `lines` spread evenly over `after` ms (default 200 ms per line, at least 500), then exits with
   * `exitCode` (0 → Completed, else Error). For migration Jobs.
   */
  | { kind: 'exit'; exitCode: number; lines: string[]; after?: number }
  /** Not in the registry: ErrImagePull ↔ ImagePullBackOff. `message` replaces the pull error text. */
  | { kind: 'missing'; message?: string };

export const DEFAULT_BEHAVIOUR: ImageBehaviour = { kind: 'ready', after: 2000 };
/**
 * What an image without an entry does in a run-to-completion pod (restartPolicy Never/OnFailure, e.g. a
 * migration Job built from the app's pod template): its command succeeds after 2 s.
 */
export const DEFAULT_RUN_TO_COMPLETION: ImageBehaviour = {
  kind: 'exit',
  exitCode: 0,
  lines: [],
  after: 2000,
};

/** The parts of a container spec the catalog looks at. */
export interface ContainerRef {
  image: string;
  command?: string[];
  args?: string[];
}

interface CommandRule {
  command: RegExp;
  image?: RegExp;
  behaviour: ImageBehaviour;
}

export interface ParsedImage {
  /** Normalised name as containerd reports it: `docker.io/library/nginx:1.25`. */
  fullName: string;
  /** Repository without tag or digest, as written (`nginx`, `123.dkr.ecr…/app`). */
  repository: string;
  tag?: string;
  digest?: string;
}

// distribution/reference grammar, simplified.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);

/** Parses an image reference; undefined when it is not a valid reference (→ InvalidImageName). */
export function parseImage(image: string): ParsedImage | undefined {
  if (!image || image.length > 255 + 128 + 80) return undefined;
  const m = REFERENCE.exec(image);
  if (!m) return undefined;
  const repository = m[1]!;
  const tag = m[2];
  const digest = m[3];
  const slash = repository.indexOf('/');
  const first = slash < 0 ? '' : repository.slice(0, slash);
  const hasDomain =
    slash >= 0 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let full = hasDomain ? repository : `docker.io/${slash < 0 ? `library/${repository}` : repository}`;
  if (digest) full += tag ? `:${tag}@${digest}` : `@${digest}`;
  else full += `:${tag ?? 'latest'}`;
  return { fullName: full, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The kubelet's message for an invalid reference. */
export function invalidImageMessage(image: string): string {
  const lower = /^[^:@]*[A-Z]/.test(image) && REFERENCE.test(image.toLowerCase());
  const detail = lower
    ? `invalid reference format: repository name (${image.split(/[:@]/)[0]}) must be lowercase`
    : 'invalid reference format';
  return `Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${detail}`;
}

const KINDS = ['ready', 'never-ready', 'crash', 'oom', 'exit', 'missing'] as const;

/**
 * Checks an ImageBehaviour that came as JSON (CLI flag, admin endpoint); throws an Error naming the
 * problem.
 */
export function parseBehaviour(value: unknown, where = 'behaviour'): ImageBehaviour {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${where}: expected an object with a "kind"`);
  const v = value as Record<string, unknown>;
  if (!KINDS.includes(v.kind as (typeof KINDS)[number])) {
    throw new Error(`${where}: kind ${JSON.stringify(v.kind)} is not one of ${KINDS.join(', ')}`);
  }
  const num = (f: string, required = false): void => {
    if (v[f] === undefined && !required) return;
    if (typeof v[f] !== 'number' || !Number.isFinite(v[f]) || v[f] < 0) {
      throw new Error(`${where}: ${f} must be a non-negative number${required ? ' (required)' : ''}`);
    }
  };
  const lines = (required = false): void => {
    if (v.lines === undefined && !required) return;
    if (!Array.isArray(v.lines) || !v.lines.every((l) => typeof l === 'string')) {
      throw new Error(`${where}: lines must be an array of strings${required ? ' (required)' : ''}`);
    }
  };
  switch (v.kind) {
    case 'ready':
      num('after');
      lines();
      break;
    case 'never-ready':
      lines();
      if (v.probeOutput !== undefined && typeof v.probeOutput !== 'string')
        throw new Error(`${where}: probeOutput must be a string`);
      break;
    case 'crash':
      num('exitCode');
      num('after');
      lines();
      break;
    case 'oom':
      num('after');
      lines();
      break;
    case 'exit':
      num('exitCode', true);
      num('after');
      lines(true);
      break;
    case 'missing':
      if (v.message !== undefined && typeof v.message !== 'string')
        throw new Error(`${where}: message must be a string`);
      break;
  }
  return v as unknown as ImageBehaviour;
}

/** A whole catalog as JSON: what `ImageCatalog.configure` applies and `snapshot` returns. */
export interface CatalogConfig {
  images?: Record<string, ImageBehaviour>;
  /** Command rules: `{ command, behaviour, image? }`. */
  commands?: { command: string; behaviour: ImageBehaviour; image?: string }[];
  default?: ImageBehaviour;
  /** `name` (every namespace) or `namespace/name`. */
  missingSecrets?: string[];
  missingConfigMaps?: string[];
  pullMs?: number;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

export class ImageCatalog {
  private readonly entries = new Map<string, ImageBehaviour>();
  private readonly commandRules = new Map<
    string,
    CommandRule & { source: { command: string; image?: string } }
  >();
  private defaultBehaviour: ImageBehaviour = DEFAULT_BEHAVIOUR;
  private defaultSet = false;
  /** Secret names declared missing: `name` (every namespace) or `namespace/name`. */
  readonly missingSecrets = new Set<string>();
  /** ConfigMap names declared missing: `name` (every namespace) or `namespace/name`. */
  readonly missingConfigMaps = new Set<string>();
  /** Simulated ms a pull takes (the first pull of an image on the node; later pulls of IfNotPresent images are instant). */
  pullMs = 1000;
  private readonly listeners = new Set<() => void>();

  constructor(init?: Record<string, ImageBehaviour>) {
    // Validated: a typo in a CLI flag fails at start with the entry named.
    for (const [k, v] of Object.entries(init ?? {})) this.entries.set(k, parseBehaviour(v, `images["${k}"]`));
  }

  /** Sets what `image` (exact ref, repository, or glob with `*`) does from now on. */
  set(image: string, behaviour: ImageBehaviour): this {
    this.entries.set(image, behaviour);
    this.changed();
    return this;
  }

  delete(image: string): this {
    this.entries.delete(image);
    this.changed();
    return this;
  }

  /** The behaviour of images without an entry (default: ready after 2 simulated seconds). */
  setDefault(behaviour: ImageBehaviour): this {
    this.defaultBehaviour = behaviour;
    this.defaultSet = true;
    this.changed();
    return this;
  }

  /**
   * What a container does when its command line (`command` + `args` joined by spaces) matches the glob
   * `command`, optionally only for images matching the glob `image` (a repository matches its tags).
   * Command rules win over image entries once the image is pulled (a missing image still fails to pull).
   * E.g. `setCommand('alembic *', { kind: 'exit', exitCode: 0, lines: ['done'] })`.
   */
  setCommand(command: string, behaviour: ImageBehaviour, image?: string): this {
    this.commandRules.set(`${command}\u0000${image ?? ''}`, {
      source: { command, ...(image ? { image } : {}) },
      command: globToRegExp(command),
      ...(image
        ? {
            image: globToRegExp(
              image.includes(':') || image.includes('@') || image.includes('*') ? image : `${image}*`,
            ),
          }
        : {}),
      behaviour,
    });
    this.changed();
    return this;
  }

  deleteCommand(command: string, image?: string): this {
    this.commandRules.delete(`${command}\u0000${image ?? ''}`);
    this.changed();
    return this;
  }

  /**
   * What the kubelet runs for a container: a matching command rule (last set wins), else the image's
   * entry, else the default — which, for an image without an entry in a run-to-completion pod
   * (restartPolicy Never/OnFailure) and no `setDefault`, is DEFAULT_RUN_TO_COMPLETION.
   */
  resolve(container: ContainerRef, restartPolicy = 'Always'): ImageBehaviour {
    const line = [...(container.command ?? []), ...(container.args ?? [])].join(' ');
    let found: ImageBehaviour | undefined;
    for (const rule of this.commandRules.values()) {
      if (rule.command.test(line) && (!rule.image || rule.image.test(container.image)))
        found = rule.behaviour;
    }
    if (found) return found;
    const entry = this.lookup(container.image);
    if (entry) return entry;
    if (!this.defaultSet && restartPolicy !== 'Always') return DEFAULT_RUN_TO_COMPLETION;
    return this.defaultBehaviour;
  }

  /** The behaviour of `image` now (its entry or the default). */
  get(image: string): ImageBehaviour {
    return this.lookup(image) ?? this.defaultBehaviour;
  }

  private lookup(image: string): ImageBehaviour | undefined {
    const exact = this.entries.get(image);
    if (exact) return exact;
    const parsed = parseImage(image);
    if (parsed) {
      if (parsed.digest) {
        const noDigest = parsed.tag ? `${parsed.repository}:${parsed.tag}` : parsed.repository;
        const b = this.entries.get(noDigest) ?? this.entries.get(image.split('@')[0]!);
        if (b) return b;
      }
      const repo = this.entries.get(parsed.repository);
      if (repo) return repo;
    }
    let best: { len: number; b: ImageBehaviour } | undefined;
    for (const [k, b] of this.entries) {
      if (!k.includes('*')) continue;
      if (globToRegExp(k).test(image) && (!best || k.length > best.len)) best = { len: k.length, b };
    }
    return best?.b;
  }

  addMissingSecret(name: string, namespace?: string): this {
    this.missingSecrets.add(namespace ? `${namespace}/${name}` : name);
    this.changed();
    return this;
  }

  removeMissingSecret(name: string, namespace?: string): this {
    this.missingSecrets.delete(namespace ? `${namespace}/${name}` : name);
    this.changed();
    return this;
  }

  addMissingConfigMap(name: string, namespace?: string): this {
    this.missingConfigMaps.add(namespace ? `${namespace}/${name}` : name);
    this.changed();
    return this;
  }

  removeMissingConfigMap(name: string, namespace?: string): this {
    this.missingConfigMaps.delete(namespace ? `${namespace}/${name}` : name);
    this.changed();
    return this;
  }

  isSecretMissing(namespace: string, name: string): boolean {
    return this.missingSecrets.has(name) || this.missingSecrets.has(`${namespace}/${name}`);
  }

  isConfigMapMissing(namespace: string, name: string): boolean {
    return this.missingConfigMaps.has(name) || this.missingConfigMaps.has(`${namespace}/${name}`);
  }

  /** Applies a JSON configuration (validated; entries are added to, or replace, what is there). */
  configure(config: CatalogConfig): this {
    for (const [image, b] of Object.entries(config.images ?? {}))
      this.set(image, parseBehaviour(b, `images["${image}"]`));
    for (const [i, r] of (config.commands ?? []).entries()) {
      if (!r || typeof r.command !== 'string') throw new Error(`commands[${i}]: command must be a string`);
      this.setCommand(r.command, parseBehaviour(r.behaviour, `commands[${i}].behaviour`), r.image);
    }
    if (config.default) this.setDefault(parseBehaviour(config.default, 'default'));
    for (const s of config.missingSecrets ?? []) this.missingSecrets.add(s);
    for (const s of config.missingConfigMaps ?? []) this.missingConfigMaps.add(s);
    if (config.pullMs !== undefined) {
      if (typeof config.pullMs !== 'number' || config.pullMs < 0)
        throw new Error('pullMs must be a non-negative number');
      this.pullMs = config.pullMs;
    }
    this.changed();
    return this;
  }

  /** The catalog as JSON (for an admin endpoint or a status page). */
  snapshot(): CatalogConfig {
    return {
      images: Object.fromEntries(this.entries),
      commands: [...this.commandRules.values()].map((r) => ({ ...r.source, behaviour: r.behaviour })),
      ...(this.defaultSet ? { default: this.defaultBehaviour } : {}),
      missingSecrets: [...this.missingSecrets],
      missingConfigMaps: [...this.missingConfigMaps],
      pullMs: this.pullMs,
    };
  }

  /** Called after every change. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }
}
