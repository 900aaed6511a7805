import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { createHash } from 'node:crypto';
import { startAwsSandbox, type AwsSandbox } from '../src/aws/index.js';
import { RegistryClient, RegistryHttpError } from '../src/aws/registry-client.js';
import { registryUnavailableReason, startRegistry, type RegistryInfo } from '../src/registry.js';

// CI sets PLANNER_DEPLOY_REQUIRE_DOCKER=1: there a missing registry fails the tests instead of skipping them.
const unavailable =
  process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1' ? undefined : registryUnavailableReason();
if (unavailable !== undefined) {
  console.warn(`NOTICE: ECR-behind-a-real-registry tests are SKIPPED: ${unavailable}`);
}

function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

type Mode = 'in memory' | 'behind a real registry';
const modes: Mode[] = ['in memory', 'behind a real registry'];

describe.each(modes)('ECR %s, through the real @aws-sdk/client-ecr', (mode) => {
  const skip = mode === 'behind a real registry' && unavailable !== undefined;
  const test = skip ? it.skip : it;
  let registry: RegistryInfo | undefined;
  let sandbox: AwsSandbox;
  let ecr: ECRClient;

  beforeAll(async () => {
    if (skip) return;
    if (mode === 'behind a real registry') {
      registry = await startRegistry({ onUnavailable: (why) => console.error(`registry required: ${why}`) });
      if (!registry) throw new Error('docker-registry is required here (PLANNER_DEPLOY_REQUIRE_DOCKER=1)');
    }
    sandbox = await startAwsSandbox(registry ? { registry } : {});
    ecr = new ECRClient({
      region: sandbox.region,
      endpoint: sandbox.endpoints.ecr,
      credentials: sandbox.credentials,
    });
  });

  afterAll(async () => {
    if (skip) return;
    ecr.destroy();
    await sandbox.stop();
    await registry?.stop();
  });

  test('hands out an authorization token for the registry', async () => {
    const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
    expect(authorizationData).toHaveLength(1);
    const data = authorizationData![0]!;
    const [user, password] = Buffer.from(data.authorizationToken!, 'base64').toString().split(':');
    expect(user).toBe('AWS');
    expect(password!.length).toBeGreaterThan(10);
    const hours = (data.expiresAt!.getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    if (registry) {
      // ECR's front before the registry: same API, ECR's push rules.
      expect(data.proxyEndpoint).toBe(sandbox.registryUrl);
      expect(data.proxyEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(data.proxyEndpoint).not.toBe(registry.url);
      // The token's user and password log in to the real registry.
      const res = await fetch(`${data.proxyEndpoint}/v2/`, {
        headers: { authorization: `Basic ${data.authorizationToken}` },
      });
      expect(res.status).toBe(200);
    } else {
      expect(data.proxyEndpoint).toBe('https://123456789012.dkr.ecr.us-east-1.amazonaws.com');
    }
  });

  test('creates and describes repositories', async () => {
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'planner/app' }));
    const host = registry
      ? new URL(sandbox.registryUrl!).host
      : '123456789012.dkr.ecr.us-east-1.amazonaws.com';
    expect(repository).toMatchObject({
      repositoryName: 'planner/app',
      registryId: '123456789012',
      repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/planner/app',
      repositoryUri: `${host}/planner/app`,
      imageTagMutability: 'MUTABLE',
    });
    expect(repository?.createdAt).toBeInstanceOf(Date);
    const again = await rejection(ecr.send(new CreateRepositoryCommand({ repositoryName: 'planner/app' })));
    expect(again.name).toBe('RepositoryAlreadyExistsException');
    const invalid = await rejection(
      ecr.send(new CreateRepositoryCommand({ repositoryName: 'Planner_App!' })),
    );
    expect(invalid.name).toBe('InvalidParameterException');

    const { repositories } = await ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: ['planner/app'] }),
    );
    expect(repositories?.map((r) => r.repositoryName)).toEqual(['planner/app']);
    const missing = await rejection(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope'] })));
    expect(missing.name).toBe('RepositoryNotFoundException');
    expect(missing.message).toContain("'nope'");
  });

  test('describes images by tag and digest; a missing tag is ImageNotFoundException', async () => {
    const { digest, manifest } = await sandbox.ecr.addImage('planner/app', 'abc1234');
    expect(digest).toBe(digestOf(manifest));
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'planner/app', imageIds: [{ imageTag: 'abc1234' }] }),
    );
    expect(imageDetails).toHaveLength(1);
    expect(imageDetails![0]).toMatchObject({
      registryId: '123456789012',
      repositoryName: 'planner/app',
      imageDigest: digest,
      imageTags: ['abc1234'],
      imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      artifactMediaType: 'application/vnd.docker.container.image.v1+json',
    });
    expect(imageDetails![0]!.imageSizeInBytes).toBeGreaterThan(0);
    expect(imageDetails![0]!.imagePushedAt).toBeInstanceOf(Date);

    const byDigest = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'planner/app', imageIds: [{ imageDigest: digest }] }),
    );
    expect(byDigest.imageDetails?.[0]?.imageTags).toEqual(['abc1234']);

    const missing = await rejection(
      ecr.send(
        new DescribeImagesCommand({ repositoryName: 'planner/app', imageIds: [{ imageTag: 'def5678' }] }),
      ),
    );
    expect(missing.name).toBe('ImageNotFoundException');
    const noRepo = await rejection(ecr.send(new DescribeImagesCommand({ repositoryName: 'nope' })));
    expect(noRepo.name).toBe('RepositoryNotFoundException');
  });

  test('BatchGetImage returns manifests and failures', async () => {
    const other = await sandbox.ecr.addImage('planner/app', 'other');
    const { images: [image] = [] } = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'planner/app', imageIds: [{ imageTag: 'abc1234' }] }),
    );
    expect(image?.imageId?.imageTag).toBe('abc1234');
    expect(digestOf(image!.imageManifest!)).toBe(image?.imageId?.imageDigest);

    const { images, failures } = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'planner/app',
        imageIds: [
          { imageTag: 'not-there' },
          { imageTag: 'abc1234', imageDigest: other.digest },
          { imageTag: 'other' },
        ],
      }),
    );
    expect(images?.map((i) => i.imageId?.imageDigest)).toEqual([other.digest]);
    expect(failures?.map((f) => [f.imageId?.imageTag, f.failureCode])).toEqual([
      ['not-there', 'ImageNotFound'],
      ['abc1234', 'ImageTagDoesNotMatchDigest'],
    ]);
  });

  test('PutImage adds a tag to an existing manifest; the same tag again is ImageAlreadyExistsException', async () => {
    const { images } = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'planner/app', imageIds: [{ imageTag: 'abc1234' }] }),
    );
    const manifest = images![0]!.imageManifest!;
    const put = await ecr.send(
      new PutImageCommand({
        repositoryName: 'planner/app',
        imageManifest: manifest,
        imageTag: 'staging-latest',
      }),
    );
    expect(put.image?.imageId).toEqual({ imageDigest: digestOf(manifest), imageTag: 'staging-latest' });
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({
        repositoryName: 'planner/app',
        imageIds: [{ imageTag: 'staging-latest' }],
      }),
    );
    expect(imageDetails?.[0]?.imageTags).toEqual(['abc1234', 'staging-latest']);
    const again = await rejection(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'planner/app',
          imageManifest: manifest,
          imageTag: 'staging-latest',
        }),
      ),
    );
    expect(again.name).toBe('ImageAlreadyExistsException');

    // A mutable repository lets a tag move to another image.
    const { images: otherImages } = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'planner/app', imageIds: [{ imageTag: 'other' }] }),
    );
    await ecr.send(
      new PutImageCommand({
        repositoryName: 'planner/app',
        imageManifest: otherImages![0]!.imageManifest!,
        imageTag: 'staging-latest',
      }),
    );
    const moved = await ecr.send(
      new DescribeImagesCommand({
        repositoryName: 'planner/app',
        imageIds: [{ imageTag: 'staging-latest' }],
      }),
    );
    expect(moved.imageDetails?.[0]?.imageDigest).toBe(otherImages![0]!.imageId!.imageDigest);

    const wrongDigest = await rejection(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'planner/app',
          imageManifest: manifest,
          imageTag: 'x',
          imageDigest: `sha256:${'0'.repeat(64)}`,
        }),
      ),
    );
    expect(wrongDigest.name).toBe('ImageDigestDoesNotMatchException');
  });

  test('an immutable repository refuses to move a tag', async () => {
    const { repository } = await ecr.send(
      new CreateRepositoryCommand({ repositoryName: 'planner/immutable', imageTagMutability: 'IMMUTABLE' }),
    );
    expect(repository?.imageTagMutability).toBe('IMMUTABLE');
    const first = await sandbox.ecr.addImage('planner/immutable', 'v1.0.0');
    const second = await sandbox.ecr.addImage('planner/immutable', 'v1.0.1');
    const err = await rejection(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'planner/immutable',
          imageManifest: second.manifest,
          imageTag: 'v1.0.0',
        }),
      ),
    );
    expect(err.name).toBe('ImageTagAlreadyExistsException');
    expect(err.message).toContain('cannot be overwritten because the repository is immutable');
    // Nothing moved; a new tag is fine.
    const still = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'planner/immutable', imageIds: [{ imageTag: 'v1.0.0' }] }),
    );
    expect(still.imageDetails?.[0]?.imageDigest).toBe(first.digest);
    await ecr.send(
      new PutImageCommand({
        repositoryName: 'planner/immutable',
        imageManifest: second.manifest,
        imageTag: 'production-latest',
      }),
    );
  });

  test('lists all images, tagged or not, with pagination', async () => {
    const all = await ecr.send(new DescribeImagesCommand({ repositoryName: 'planner/app' }));
    expect(all.imageDetails?.length).toBe(2);
    const page = await ecr.send(new DescribeImagesCommand({ repositoryName: 'planner/app', maxResults: 1 }));
    expect(page.imageDetails).toHaveLength(1);
    expect(page.nextToken).toBeDefined();
    const rest = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'planner/app', maxResults: 1, nextToken: page.nextToken }),
    );
    expect(rest.imageDetails).toHaveLength(1);
    expect(rest.nextToken).toBeUndefined();
  });

  test.each([
    [
      'a wrong secret key',
      { accessKeyId: 'AKIASANDBOX000000001', secretAccessKey: 'wrong' },
      'InvalidSignatureException',
    ],
    [
      'an unknown access key',
      { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'wrong' },
      'UnrecognizedClientException',
    ],
  ])('refuses a request signed with %s', async (_what, credentials, name) => {
    const client = new ECRClient({
      region: 'us-east-1',
      endpoint: sandbox.endpoints.ecr,
      credentials,
      maxAttempts: 1,
    });
    const err = await rejection(client.send(new GetAuthorizationTokenCommand({})));
    expect(err.name).toBe(name);
    client.destroy();
  });

  test('throttles a share of ECR requests; the SDK retries them', async () => {
    const before = sandbox.requests.length;
    sandbox.ecr.setFaults({ throttle: 0.5 });
    try {
      const { repositories } = await ecr.send(
        new DescribeRepositoriesCommand({ repositoryNames: ['planner/app'] }),
      );
      expect(repositories).toHaveLength(1);
    } finally {
      sandbox.ecr.setFaults({ throttle: 0 });
    }
    expect(sandbox.requests.slice(before).map((r) => r.error ?? r.status)).toEqual([
      'ThrottlingException',
      200,
    ]);
  });

  if (mode === 'behind a real registry') {
    test('reflects what was pushed to the registry directly, with the registry digest (OCI too)', async () => {
      const client = new RegistryClient(registry!);
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'pushed' }));
      const config = Buffer.from(
        JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
      );
      const layer = Buffer.from('layer bytes as docker would push them');
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          size: config.length,
          digest: await client.putBlob('pushed', config),
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            size: layer.length,
            digest: await client.putBlob('pushed', layer),
          },
        ],
      });
      const pushedDigest = await client.putManifest(
        'pushed',
        'deadbee',
        manifest,
        'application/vnd.oci.image.manifest.v1+json',
      );

      const { imageDetails } = await ecr.send(
        new DescribeImagesCommand({ repositoryName: 'pushed', imageIds: [{ imageTag: 'deadbee' }] }),
      );
      expect(imageDetails?.[0]).toMatchObject({
        imageDigest: pushedDigest,
        imageTags: ['deadbee'],
        imageSizeInBytes: config.length + layer.length,
        imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      });

      // PutImage writes the new tag into the registry itself.
      await ecr.send(
        new PutImageCommand({
          repositoryName: 'pushed',
          imageManifest: manifest,
          imageTag: 'production-latest',
        }),
      );
      const fromRegistry = await client.manifest('pushed', 'production-latest');
      expect(fromRegistry?.digest).toBe(pushedDigest);
      expect((await client.tags('pushed')).sort()).toEqual(['deadbee', 'production-latest']);
    });

    test("pushes through ECR's front: known repositories only, immutable tags stay put", async () => {
      const front = new RegistryClient({
        url: sandbox.registryUrl!,
        username: registry!.username,
        password: registry!.password,
      });
      const anonymous = await fetch(`${sandbox.registryUrl}/v2/`);
      expect(anonymous.status).toBe(401);

      const unknown = await rejection(front.putBlob('never-created', Buffer.from('x')));
      expect(unknown).toBeInstanceOf(RegistryHttpError);
      expect(unknown).toMatchObject({ status: 404, code: 'NAME_UNKNOWN' });
      expect(unknown.message).toContain("The repository with name 'never-created' does not exist");

      await ecr.send(
        new CreateRepositoryCommand({ repositoryName: 'locked', imageTagMutability: 'IMMUTABLE' }),
      );
      const push = async (content: string, tag: string) => {
        const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', content }));
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          config: {
            mediaType: 'application/vnd.docker.container.image.v1+json',
            size: config.length,
            digest: await front.putBlob('locked', config),
          },
          layers: [],
        });
        return front.putManifest(
          'locked',
          tag,
          manifest,
          'application/vnd.docker.distribution.manifest.v2+json',
        );
      };
      const v1 = await push('one', 'v1.0.0');
      // Pushing the very same image again changes nothing and is allowed.
      expect(await push('one', 'v1.0.0')).toBe(v1);
      const moved = await rejection(push('two', 'v1.0.0'));
      expect(moved).toMatchObject({ status: 400, code: 'TAG_INVALID' });
      expect(moved.message).toContain(
        "The image tag 'v1.0.0' already exists in the 'locked' repository and cannot be overwritten because the repository is immutable.",
      );
      const { imageDetails } = await ecr.send(
        new DescribeImagesCommand({ repositoryName: 'locked', imageIds: [{ imageTag: 'v1.0.0' }] }),
      );
      expect(imageDetails?.[0]?.imageDigest).toBe(v1);
      expect(await push('two', 'v1.0.1')).not.toBe(v1);

      // A transient registry failure: the next push answers 503 once, the one after goes through.
      sandbox.ecr.setFaults({ failPushes: 1 });
      const transient = await rejection(push('three', 'v1.0.2'));
      expect(transient).toMatchObject({ status: 503 });
      expect(await push('three', 'v1.0.2')).toMatch(/^sha256:/);
    });
  }
});
