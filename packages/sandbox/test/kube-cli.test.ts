/**
 * `pnpm sandbox` as a process: prints the exports once ready, serves the API with the printed token,
 * and stops cleanly (exit 0, kubeconfig dir removed) on SIGINT.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rawRequest } from './helpers/http.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('pnpm sandbox', () => {
  it('prints the shell exports when ready and stops cleanly on Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        './scripts/ts-register.mjs',
        '--experimental-transform-types',
        '--no-warnings',
        'packages/sandbox/src/cli.ts',
        '--http',
        '--time-scale',
        '0.01',
        '--faults',
        '{"latencyMs":1}',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60000;
      while (!stdout.includes('Ctrl-C') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stderr).toBe('');
      const exports = Object.fromEntries(
        [...stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]),
      );
      expect(Object.keys(exports).sort()).toEqual([
        'AWS_ACCESS_KEY_ID',
        'AWS_DEFAULT_REGION',
        'AWS_EC2_METADATA_DISABLED',
        'AWS_ENDPOINT_URL_ECR',
        'AWS_ENDPOINT_URL_EKS',
        'AWS_ENDPOINT_URL_RDS',
        'AWS_ENDPOINT_URL_STS',
        'AWS_REGION',
        'AWS_SECRET_ACCESS_KEY',
        'EKS_CLUSTER_NAME',
        'KUBECONFIG',
        'SANDBOX_APPS_URL',
        'SANDBOX_KUBE_TOKEN',
        'SANDBOX_KUBE_URL',
      ]);
      // EKS DescribeCluster (unsigned here, so refused with the service's own error) proves the AWS side serves.
      const eks = await fetch(`${exports.AWS_ENDPOINT_URL_EKS}/clusters/${exports.EKS_CLUSTER_NAME}`);
      expect(eks.status).toBe(403);
      expect(existsSync(exports.KUBECONFIG!)).toBe(true);
      const ns = await rawRequest(exports.SANDBOX_KUBE_URL!, '/api/v1/namespaces', {
        token: exports.SANDBOX_KUBE_TOKEN!,
      });
      expect(ns.status).toBe(200);
      const faults = await rawRequest(exports.SANDBOX_KUBE_URL!, '/_sandbox/faults');
      expect(faults.json.faults).toMatchObject({ latencyMs: 1 });

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toContain('sandbox: SIGINT, stopping');
      expect(existsSync(exports.KUBECONFIG!)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses bad flags with the usage', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        './scripts/ts-register.mjs',
        '--experimental-transform-types',
        '--no-warnings',
        'packages/sandbox/src/cli.ts',
        '--time-scale',
        'fast',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('sandbox: --time-scale must be a number');
    expect(stderr).toContain('usage: pnpm sandbox');
  });
});
