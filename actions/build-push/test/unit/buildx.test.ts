import { describe, expect, it } from '@jest/globals';
import { buildxAsset, checksumOf, pluginDirectory } from '../../src/buildx.js';

describe('buildx release assets', () => {
  it.each([
    ['linux', 'x64', 'buildx-v0.19.3.linux-amd64'],
    ['linux', 'arm64', 'buildx-v0.19.3.linux-arm64'],
    ['linux', 'arm', 'buildx-v0.19.3.linux-arm-v7'],
    ['darwin', 'arm64', 'buildx-v0.19.3.darwin-arm64'],
    ['win32', 'x64', 'buildx-v0.19.3.windows-amd64.exe'],
  ] as const)('%s/%s → %s', (platform, arch, asset) => {
    expect(buildxAsset('v0.19.3', platform, arch)).toBe(asset);
  });

  it('no release for an unknown platform', () => {
    expect(() => buildxAsset('v0.19.3', 'aix', 'ppc')).toThrow(/no buildx release/);
  });

  it('finds the checksum of exactly that asset', () => {
    const sums = [
      `${'a'.repeat(64)} *buildx-v0.19.3.linux-amd64.json`,
      `${'b'.repeat(64)} *buildx-v0.19.3.linux-amd64`,
      `${'c'.repeat(64)}  buildx-v0.19.3.linux-arm64`,
    ].join('\n');
    expect(checksumOf(sums, 'buildx-v0.19.3.linux-amd64')).toBe('b'.repeat(64));
    expect(checksumOf(sums, 'buildx-v0.19.3.linux-arm64')).toBe('c'.repeat(64));
    expect(checksumOf(sums, 'buildx-v0.19.3.darwin-arm64')).toBeUndefined();
  });

  it('plugins go under DOCKER_CONFIG, else ~/.docker', () => {
    expect(pluginDirectory({ DOCKER_CONFIG: '/cfg' })).toBe('/cfg/cli-plugins');
    expect(pluginDirectory({})).toMatch(/\.docker\/cli-plugins$/);
  });
});
