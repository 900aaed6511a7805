/** ECR's DescribeImages, BatchGetImage and PutImage over the images of an EcrState. */
import { EcrError, optionalString, paginate, requiredString, type EcrState } from './ecr.js';
import { manifestMediaType, type EcrImage } from './ecr-images.js';
import { sha256Digest } from './registry-client.js';

interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

function findImage(images: EcrImage[], id: ImageId): EcrImage | undefined {
  return images.find(
    (i) =>
      (id.imageDigest === undefined || i.digest === id.imageDigest) &&
      (id.imageTag === undefined || i.tags.includes(id.imageTag)),
  );
}

function imageIdsParam(input: any, required: boolean): ImageId[] | undefined {
  const ids = input?.imageIds as unknown;
  if (ids === undefined) {
    if (required)
      throw new EcrError(
        'InvalidParameterException',
        "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must not be null'",
      );
    return undefined;
  }
  if (!Array.isArray(ids)) throw new EcrError('InvalidParameterException', "Invalid parameter at 'imageIds'");
  return ids.map((id: any) => ({
    ...(typeof id?.imageDigest === 'string' ? { imageDigest: id.imageDigest as string } : {}),
    ...(typeof id?.imageTag === 'string' ? { imageTag: id.imageTag as string } : {}),
  }));
}

export async function describeImages(state: EcrState, input: any): Promise<Record<string, unknown>> {
  const repo = state.repository(
    requiredString(input, 'repositoryName'),
    optionalString(input, 'registryId'),
  ).name;
  const images = await state.images(repo);
  let details: { image: EcrImage; tag?: string }[];
  const ids = imageIdsParam(input, false);
  if (ids !== undefined) {
    details = ids.map((id) => {
      const image = findImage(images, id);
      if (!image) {
        throw new EcrError(
          'ImageNotFoundException',
          `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo}' in the registry with id '${state.accountId}'`,
        );
      }
      return { image };
    });
  } else {
    const tagStatus = (input?.filter?.tagStatus as string | undefined) ?? 'ANY';
    details = images
      .filter(
        (i) => tagStatus === 'ANY' || (tagStatus === 'TAGGED' ? i.tags.length > 0 : i.tags.length === 0),
      )
      .map((image) => ({ image }));
  }
  const { items, nextToken } = paginate(details, input, 1000);
  return {
    imageDetails: items.map(({ image }) => ({
      registryId: state.accountId,
      repositoryName: repo,
      imageDigest: image.digest,
      ...(image.tags.length > 0 ? { imageTags: [...image.tags].sort() } : {}),
      imageSizeInBytes: image.sizeInBytes,
      imagePushedAt: image.pushedAt.getTime() / 1000,
      imageManifestMediaType: image.mediaType,
      ...(image.artifactMediaType !== undefined ? { artifactMediaType: image.artifactMediaType } : {}),
    })),
    ...(nextToken !== undefined ? { nextToken } : {}),
  };
}

export async function batchGetImage(state: EcrState, input: any): Promise<Record<string, unknown>> {
  const repo = state.repository(
    requiredString(input, 'repositoryName'),
    optionalString(input, 'registryId'),
  ).name;
  const ids = imageIdsParam(input, true) ?? [];
  const images = await state.images(repo);
  const found: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const id of ids) {
    if (id.imageDigest === undefined && id.imageTag === undefined) {
      failures.push({
        imageId: id,
        failureCode: 'MissingDigestAndTag',
        failureReason: 'Missing image digest and tag',
      });
      continue;
    }
    if (id.imageDigest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(id.imageDigest)) {
      failures.push({
        imageId: id,
        failureCode: 'InvalidImageDigest',
        failureReason: 'Invalid image digest',
      });
      continue;
    }
    const byDigest =
      id.imageDigest !== undefined ? images.find((i) => i.digest === id.imageDigest) : undefined;
    if (
      id.imageDigest !== undefined &&
      id.imageTag !== undefined &&
      byDigest &&
      !byDigest.tags.includes(id.imageTag)
    ) {
      failures.push({
        imageId: id,
        failureCode: 'ImageTagDoesNotMatchDigest',
        failureReason: 'Image tag does not match digest',
      });
      continue;
    }
    const image = findImage(images, id);
    if (!image) {
      failures.push({
        imageId: id,
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found',
      });
      continue;
    }
    const accepted = input?.acceptedMediaTypes as string[] | undefined;
    if (accepted !== undefined && accepted.length > 0 && !accepted.includes(image.mediaType)) {
      failures.push({
        imageId: id,
        failureCode: 'UnsupportedImageType',
        failureReason: `The image's manifest media type ${image.mediaType} is not among the accepted media types`,
      });
      continue;
    }
    found.push({
      registryId: state.accountId,
      repositoryName: repo,
      imageId: {
        imageDigest: image.digest,
        ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {}),
      },
      imageManifest: image.manifest,
      imageManifestMediaType: image.mediaType,
    });
  }
  return { images: found, failures };
}

export async function putImage(state: EcrState, input: any): Promise<Record<string, unknown>> {
  const repo = state.repository(requiredString(input, 'repositoryName'), optionalString(input, 'registryId'));
  const manifest = requiredString(input, 'imageManifest');
  const tag = optionalString(input, 'imageTag');
  const mediaType = optionalString(input, 'imageManifestMediaType') ?? manifestMediaType(manifest);
  try {
    JSON.parse(manifest);
  } catch {
    throw new EcrError(
      'InvalidParameterException',
      "Invalid parameter at 'imageManifest': the manifest is not valid JSON",
    );
  }
  const digest = sha256Digest(manifest);
  const declared = optionalString(input, 'imageDigest');
  if (declared !== undefined && declared !== digest) {
    throw new EcrError(
      'ImageDigestDoesNotMatchException',
      `Provided digest '${declared}' does not match the digest of the image manifest '${digest}'`,
    );
  }
  const images = await state.images(repo.name);
  const same = images.find((i) => i.digest === digest);
  if (same && (tag === undefined ? true : same.tags.includes(tag))) {
    throw new EcrError(
      'ImageAlreadyExistsException',
      `Image with digest '${digest}'${tag !== undefined ? ` and tag '${tag}'` : ''} already exists in the repository with name '${repo.name}' in registry with id '${state.accountId}'`,
    );
  }
  if (
    tag !== undefined &&
    repo.imageTagMutability === 'IMMUTABLE' &&
    images.some((i) => i.tags.includes(tag))
  ) {
    throw new EcrError(
      'ImageTagAlreadyExistsException',
      `The image tag '${tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the repository is immutable.`,
    );
  }
  const stored = await state.storeImage(repo.name, manifest, mediaType, tag);
  return {
    image: {
      registryId: state.accountId,
      repositoryName: repo.name,
      imageId: { imageDigest: stored, ...(tag !== undefined ? { imageTag: tag } : {}) },
      imageManifest: manifest,
      imageManifestMediaType: mediaType,
    },
  };
}
