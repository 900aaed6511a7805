import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A real registry v2 (Debian's docker-registry, Distribution 2.8) on loopback with htpasswd auth. */
export interface RegistryInfo {
  /** http://127.0.0.1:<port> */
  url: string;
  /** 127.0.0.1:<port>: what image names and `docker login` use. */
  host: string;
  username: string;
  password: string;
  /** The registry's log file. */
  logFile: string;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** Where storage, config and logs go; a fresh temporary directory (removed on stop) by default. */
  dir?: string;
  /** default AWS, the user name inside an ECR authorization token. */
  username?: string;
  password?: string;
  /** Told why no registry was started (binary or htpasswd missing). */
  onUnavailable?: (reason: string) => void;
}

/** Finds an executable on the PATH. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why a registry cannot be started here, or undefined when it can. */
export function registryUnavailableReason(): string | undefined {
  if (findExecutable('docker-registry') === undefined) {
    return 'docker-registry is not on the PATH (apt-get install -y docker-registry apache2-utils)';
  }
  if (findExecutable('htpasswd') === undefined) {
    return 'htpasswd is not on the PATH: the registry needs a bcrypt htpasswd file (apt-get install -y apache2-utils)';
  }
  return undefined;
}

/**
 * Why a real docker build and push through the sandbox's ECR cannot run here (undefined: it can): no
 * docker-registry, or no Docker engine answering at DOCKER_HOST (see specs/containers.md).
 */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  const registry = registryUnavailableReason();
  if (registry !== undefined) return registry;
  if (findExecutable('docker') === undefined || !process.env['DOCKER_HOST'])
    return 'no reachable dockerd (start one and set DOCKER_HOST, see specs/containers.md)';
  const answers = await new Promise<boolean>((resolve) =>
    execFile('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 5000 }, (err) =>
      resolve(!err),
    ),
  );
  return answers
    ? undefined
    : 'no reachable dockerd (start one and set DOCKER_HOST, see specs/containers.md)';
}

/** A bcrypt htpasswd line made by `htpasswd -niB`, the password passed on stdin. */
function htpasswdLine(username: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('htpasswd', ['-niB', username], (err, stdout, stderr) => {
      if (err) reject(new Error(`htpasswd failed: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
    child.stdin?.end(`${password}\n`);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForRegistry(url: string, child: ChildProcess, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts Debian's docker-registry on 127.0.0.1:<free port> with htpasswd auth and waits until it
 * answers; undefined (with the reason given to onUnavailable) when the binaries are missing.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RegistryInfo | undefined> {
  const reason = registryUnavailableReason();
  if (reason !== undefined) {
    options.onUnavailable?.(reason);
    return undefined;
  }
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'sandbox-registry-')));
  await mkdir(join(dir, 'storage'), { recursive: true });
  const username = options.username ?? 'AWS';
  const password = options.password ?? randomBytes(18).toString('base64url');
  await writeFile(join(dir, 'htpasswd'), `${await htpasswdLine(username, password)}\n`, { mode: 0o600 });
  const logFile = join(dir, 'registry.log');

  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const url = `http://${host}`;
    // JSON is YAML, and needs no quoting rules for the paths.
    const config = {
      version: 0.1,
      log: { level: 'warn', formatter: 'text' },
      storage: { filesystem: { rootdirectory: join(dir, 'storage') }, delete: { enabled: true } },
      http: { addr: host, headers: { 'X-Content-Type-Options': ['nosniff'] } },
      auth: { htpasswd: { realm: 'sandbox-registry', path: join(dir, 'htpasswd') } },
    };
    const configFile = join(dir, 'registry.yml');
    await writeFile(configFile, JSON.stringify(config, null, 2));
    const log = createWriteStream(logFile, { flags: 'a' });
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('REGISTRY_')) delete env[key];
    const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    if (await waitForRegistry(url, child, Date.now() + 10_000)) {
      return {
        url,
        host,
        username,
        password,
        logFile,
        async stop() {
          await stopChild(child);
          log.end();
          if (ownDir) await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child);
    log.end();
  }
  if (ownDir) await rm(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not start on 127.0.0.1 (see ${logFile})`);
}
