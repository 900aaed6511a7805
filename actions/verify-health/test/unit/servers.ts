// Local HTTP/HTTPS servers for the unit tests: loopback only, every request recorded.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A self-signed EC certificate for localhost and 127.0.0.1, valid until 2126 (made once with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 36500`); a test fixture, not a secret.
 */
export const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUKKLAwNvV6ZqgHP+osnReIFjPIp0wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNzE4MzkwMFoYDzIxMjYxMTAz
MTgzOTAwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARuc0RIoAcGIbc5fA9UopwMsxWz/bgbPbigoz5bbCz2pTXWsaY1mWHG
9LY3et7jWNhmBqOJRMReJB8nvpHrB5ifo28wbTAdBgNVHQ4EFgQUwKw+v/JgIran
OswqoUOHuT72mRcwHwYDVR0jBBgwFoAUwKw+v/JgIranOswqoUOHuT72mRcwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIhAJW1PK8Yxxbv2K18aW3X48fvVvmtp/+6z8+J+ml3qNlZAiBN
gP71eOmF05/oNUP1pQ8q3NhV94pcpMrmTTnuJtxjJw==
-----END CERTIFICATE-----`;
export const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcxAt9d0eGQrEQ5XZ
hblDC25eHxCqqwXz/XTnTv9h3RyhRANCAARuc0RIoAcGIbc5fA9UopwMsxWz/bgb
Pbigoz5bbCz2pTXWsaY1mWHG9LY3et7jWNhmBqOJRMReJB8nvpHrB5if
-----END PRIVATE KEY-----`;

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** ms since the server started */
  at: number;
}

export interface LocalServer {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

const open: LocalServer[] = [];

export async function startServer(handler: Handler, options: { tls?: boolean } = {}): Promise<LocalServer> {
  const requests: Recorded[] = [];
  const started = performance.now();
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      at: performance.now() - started,
    });
    handler(req, res, requests.length - 1);
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: TEST_CERT, key: TEST_KEY }, listener)
    : createHttpServer(listener);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // An HTTPS server counts the client's refused handshake as an error; that is what the TLS tests provoke.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const local: LocalServer = {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  open.push(local);
  return local;
}

/** Closes every server started since the last call (for afterEach). */
export async function closeServers(): Promise<void> {
  await Promise.all(open.splice(0).map((server) => server.close()));
}

/** A port on which nothing listens (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
