// The apps' health endpoints report the version the running image carries — APP_VERSION of its config as
// the registry holds it (the Planner app's Dockerfile bakes the commit in) — not a version derived from the
// tag: a deploy by digest reports the commit, and a tag that names another commit's image reports that one.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDeployment, waitForDeploymentReady } from '../src/fixtures.js';
import { startCloud, type Cloud } from '../src/cloud.js';
import { registryUnavailableReason } from '../src/registry.js';
import { readImageConfig } from '../src/aws/ecr-images.js';

const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

const realRegistry =
  process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1' ? undefined : registryUnavailableReason();
if (realRegistry !== undefined) console.warn(`NOTICE: the real-registry case is SKIPPED: ${realRegistry}`);

const stores: Array<['memory' | 'registry', 'none' | 'auto']> = [['memory', 'none']];
if (realRegistry === undefined) stores.push(['registry', 'auto']);

describe.each(stores)('apps endpoint version from the image config (%s store)', (_name, registry) => {
  let cloud: Cloud;
  let uri: string;

  beforeAll(async () => {
    cloud = await startCloud({ registry, timeScale: 0.01, github: false });
    uri = `${cloud.aws.ecr.registryHost}/planner-app`;
  });

  afterAll(async () => {
    await cloud.stop();
  });

  async function health(namespace: string): Promise<Record<string, unknown>> {
    await waitForDeploymentReady(cloud.kube, 'planner-app', namespace);
    const res = await fetch(cloud.kube.appUrl(namespace, 'planner-app', '/api/health'));
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  it('a deploy by digest reports the commit baked into that image', async () => {
    const built = await cloud.aws.ecr.addImage('planner-app', SHA_A, undefined, {
      env: { APP_VERSION: SHA_A },
    });
    createDeployment(cloud.kube, {
      name: 'planner-app',
      namespace: 'by-digest',
      image: `${uri}@${built.digest}`,
    });
    const body = await health('by-digest');
    expect(body['version']).toBe(SHA_A);
    expect(body['status']).toBe('ok');
  });

  it('a tag reports the commit of the image it names, not the tag', async () => {
    await cloud.aws.ecr.addImage('planner-app', 'hotfix-bbbbbbb', undefined, { env: { APP_VERSION: SHA_B } });
    createDeployment(cloud.kube, {
      name: 'planner-app',
      namespace: 'by-tag',
      image: `${uri}:hotfix-bbbbbbb`,
    });
    expect((await health('by-tag'))['version']).toBe(SHA_B);
  });

  it("ECR's canonical host name (<account>.dkr.ecr.<region>.amazonaws.com) names the same images", async () => {
    await cloud.aws.ecr.addImage('planner-app', 'v1.2.3', undefined, { env: { APP_VERSION: SHA_A } });
    const { accountId, region } = cloud.aws.ecr;
    createDeployment(cloud.kube, {
      name: 'planner-app',
      namespace: 'canonical',
      image: `${accountId}.dkr.ecr.${region}.amazonaws.com/planner-app:v1.2.3`,
    });
    expect((await health('canonical'))['version']).toBe(SHA_A);
  });

  it('an image without APP_VERSION, or outside the sandbox registry, reports its tag', async () => {
    await cloud.aws.ecr.addImage('planner-app', 'no-version', undefined, { labels: { tier: 'x' } });
    createDeployment(cloud.kube, {
      name: 'planner-app',
      namespace: 'unlabelled',
      image: `${uri}:no-version`,
    });
    expect((await health('unlabelled'))['version']).toBe('no-version');
    createDeployment(cloud.kube, { name: 'planner-app', namespace: 'elsewhere', image: 'nginx:1.25' });
    expect((await health('elsewhere'))['version']).toBe('1.25');
  });

  it("the container's own APP_VERSION wins over the image's, as env does in Kubernetes", async () => {
    createDeployment(cloud.kube, {
      name: 'planner-app',
      namespace: 'own-env',
      image: `${uri}:${SHA_A}`,
      env: [{ name: 'APP_VERSION', value: 'pinned' }],
    });
    expect((await health('own-env'))['version']).toBe('pinned');
  });

  it('seeded images report their tag as the version they were built for', async () => {
    await cloud.aws.ecr.addImage('planner-app', 'v1.0.0');
    createDeployment(cloud.kube, { name: 'planner-app', namespace: 'seeded', image: `${uri}:v1.0.0` });
    expect((await health('seeded'))['version']).toBe('v1.0.0');
  });
});

describe('readImageConfig', () => {
  const config = (env: string[]) => Buffer.from(JSON.stringify({ config: { Env: env, Labels: { a: 'b' } } }));
  const blobs = new Map([
    ['sha256:c-amd64', config(['PATH=/bin', 'APP_VERSION=amd', 'X=a=b'])],
    ['sha256:c-arm64', config(['APP_VERSION=arm'])],
  ]);
  const manifests = new Map<string, string>([
    [
      'multi',
      JSON.stringify({
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { digest: 'sha256:m-arm64', platform: { os: 'linux', architecture: 'arm64' } },
          { digest: 'sha256:m-amd64', platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }),
    ],
    ['sha256:m-amd64', JSON.stringify({ config: { digest: 'sha256:c-amd64' } })],
    ['sha256:m-arm64', JSON.stringify({ config: { digest: 'sha256:c-arm64' } })],
    ['no-config', JSON.stringify({ layers: [] })],
    ['not-json', 'garbage'],
    ['lost-blob', JSON.stringify({ config: { digest: 'sha256:gone' } })],
  ]);
  const store = {
    manifest: (_repo: string, reference: string) => Promise.resolve(manifests.get(reference)),
    blob: (_repo: string, digest: string) => Promise.resolve(blobs.get(digest)),
  };

  it("takes an index's linux/amd64 image, and reads Env as docker does (first = splits)", async () => {
    expect(await readImageConfig(store, 'app', 'multi')).toEqual({
      env: { PATH: '/bin', APP_VERSION: 'amd', X: 'a=b' },
      labels: { a: 'b' },
    });
  });

  it.each(['no-config', 'not-json', 'lost-blob', 'unknown'])('%s: no config, undefined', async (ref) => {
    expect(await readImageConfig(store, 'app', ref)).toBeUndefined();
  });
});
