// buildx-version on a docker without the buildx plugin: the dist downloads the release from a local HTTP server
// (PLANNER_DEPLOY_BUILDX_DOWNLOAD_URL) serving a stand-in plugin, checks its checksum, caches it in the runner's
// tool cache and builds through `docker buildx build --push`. The stand-in records its arguments and does the
// build and push with the legacy builder, so the image really lands in the registry behind the sandbox ECR.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@planner-deploy/runner-harness';
import {
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
  console.warn(`NOTICE: build-push buildx install tests are SKIPPED: ${reason}`);
}
const test = reason === undefined || REQUIRE_DOCKER ? it : it.skip;

const VERSION = 'v0.99.0';
const ARCH = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
const ASSET = `buildx-${VERSION}.linux-${ARCH}`;

/** A stand-in docker-buildx: answers docker's plugin handshake, `buildx version` and `buildx build`. */
const STAND_IN = `#!/bin/sh
if [ "$1" = docker-cli-plugin-metadata ]; then
  echo '{"SchemaVersion":"0.1.0","Vendor":"planner-deploy tests","Version":"${VERSION}","ShortDescription":"buildx stand-in"}'
  exit 0
fi
shift
echo "$*" >> "$BUILDX_STANDIN_LOG"
case "$1" in
  version) echo "github.com/docker/buildx ${VERSION} stand-in"; exit 0 ;;
  inspect) printf 'Name:   default\\nDriver: docker\\n'; exit 0 ;;
  build) shift ;;
  *) echo "stand-in: unsupported buildx $1" >&2; exit 1 ;;
esac
tag=; file=; target=; push=; context=
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --file) file=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --push) push=1; shift ;;
    --load|--provenance=false) shift ;;
    --metadata-file|--label|--build-arg|--platform|--secret|--cache-from|--cache-to) shift 2 ;;
    *) context=$1; shift ;;
  esac
done
export DOCKER_BUILDKIT=0
docker build -q \${file:+--file "$file"} \${target:+--target "$target"} --tag "$tag" "$context" || exit 1
if [ -n "$push" ]; then docker push "$tag" || exit 1; fi
`;

describe('buildx-version installs buildx into the tool cache when docker has none', () => {
  let cloud: Cloud;
  let server: TestServer;
  let checksum = createHash('sha256').update(STAND_IN).digest('hex');
  let work: string;

  beforeAll(async () => {
    if (reason !== undefined) {
      if (REQUIRE_DOCKER) throw new Error(`PLANNER_DEPLOY_REQUIRE_DOCKER=1 but ${reason}`);
      return;
    }
    cloud = await startCloud();
    cloud.sandbox.ecr.createRepository('planner/app');
    work = await mkdtemp(join(tmpdir(), 'buildx-install-'));
    server = await startTestServer((req, res) => {
      if (req.url === `/${VERSION}/${ASSET}`) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(STAND_IN);
      } else if (req.url === `/${VERSION}/checksums.txt`) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${'0'.repeat(64)} *buildx-${VERSION}.darwin-arm64\n${checksum} *${ASSET}\n`);
      } else {
        res.writeHead(404);
        res.end('not found');
      }
    });
  });

  afterAll(async () => {
    if (reason !== undefined) return;
    await server.close();
    await cloud.stop();
    await rm(work, { recursive: true, force: true });
  });

  test('downloads, verifies and caches buildx, then builds and pushes with docker buildx build', async () => {
    const toolCache = join(work, 'tool-cache');
    const standInLog = join(work, 'standin.log');
    const workspace = await makeWorkspace('built by buildx');
    const env = {
      PLANNER_DEPLOY_BUILDX_DOWNLOAD_URL: `${server.url}/`,
      RUNNER_TOOL_CACHE: toolCache,
      BUILDX_STANDIN_LOG: standInLog,
    };
    const sha = newSha();
    const result = await runAction({
      cloud,
      workspace,
      sha,
      inputs: { repository: 'planner/app', 'buildx-version': VERSION, cache: 'none', target: 'production' },
      env,
    });
    expect(result.annotations).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(server.requests.map((r) => r.url)).toEqual([`/${VERSION}/${ASSET}`, `/${VERSION}/checksums.txt`]);
    const cached = join(toolCache, 'docker-buildx', '0.99.0', process.arch, 'docker-buildx');
    expect(await readFile(cached, 'utf8')).toBe(STAND_IN);
    expect(existsSync(join(result.dockerConfig, 'cli-plugins', 'docker-buildx'))).toBe(true);

    const calls = (await readFile(standInLog, 'utf8')).trim().split('\n');
    const build = calls.find((line) => line.startsWith('build '));
    expect(build).toBeDefined();
    expect(build).toContain(`--tag ${cloud.host}/planner/app:${sha}`);
    expect(build).toContain('--push');
    expect(build).toContain('--provenance=false');
    expect(build).toContain('--target production');
    expect(build).toContain('--metadata-file');
    expect(result.outputs.built).toBe('true');
    expect(result.outputs.digest).toBe(await registryDigest(cloud.registry, 'planner/app', sha));
    expect(result.summary).toContain('docker buildx');

    // A second job on the same runner finds buildx in the tool cache: no download.
    const again = await runAction({
      cloud,
      workspace,
      sha: newSha(),
      inputs: { repository: 'planner/app', 'buildx-version': '0.99.0' },
      env,
    });
    expect(again.exitCode).toBe(0);
    expect(server.requests).toHaveLength(2);
    expect(again.log).toContain('found in the tool cache');
    // The default cache (gha) is dropped with a reason: the stand-in builder uses buildx's docker driver.
    expect(again.log).toMatch(/docker" driver cannot export a cache/);
    const secondBuild = (await readFile(standInLog, 'utf8'))
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('build '))
      .at(-1);
    expect(secondBuild).not.toContain('--cache-to');
    await rm(workspace, { recursive: true, force: true });
  });

  test('a download that does not match the release checksum is not installed', async () => {
    const good = checksum;
    checksum = 'f'.repeat(64);
    try {
      const workspace = await makeWorkspace('tampered');
      const sha = newSha();
      const result = await runAction({
        cloud,
        workspace,
        sha,
        inputs: { repository: 'planner/app', 'buildx-version': VERSION },
        env: {
          PLANNER_DEPLOY_BUILDX_DOWNLOAD_URL: server.url,
          RUNNER_TOOL_CACHE: join(work, 'other-tool-cache'),
          BUILDX_STANDIN_LOG: join(work, 'tampered.log'),
        },
      });
      expect(result.exitCode).toBe(1);
      expect(result.annotations[0]!.title).toBe('buildx checksum mismatch');
      expect(existsSync(join(result.dockerConfig, 'cli-plugins', 'docker-buildx'))).toBe(false);
      expect(existsSync(join(work, 'other-tool-cache', 'docker-buildx'))).toBe(false);
      expect(await registryDigest(cloud.registry, 'planner/app', sha)).toBeUndefined();
      await rm(workspace, { recursive: true, force: true });
    } finally {
      checksum = good;
    }
  });
});
