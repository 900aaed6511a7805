import { afterEach, describe, expect, it } from '@jest/globals';
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ImageAlreadyExistsException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  PutImageCommand,
  RepositoryAlreadyExistsException,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { MemoryLogger } from '@planner-deploy/core';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createEcrContext,
  decodeAuthorizationToken,
  describeImage,
  findRepository,
  getRegistryLogin,
  hostOfEndpoint,
  lookupTags,
  putTag,
  type EcrContext,
} from '../src/ecr-client.js';

const ecr = mockClient(ECRClient);
afterEach(() => {
  ecr.reset();
});

async function context(registryId?: string): Promise<EcrContext> {
  return createEcrContext({
    region: 'eu-west-1',
    registryId,
    logger: new MemoryLogger(),
    credentials: () => Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
  });
}

const meta = { $metadata: {} };
const DIGEST = `sha256:${'c'.repeat(64)}`;

describe('authorization token', () => {
  it('masks the token and then the password before returning them', () => {
    const masked: string[] = [];
    const token = Buffer.from('AWS:s3cr3t:with:colons').toString('base64');
    expect(decodeAuthorizationToken(token, (s) => masked.push(s))).toEqual({
      username: 'AWS',
      password: 's3cr3t:with:colons',
    });
    expect(masked).toEqual([token, 's3cr3t:with:colons']);
  });

  it.each(['', Buffer.from('no-colon').toString('base64'), Buffer.from('AWS:').toString('base64')])(
    'refuses a malformed token %j',
    (token) => {
      expect(() => decodeAuthorizationToken(token, () => undefined)).toThrow(/user:password/);
    },
  );

  it('GetAuthorizationToken names the registry and gives the proxy host', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:pw').toString('base64'),
          proxyEndpoint: 'https://111122223333.dkr.ecr.eu-west-1.amazonaws.com',
          expiresAt: new Date(0),
        },
      ],
    });
    const masked: string[] = [];
    const login = await getRegistryLogin(await context('111122223333'), (s) => masked.push(s));
    expect(login).toMatchObject({
      username: 'AWS',
      password: 'pw',
      host: '111122223333.dkr.ecr.eu-west-1.amazonaws.com',
    });
    expect(masked).toContain('pw');
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)[0]!.args[0].input).toEqual({
      registryIds: ['111122223333'],
    });
  });

  it('fails when ECR returns no authorization data', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
    await expect(getRegistryLogin(await context(), () => undefined)).rejects.toThrow(/no authorization data/);
  });

  it.each([
    ['https://1.dkr.ecr.eu-west-1.amazonaws.com', '1.dkr.ecr.eu-west-1.amazonaws.com'],
    ['http://127.0.0.1:5000', '127.0.0.1:5000'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000'],
  ])('hostOfEndpoint(%s)', (endpoint, host) => {
    expect(hostOfEndpoint(endpoint)).toBe(host);
  });
});

describe('findRepository', () => {
  it('reads the tag mutability and its exclusion filters', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [
        {
          repositoryName: 'planner/app',
          repositoryUri: 'x/planner/app',
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: '*-latest' }],
        },
      ],
    });
    expect(await findRepository(await context(), 'planner/app', false)).toEqual({
      name: 'planner/app',
      uri: 'x/planner/app',
      mutability: { mode: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['*-latest'] },
      created: false,
    });
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0);
  });

  it('undefined when missing and create is off', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(new RepositoryNotFoundException({ message: 'nope', ...meta }));
    expect(await findRepository(await context(), 'planner/app', false)).toBeUndefined();
  });

  it('creates a missing repository with scan on push', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(new RepositoryNotFoundException({ message: 'nope', ...meta }));
    ecr.on(CreateRepositoryCommand).resolves({ repository: { repositoryName: 'planner/app' } });
    const repo = await findRepository(await context('111122223333'), 'planner/app', true);
    expect(repo).toMatchObject({ created: true, mutability: { mode: 'MUTABLE', exclusions: [] } });
    expect(ecr.commandCalls(CreateRepositoryCommand)[0]!.args[0].input).toEqual({
      registryId: '111122223333',
      repositoryName: 'planner/app',
      imageScanningConfiguration: { scanOnPush: true },
    });
  });

  it('adopts a repository another job created in between', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejectsOnce(new RepositoryNotFoundException({ message: 'nope', ...meta }))
      .resolves({ repositories: [{ repositoryName: 'planner/app', imageTagMutability: 'IMMUTABLE' }] });
    ecr
      .on(CreateRepositoryCommand)
      .rejects(new RepositoryAlreadyExistsException({ message: 'exists', ...meta }));
    expect(await findRepository(await context(), 'planner/app', true)).toMatchObject({
      created: false,
      mutability: { mode: 'IMMUTABLE' },
    });
  });

  it('other errors are thrown', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    ecr.on(DescribeRepositoriesCommand).rejects(denied);
    await expect(findRepository(await context(), 'planner/app', true)).rejects.toThrow('not authorized');
  });
});

