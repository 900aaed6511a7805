import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EcrState } from './ecr.js';
import type { RegistryAccess } from './registry-client.js';

/**
 * ECR's registry rules in front of a plain registry v2: a push to a repository that ECR does not
 * know is NAME_UNKNOWN, and a push that would move a tag of an immutable repository is TAG_INVALID
 * (what `docker push` prints as "tag invalid: … cannot be overwritten because the repository is
 * immutable"). Everything else is passed through unchanged, Host header included, so the registry's
 * upload Locations point back here.
 */
export interface RegistryFront {
  url: string;
  host: string;
  stop(): Promise<void>;
}

const MANIFEST_PUT = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const BLOB_UPLOAD = /^\/v2\/(.+)\/blobs\/uploads\/?$/;

function registryError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'docker-distribution-api-version': 'registry/2.0',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

export async function startRegistryFront(
  backend: RegistryAccess,
  ecr: () => EcrState,
): Promise<RegistryFront> {
  const target = new URL(backend.url);
  const expectedAuth = `Basic ${Buffer.from(`${backend.username}:${backend.password}`).toString('base64')}`;

  function forward(req: IncomingMessage, res: ServerResponse, body?: Buffer): void {
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) registryError(res, 502, 'UNAVAILABLE', `registry unreachable: ${err.message}`);
      else res.destroy(err);
    });
    if (body !== undefined) upstream.end(body);
    else req.pipe(upstream);
  }

  /** ECR's checks on a push; true when the request may go on to the registry. */
  async function allowed(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    body?: Buffer,
  ): Promise<boolean> {
    const isManifestPut = req.method === 'PUT' && MANIFEST_PUT.test(path);
    const isUploadStart = req.method === 'POST' && BLOB_UPLOAD.test(path);
    // Unauthenticated requests get the registry's own 401, never our answers.
    if ((!isManifestPut && !isUploadStart) || req.headers.authorization !== expectedAuth) return true;
    const state = ecr();
    if (isManifestPut && state.takePushFailure()) {
      registryError(
        res,
        503,
        'UNAVAILABLE',
        'Service Unavailable: the sandbox registry front failed this push on purpose',
      );
      return false;
    }
    const name = (MANIFEST_PUT.exec(path) ?? BLOB_UPLOAD.exec(path))![1]!;
    const repo = state.repositories.get(name);
    if (!repo) {
      registryError(
        res,
        404,
        'NAME_UNKNOWN',
        `The repository with name '${name}' does not exist in the registry with id '${state.accountId}'`,
      );
      return false;
    }
    const reference = MANIFEST_PUT.exec(path)?.[2];
    if (reference === undefined || reference.startsWith('sha256:') || repo.imageTagMutability !== 'IMMUTABLE')
      return true;
    const images = await state.images(name);
    const current = images.find((i) => i.tags.includes(reference));
    if (current === undefined) return true;
    const digest = body ? `sha256:${createHash('sha256').update(body).digest('hex')}` : undefined;
    if (digest === current.digest) return true;
    registryError(
      res,
      400,
      'TAG_INVALID',
      `The image tag '${reference}' already exists in the '${name}' repository and cannot be overwritten because the repository is immutable.`,
    );
    return false;
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handle = async () => {
      if (req.method === 'PUT' && MANIFEST_PUT.test(path)) {
        // Manifests are small: buffer to compare digests, then send on as is.
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = Buffer.concat(chunks);
        if (await allowed(req, res, path, body)) forward(req, res, body);
        return;
      }
      if (await allowed(req, res, path)) forward(req, res);
    };
    handle().catch((err: unknown) => {
      if (!res.headersSent)
        registryError(res, 500, 'UNKNOWN', err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}`,
    host,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
