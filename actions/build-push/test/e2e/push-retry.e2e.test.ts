// Transient push errors through the dist: a proxy in front of the sandbox's registry answers the first manifest
// upload with 503 (as a registry under load does); the action pushes again and succeeds. A refusal (403) is not
// retried. The proxy is named as the registry URI, so docker logs in and pushes through it while the ECR API
// calls still go to the sandbox.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStep } from '@planner-deploy/runner-harness';
import {
  ACTION,
  REQUIRE_DOCKER,
  dockerUnavailable,
  makeWorkspace,
  newSha,
  registryDigest,
  runAction,
  startCloud,
  type Cloud,
} from './environment.js';

const reason = await dockerUnavailable();
if (reason !== undefined && !REQUIRE_DOCKER) {
  console.warn(`NOTICE: build-push push retry tests are SKIPPED: ${reason}`);
}
const test = reason === undefined || REQUIRE_DOCKER ? it : it.skip;

type Fault = { status: number; body: string } | undefined;

describe('push retries through a flaky registry', () => {
  let cloud: Cloud;
  let proxy: Server;
  let proxyHost: string;
  /** Answers for the next manifest PUTs, in order; then requests pass. */
  const faults: Fault[] = [];
  let manifestPuts = 0;

  beforeAll(async () => {
    if (reason !== undefined) {
      if (REQUIRE_DOCKER) throw new Error(`PLANNER_DEPLOY_REQUIRE_DOCKER=1 but ${reason}`);
      return;
    }
    cloud = await startCloud();
    cloud.sandbox.ecr.createRepository('planner/app');
    const target = new URL(cloud.sandbox.registryUrl as string);
    proxy = createServer((req, res) => {
      if (req.method === 'PUT' && /\/manifests\//.test(req.url ?? '')) {
        manifestPuts += 1;
        const fault = faults.shift();
        if (fault !== undefined) {
          req.resume();
          res.writeHead(fault.status, { 'content-type': 'application/json' });
          res.end(fault.body);
          return;
        }
      }
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (reason !== undefined) return;
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    await cloud.stop();
  });

  test('a 503 on the push is retried and the image lands with the digest the registry holds', async () => {
    faults.push({ status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}' });
    manifestPuts = 0;
    const workspace = await makeWorkspace('flaky push');
    const sha = newSha();
    const result = await runAction({
      cloud,
      workspace,
      sha,
      inputs: { repository: 'planner/app', registry: proxyHost },
    });
    await rm(workspace, { recursive: true, force: true });
    expect(result.exitCode).toBe(0);
    expect(manifestPuts).toBeGreaterThanOrEqual(2);
    const warnings = result.annotations.filter((a) => a.level === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/docker push failed \(attempt 1 of 4\).*trying again/);
    expect(result.outputs.digest).toBe(await registryDigest(cloud.registry, 'planner/app', sha));
    expect(result.outputs.image).toBe(`${proxyHost}/planner/app@${result.outputs.digest}`);
  });

  test('a refusal is not retried: one push, a clear error, no tag changed', async () => {
    faults.push({
      status: 403,
      body: '{"errors":[{"code":"DENIED","message":"User is not authorized to perform: ecr:PutImage"}]}',
    });
    manifestPuts = 0;
    const workspace = await makeWorkspace('refused push');
    const sha = newSha();
    const result = await runAction({
      cloud,
      workspace,
      sha,
      inputs: { repository: 'planner/app', registry: proxyHost, environment: 'refused' },
    });
    await rm(workspace, { recursive: true, force: true });
    expect(result.exitCode).toBe(1);
    expect(manifestPuts).toBe(1);
    expect(result.annotations).toHaveLength(1);
    expect(result.annotations[0]!.title).toBe('Push failed');
    expect(result.annotations[0]!.message).toMatch(/denied|not authorized/i);
    expect(await registryDigest(cloud.registry, 'planner/app', sha)).toBeUndefined();
    expect(await registryDigest(cloud.registry, 'planner/app', 'refused-latest')).toBeUndefined();
    faults.length = 0;
  });

  test('a cancel during the push stops within the grace, says what it left, and the post step logs out', async () => {
    faults.push({ status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}' });
    manifestPuts = 0;
    const workspace = await makeWorkspace('cancelled push');
    const sha = newSha();
    const result = await runStep({
      action: ACTION,
      workspace,
      inputs: { repository: 'planner/app', registry: proxyHost, context: 'app', environment: 'cancelled' },
      env: {
        ...cloud.sandbox.env(),
        DOCKER_HOST: process.env['DOCKER_HOST'],
        DOCKER_CONFIG: await mkdtemp(join(tmpdir(), 'build-push-docker-config-')),
        GITHUB_SHA: sha,
      },
      cancel: { whenLog: /The push refers to repository/ },
    });
    await rm(workspace, { recursive: true, force: true });
    faults.length = 0;
    expect(result.cancelledAtMs).toBeDefined();
    expect(result.exitCode).toBe(1);
    expect(result.exitAfterCancelMs).toBeLessThan(6500);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.title).toBe('Cancelled');
    expect(errors[0]!.message).toContain('Cancelled during the push');
    expect(errors[0]!.message).toContain(`${proxyHost}/planner/app:${sha}`);
    // No retry after the cancel, and no other tag was touched.
    expect(manifestPuts).toBeLessThanOrEqual(1);
    expect(await registryDigest(cloud.registry, 'planner/app', 'cancelled-latest')).toBeUndefined();
    expect(result.post?.log).toContain(`Logged out of ${proxyHost}`);
  });
});
