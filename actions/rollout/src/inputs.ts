import {
  getBoolean,
  getDuration,
  getInteger,
  getLines,
  getList,
  getOptionalString,
  imageReferenceProblem,
  invalidInput,
  missingInput,
  parseMap,
} from '@planner-deploy/action-kit';
import { checkDeploymentNames, isDnsLabel, type ConnectionInputs } from '@planner-deploy/kube';
import { readConnectionInputs, readNamespace } from '@planner-deploy/kube-inputs';

export interface Inputs {
  connection: ConnectionInputs;
  namespace: string | undefined;
  deployments: string[];
  image: string | undefined;
  images: Map<string, string> | undefined;
  container: string | undefined;
  restart: boolean;
  replicas: number | undefined;
  'change-cause': string | undefined;
  wait: boolean;
  timeout: number;
  'fail-fast': boolean;
  'ready-grace': number;
}

const IMAGE_RULE =
  'expected an image reference such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/planner-app@sha256:… or repo:tag.';

/** Reads and validates every input before anything talks to the cluster. */
export function readInputs(): Inputs {
  const connection = readConnectionInputs();
  const namespace = readNamespace();
  const deployments = checkDeploymentNames('deployments', getList('deployments'));

  const image = getOptionalString('image');
  const imageProblem = image === undefined ? undefined : imageReferenceProblem(image);
  if (image !== undefined && imageProblem !== undefined)
    throw invalidInput('image', image, `${imageProblem}; ${IMAGE_RULE}`);
  const imageLines = getLines('images');
  let images: Map<string, string> | undefined;
  if (imageLines.length > 0) {
    if (image !== undefined)
      throw invalidInput('images', imageLines.join('\n'), 'give either `image` or `images`, not both.');
    images = parseMap('images', imageLines);
    for (const [container, reference] of images) {
      if (!isDnsLabel(container))
        throw invalidInput('images', `${container}=${reference}`, 'expected a container name before "=".');
      const problem = imageReferenceProblem(reference);
      if (problem !== undefined)
        throw invalidInput('images', `${container}=${reference}`, `${problem}; ${IMAGE_RULE}`);
    }
  }
  const container = getOptionalString('container');
  if (container !== undefined) {
    if (!isDnsLabel(container))
      throw invalidInput(
        'container',
        container,
        'expected a container name (lower-case letters, digits, hyphens).',
      );
    if (image === undefined)
      throw invalidInput('container', container, '`container` says where `image` goes, so it needs `image`.');
  }
  const restart = getBoolean('restart', false);
  const replicas = getInteger('replicas', undefined, { min: 0, max: 10_000 });
  if (image === undefined && images === undefined && !restart && replicas === undefined) {
    throw missingInput(
      'image',
      '(or `images`, `restart: true` or `replicas`: there is nothing to roll out otherwise)',
    );
  }
  const changeCause = getOptionalString('change-cause');
  if (changeCause !== undefined && changeCause.length > 1024) {
    throw invalidInput('change-cause', changeCause, 'expected at most 1024 characters.');
  }
  return {
    connection,
    namespace,
    deployments,
    image,
    images,
    container,
    restart,
    replicas,
    'change-cause': changeCause,
    wait: getBoolean('wait', true),
    timeout: getDuration('timeout', 600_000, { minMs: 1000, maxMs: 6 * 3_600_000 }),
    'fail-fast': getBoolean('fail-fast', true),
    'ready-grace': getDuration('ready-grace', 120_000, { minMs: 0, maxMs: 3_600_000 }),
  };
}
