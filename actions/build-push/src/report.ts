import { SummaryBuilder, formatDuration } from '@planner-deploy/action-kit';
import type { BuildResult } from './run.js';
import type { Inputs } from './inputs.js';

/** The outputs of action.yml. */
export function toOutputs(result: BuildResult, inputs: Inputs): Record<string, string> {
  return {
    image: result.digest !== undefined ? `${result.name}@${result.digest}` : '',
    'image-uri': `${result.name}:${inputs.source.sha}`,
    digest: result.digest ?? '',
    tags: result.tags.map((tag) => `${result.name}:${tag}`).join('\n'),
    built: String(result.built),
    registry: result.registry,
  };
}

/** Bytes as people read them (ECR reports the compressed size of the layers). */
export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 'B';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}

function verdict(result: BuildResult): string {
  if (!result.pushed && result.built) return 'built, not pushed (push: false)';
  if (!result.built) return 'reused: the commit was built before, only tags were added';
  return `built (${result.builder === 'buildx' ? 'docker buildx' : 'docker build'}) and pushed`;
}

export function buildSummary(result: BuildResult, inputs: Inputs): SummaryBuilder {
  const summary = new SummaryBuilder().heading(`Image ${result.name}:${inputs.source.sha.slice(0, 12)}`);
  summary.table(
    ['Image', 'Digest', 'Size', 'Result', 'Duration'],
    [
      [
        result.digest !== undefined
          ? `${result.name}@${result.digest}`
          : `${result.name}:${inputs.source.sha}`,
        result.digest,
        formatSize(result.sizeInBytes),
        verdict(result),
        formatDuration(result.durationMs),
      ],
    ],
  );
  summary.table(
    ['Tag', 'Change'],
    result.tags.map((tag) => [
      tag,
      result.digest === undefined
        ? 'local only'
        : result.addedTags.includes(tag)
          ? 'pointed here now'
          : 'already here',
    ]),
  );
  if (result.repositoryCreated) summary.paragraph(`The ECR repository was created by this step.`);
  if (result.digest !== undefined) {
    summary.paragraph('Deploy exactly this image with the `image` output:');
    summary.codeBlock(`${result.name}@${result.digest}`);
  }
  return summary;
}
