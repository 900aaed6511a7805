import { createHash } from 'node:crypto';

/** Where a real registry v2 listens and how to log in to it. */
export interface RegistryAccess {
  /** e.g. http://127.0.0.1:5000 */
  url: string;
  username: string;
  password: string;
}

export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

export interface RegistryManifest {
  digest: string;
  mediaType: string;
  /** The manifest exactly as the registry stores it (its sha256 is the digest). */
  body: string;
}

export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export function sha256Digest(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A small client of the registry v2 HTTP API, with basic auth. */
export class RegistryClient {
  constructor(private readonly access: RegistryAccess) {}

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const auth = Buffer.from(`${this.access.username}:${this.access.password}`).toString('base64');
    const headers = new Headers(init.headers);
    headers.set('authorization', `Basic ${auth}`);
    return fetch(new URL(path, this.access.url), { ...init, headers });
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { errors?: { code?: string }[] }).errors?.[0]?.code;
    } catch {
      code = undefined;
    }
    throw new RegistryHttpError(res.status, code, `${what}: registry answered ${res.status} ${text.trim()}`);
  }

  /** Tags of a repository; [] when the repository does not exist in the registry. */
  async tags(repo: string): Promise<string[]> {
    const res = await this.request(`/v2/${repo}/tags/list`);
    if (res.status === 404) {
      await res.body?.cancel();
      return [];
    }
    if (!res.ok) return this.fail(res, `list tags of ${repo}`);
    const body = (await res.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /** A manifest by tag or digest; undefined when unknown. */
  async manifest(repo: string, reference: string): Promise<RegistryManifest | undefined> {
    const res = await this.request(`/v2/${repo}/manifests/${reference}`, {
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) return this.fail(res, `get manifest ${repo}:${reference}`);
    const body = await res.text();
    const mediaType = res.headers.get('content-type')?.split(';')[0]?.trim() ?? MANIFEST_MEDIA_TYPES[0]!;
    return { digest: res.headers.get('docker-content-digest') ?? sha256Digest(body), mediaType, body };
  }

  /** Stores a manifest under a tag (or by its digest); returns the digest the registry reports. */
  async putManifest(repo: string, reference: string, body: string, mediaType: string): Promise<string> {
    const res = await this.request(`/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body,
    });
    if (!res.ok) return this.fail(res, `put manifest ${repo}:${reference}`);
    await res.body?.cancel();
    return res.headers.get('docker-content-digest') ?? sha256Digest(body);
  }

  /** A blob by digest (an image config, a layer); undefined when the registry does not hold it. */
  async blob(repo: string, digest: string): Promise<Buffer | undefined> {
    const res = await this.request(`/v2/${repo}/blobs/${digest}`);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) return this.fail(res, `get blob ${repo}@${digest}`);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Uploads a blob in one monolithic PUT; returns its digest. */
  async putBlob(repo: string, data: Buffer): Promise<string> {
    const digest = sha256Digest(data);
    const head = await this.request(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
    if (head.ok) return digest;
    const start = await this.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) return this.fail(start, `start blob upload to ${repo}`);
    await start.body?.cancel();
    const location = start.headers.get('location');
    if (location === null) throw new Error(`blob upload to ${repo}: no Location header`);
    const url = new URL(location, this.access.url);
    url.searchParams.set('digest', digest);
    const put = await this.request(url.toString(), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
    });
    if (put.status !== 201) return this.fail(put, `upload blob to ${repo}`);
    await put.body?.cancel();
    return digest;
  }
}
