import { describe, expect, it } from '@jest/globals';
import { startAwsSandbox } from '../src/aws/index.js';
import { registryUnavailableReason, startRegistry } from '../src/registry.js';

// CI sets PLANNER_DEPLOY_REQUIRE_DOCKER=1: there a missing registry fails the tests instead of skipping them.
const unavailable =
  process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1' ? undefined : registryUnavailableReason();
if (unavailable !== undefined) {
  console.warn(`NOTICE: registry tests are SKIPPED: ${unavailable}`);
}
const test = unavailable === undefined ? it : it.skip;

describe('startRegistry (Debian docker-registry with htpasswd auth)', () => {
  test('serves the registry v2 API on loopback behind basic auth, and stops', async () => {
    const registry = await startRegistry({ password: 'ci-pass' });
    expect(registry).toBeDefined();
    const { url, host, username, password } = registry!;
    expect(url).toBe(`http://${host}`);
    expect(host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(username).toBe('AWS');
    expect(password).toBe('ci-pass');
    try {
      const anonymous = await fetch(`${url}/v2/`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
      const wrong = await fetch(`${url}/v2/`, {
        headers: { authorization: `Basic ${Buffer.from('AWS:nope').toString('base64')}` },
      });
      expect(wrong.status).toBe(401);
      const ok = await fetch(`${url}/v2/`, {
        headers: { authorization: `Basic ${Buffer.from('AWS:ci-pass').toString('base64')}` },
      });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    } finally {
      await registry!.stop();
    }
    await expect(fetch(`${url}/v2/`)).rejects.toThrow();
  });

  test('two registries run side by side on different ports', async () => {
    const [a, b] = await Promise.all([startRegistry(), startRegistry()]);
    try {
      expect(a!.host).not.toBe(b!.host);
      expect(a!.password).not.toBe(b!.password);
    } finally {
      await Promise.all([a!.stop(), b!.stop()]);
    }
  });
});

describe("startAwsSandbox({ registry: 'auto' })", () => {
  test('starts its own registry behind ECR and stops it with the sandbox', async () => {
    const aws = await startAwsSandbox({ registry: 'auto' });
    const registry = aws.registry!;
    expect(registry).toBeDefined();
    expect(aws.registryUnavailable).toBeUndefined();
    expect(aws.registryUrl).toBe(aws.ecr.proxyEndpoint);
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(401);
    await aws.stop();
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();
  });

  it('falls back to images in memory, saying why, without the binary', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const aws = await startAwsSandbox({ registry: 'auto' });
      expect(aws.registry).toBeUndefined();
      expect(aws.registryUnavailable).toContain('docker-registry');
      expect(aws.ecr.proxyEndpoint).toBe('https://123456789012.dkr.ecr.us-east-1.amazonaws.com');
      await aws.stop();
    } finally {
      process.env['PATH'] = path;
    }
  });
});

describe('startRegistry without the binary', () => {
  it('returns undefined and says why', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    const reasons: string[] = [];
    try {
      expect(await startRegistry({ onUnavailable: (r) => reasons.push(r) })).toBeUndefined();
    } finally {
      process.env['PATH'] = path;
    }
    expect(reasons).toEqual([expect.stringContaining('docker-registry')]);
  });
});
