import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ActionFailure, errorMessage, type Logger } from '@planner-deploy/action-kit';
import type { DockerCli } from '@planner-deploy/aws/ecr';

/** Where buildx releases are downloaded from; the env var points tests (or a mirror) elsewhere. */
export const BUILDX_DOWNLOAD_ENV = 'PLANNER_DEPLOY_BUILDX_DOWNLOAD_URL';
const DEFAULT_BASE = 'https://github.com/docker/buildx/releases/download';
const TOOL = 'docker-buildx';

/** The release asset of this runner: buildx-v0.19.3.linux-amd64, …windows-arm64.exe. */
export function buildxAsset(
  version: string,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): string {
  const os = platform === 'win32' ? 'windows' : platform;
  const cpu = (
    {
      x64: 'amd64',
      arm64: 'arm64',
      arm: 'arm-v7',
      ppc64: 'ppc64le',
      s390x: 's390x',
      riscv64: 'riscv64',
    } as Record<string, string>
  )[arch];
  if (cpu === undefined || !['linux', 'darwin', 'windows'].includes(os)) {
    throw new ActionFailure('buildx not available', `There is no buildx release for ${platform}/${arch}.`);
  }
  return `buildx-${version}.${os}-${cpu}${os === 'windows' ? '.exe' : ''}`;
}

/** The sha256 of `asset` in a release's checksums.txt (`<hex>  *<asset>` lines). */
export function checksumOf(checksums: string, asset: string): string | undefined {
  for (const line of checksums.split(/\r?\n/)) {
    const match = /^([0-9a-f]{64})\s+\*?(\S+)$/.exec(line.trim());
    if (match && match[2] === asset) return match[1];
  }
  return undefined;
}

/** Docker looks for CLI plugins in $DOCKER_CONFIG/cli-plugins (default ~/.docker/cli-plugins). */
export function pluginDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG?.trim() || join(homedir(), '.docker'), 'cli-plugins');
}

/**
 * Installs buildx `version` for a docker that has no buildx plugin: from the runner's tool cache when an earlier
 * job put it there, else downloaded (checksum verified) and cached; then linked as docker's CLI plugin.
 */
export async function ensureBuildx(version: string, docker: DockerCli, logger: Logger): Promise<void> {
  const tc = await import('@actions/tool-cache');
  const semver = version.replace(/^v/, '');
  const asset = buildxAsset(version);
  const file = asset.endsWith('.exe') ? `${TOOL}.exe` : TOOL;
  let dir = tc.find(TOOL, semver);
  if (dir !== '') {
    logger.info(`buildx ${version} found in the tool cache (${dir}).`);
  } else {
    const base = (process.env[BUILDX_DOWNLOAD_ENV]?.trim() || DEFAULT_BASE).replace(/\/+$/, '');
    const url = `${base}/${version}/${asset}`;
    logger.info(`This docker has no buildx plugin: installing buildx ${version} from ${url}.`);
    let downloaded: string;
    let checksums: string;
    try {
      downloaded = await tc.downloadTool(url);
      const sums = await tc.downloadTool(`${base}/${version}/checksums.txt`);
      checksums = await readFile(sums, 'utf8');
      await rm(sums, { force: true });
    } catch (error) {
      throw new ActionFailure(
        'buildx download failed',
        `Could not download buildx ${version} (${url}): ${errorMessage(error)}. Check that the release exists (input "buildx-version").`,
      );
    }
    const expected = checksumOf(checksums, asset);
    const actual = createHash('sha256')
      .update(await readFile(downloaded))
      .digest('hex');
    if (expected === undefined || expected !== actual) {
      await rm(downloaded, { force: true });
      throw new ActionFailure(
        'buildx checksum mismatch',
        `buildx ${version} (${asset}) does not match its release checksum (${expected === undefined ? 'not listed in checksums.txt' : `expected ${expected}, got ${actual}`}); it was not installed.`,
      );
    }
    dir = await tc.cacheFile(downloaded, file, TOOL, semver);
    await rm(downloaded, { force: true });
    logger.info(`buildx ${version} cached in ${dir}.`);
  }
  const plugins = pluginDirectory(docker.env);
  await mkdir(plugins, { recursive: true });
  const target = join(plugins, file);
  await copyFile(join(dir, file), target);
  await chmod(target, 0o755);
}
