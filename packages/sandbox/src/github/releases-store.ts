/**
 * The state behind the sandbox's GitHub releases API: one repository's releases and tags. Every mutation is
 * synchronous, so a request checks and changes the store in one turn of the event loop: two concurrent
 * creates of the same tag give exactly one release and one `already_exists`, as on GitHub.
 *
 * As on GitHub, a published release owns its tag (a second published release of the tag is refused) while
 * drafts own nothing: several drafts may name the same tag, and `releases/tags/{tag}` finds only the
 * published one.
 */

export interface Release {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  assets_url: string;
  upload_url: string;
  tarball_url: string | null;
  zipball_url: string | null;
  tag_name: string;
  target_commitish: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  immutable: boolean;
  created_at: string;
  published_at: string | null;
  author: { login: string; id: number; type: string };
  assets: unknown[];
}

export type MakeLatest = 'true' | 'false' | 'legacy';

export interface ReleaseFields {
  tag_name?: string;
  target_commitish?: string;
  name?: string | null;
  body?: string | null;
  draft?: boolean;
  prerelease?: boolean;
  make_latest?: MakeLatest;
}

/** A 422 as GitHub words it: `{"message":"Validation Failed","errors":[{resource, code, field}]}`. */
export class ValidationFailed extends Error {
  constructor(
    readonly code: 'already_exists' | 'missing_field' | 'invalid' | 'custom',
    readonly field: string,
    readonly detail?: string,
  ) {
    super(detail ?? `${field} ${code}`);
  }
}

/** GitHub's limit on a release body. */
export const BODY_LIMIT = 125_000;

export interface StoreOptions {
  owner: string;
  repo: string;
  /** Base of the API URLs in the JSON (the sandbox's own address). */
  apiUrl: string;
  /** Base of the html_url links. */
  serverUrl: string;
  tags: string[];
}

export class ReleasesStore {
  private readonly byId = new Map<number, Release>();
  private nextId = 1000;
  private latestId: number | undefined;
  private tagNames: string[];

  constructor(private readonly options: StoreOptions) {
    this.tagNames = [...new Set(options.tags)];
  }

  get owner(): string {
    return this.options.owner;
  }

  get repo(): string {
    return this.options.repo;
  }

  /** Every release, oldest first (copies). */
  all(): Release[] {
    return [...this.byId.values()].map((release) => structuredClone(release));
  }

  get(id: number): Release | undefined {
    return this.byId.get(id);
  }

  /** The published release of a tag; drafts are not found by tag. */
  byTag(tag: string): Release | undefined {
    return [...this.byId.values()].find((release) => !release.draft && release.tag_name === tag);
  }

  latest(): Release | undefined {
    return this.latestId === undefined ? undefined : this.byId.get(this.latestId);
  }

  tags(): string[] {
    return [...this.tagNames];
  }

  setTags(tags: string[]): void {
    this.tagNames = [...new Set(tags)];
  }

  create(fields: ReleaseFields, now = new Date()): Release {
    const tag = fields.tag_name;
    if (tag === undefined || tag === '') throw new ValidationFailed('missing_field', 'tag_name');
    this.check(fields);
    const draft = fields.draft ?? false;
    if (!draft && this.byTag(tag)) throw new ValidationFailed('already_exists', 'tag_name');
    const id = this.nextId++;
    const api = `${this.options.apiUrl}/repos/${this.owner}/${this.repo}`;
    const release: Release = {
      id,
      node_id: `RE_sandbox${id}`,
      url: `${api}/releases/${id}`,
      html_url: '',
      assets_url: `${api}/releases/${id}/assets`,
      upload_url: `${api}/releases/${id}/assets{?name,label}`,
      tarball_url: null,
      zipball_url: null,
      tag_name: tag,
      target_commitish: fields.target_commitish ?? 'main',
      name: fields.name ?? null,
      body: fields.body ?? null,
      draft,
      prerelease: fields.prerelease ?? false,
      immutable: false,
      created_at: now.toISOString(),
      published_at: null,
      author: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
      assets: [],
    };
    this.byId.set(id, release);
    if (!draft) this.publish(release, now);
    this.refreshLinks(release);
    this.applyLatest(release, fields.make_latest);
    return release;
  }

  update(id: number, fields: ReleaseFields, now = new Date()): Release | undefined {
    const release = this.byId.get(id);
    if (!release) return undefined;
    this.check(fields);
    const tag = fields.tag_name ?? release.tag_name;
    const draft = fields.draft ?? release.draft;
    if (!draft) {
      const owner = this.byTag(tag);
      if (owner && owner.id !== id) throw new ValidationFailed('already_exists', 'tag_name');
    }
    release.tag_name = tag;
    if (fields.target_commitish !== undefined) release.target_commitish = fields.target_commitish;
    if (fields.name !== undefined) release.name = fields.name;
    if (fields.body !== undefined) release.body = fields.body;
    if (fields.prerelease !== undefined) release.prerelease = fields.prerelease;
    if (release.draft && !draft) this.publish(release, now);
    release.draft = draft;
    if (draft) release.published_at = null;
    this.refreshLinks(release);
    this.applyLatest(release, fields.make_latest);
    return release;
  }

  delete(id: number): boolean {
    if (this.latestId === id) this.latestId = undefined;
    return this.byId.delete(id);
  }

  private check(fields: ReleaseFields): void {
    if (fields.body !== undefined && fields.body !== null && fields.body.length > BODY_LIMIT) {
      throw new ValidationFailed('custom', 'body', `body is too long (maximum is ${BODY_LIMIT} characters)`);
    }
    if (fields.make_latest !== undefined && !['true', 'false', 'legacy'].includes(fields.make_latest)) {
      throw new ValidationFailed('invalid', 'make_latest');
    }
  }

  /** Publishing a release of a tag the repository does not have creates the tag, as on GitHub. */
  private publish(release: Release, now: Date): void {
    release.published_at = now.toISOString();
    if (!this.tagNames.includes(release.tag_name)) this.tagNames.push(release.tag_name);
  }

  private refreshLinks(release: Release): void {
    const web = `${this.options.serverUrl}/${this.owner}/${this.repo}`;
    const api = `${this.options.apiUrl}/repos/${this.owner}/${this.repo}`;
    const tag = encodeURIComponent(release.tag_name);
    release.html_url = release.draft
      ? `${web}/releases/tag/untagged-${release.node_id}`
      : `${web}/releases/tag/${tag}`;
    release.tarball_url = release.draft ? null : `${api}/tarball/${tag}`;
    release.zipball_url = release.draft ? null : `${api}/zipball/${tag}`;
  }

  /**
   * `make_latest`: "true" (the default) makes a published, stable release the latest; "false" leaves the
   * latest alone; "legacy" picks the newest published stable release by creation date.
   */
  private applyLatest(release: Release, makeLatest: MakeLatest | undefined): void {
    const eligible = (r: Release): boolean => !r.draft && !r.prerelease;
    const mode = makeLatest ?? 'true';
    if (mode === 'true' && eligible(release)) this.latestId = release.id;
    if (mode === 'legacy') {
      const newest = [...this.byId.values()]
        .filter(eligible)
        .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id)
        .pop();
      this.latestId = newest?.id;
    }
    const latest = this.latest();
    if (latest && !eligible(latest)) this.latestId = undefined;
  }
}