describe('lookupTags', () => {
  it('maps each existing tag to its image; missing tags are absent', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [
        {
          imageId: { imageTag: 'abc', imageDigest: DIGEST },
          imageManifest: '{}',
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
      ],
      failures: [{ imageId: { imageTag: 'staging-latest' }, failureCode: 'ImageNotFound' }],
    });
    const found = await lookupTags(await context(), 'planner/app', ['abc', 'staging-latest']);
    expect([...found.entries()]).toEqual([
      ['abc', { digest: DIGEST, manifest: '{}', mediaType: 'application/vnd.oci.image.manifest.v1+json' }],
    ]);
    const input = ecr.commandCalls(BatchGetImageCommand)[0]!.args[0].input;
    expect(input.imageIds).toEqual([{ imageTag: 'abc' }, { imageTag: 'staging-latest' }]);
    expect(input.acceptedMediaTypes).toContain('application/vnd.oci.image.index.v1+json');
  });

  it('asks at most 100 tags per request', async () => {
    ecr.on(BatchGetImageCommand).resolves({ images: [], failures: [] });
    const tags = Array.from({ length: 150 }, (_, i) => `t${i}`);
    await lookupTags(await context(), 'planner/app', tags);
    const calls = ecr.commandCalls(BatchGetImageCommand);
    expect(calls.map((c) => c.args[0].input.imageIds?.length)).toEqual([100, 50]);
  });

  it('a failure other than not found is an error', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [{ imageId: { imageTag: 'x' }, failureCode: 'KmsError', failureReason: 'key disabled' }],
    });
    await expect(lookupTags(await context(), 'planner/app', ['x'])).rejects.toThrow(/KmsError key disabled/);
  });
});

describe('putTag', () => {
  const image = {
    digest: DIGEST,
    manifest: '{"schemaVersion":2}',
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
  };

  it('PutImage with the existing manifest and its digest', async () => {
    ecr.on(PutImageCommand).resolves({});
    expect(await putTag(await context('111122223333'), 'planner/app', image, 'prod-latest')).toBe('added');
    expect(ecr.commandCalls(PutImageCommand)[0]!.args[0].input).toEqual({
      registryId: '111122223333',
      repositoryName: 'planner/app',
      imageManifest: image.manifest,
      imageManifestMediaType: image.mediaType,
      imageDigest: DIGEST,
      imageTag: 'prod-latest',
    });
  });

  it('a tag already on that manifest is unchanged', async () => {
    ecr.on(PutImageCommand).rejects(new ImageAlreadyExistsException({ message: 'exists', ...meta }));
    expect(await putTag(await context(), 'planner/app', image, 'x')).toBe('unchanged');
  });

  it('an immutable tag on another image is an error', async () => {
    ecr.on(PutImageCommand).rejects(new ImageTagAlreadyExistsException({ message: 'immutable', ...meta }));
    await expect(putTag(await context(), 'planner/app', image, 'x')).rejects.toThrow('immutable');
  });
});

describe('describeImage', () => {
  it('size and tags by digest', async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [{ imageDigest: DIGEST, imageSizeInBytes: 1234, imageTags: ['a', 'b'] }],
    });
    expect(await describeImage(await context(), 'planner/app', { digest: DIGEST })).toEqual({
      digest: DIGEST,
      sizeInBytes: 1234,
      tags: ['a', 'b'],
      pushedAt: undefined,
    });
    expect(ecr.commandCalls(DescribeImagesCommand)[0]!.args[0].input.imageIds).toEqual([
      { imageDigest: DIGEST },
    ]);
  });

  it('undefined when the image is not found', async () => {
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'nope', ...meta }));
    expect(await describeImage(await context(), 'planner/app', { tag: 'x' })).toBeUndefined();
  });
});
