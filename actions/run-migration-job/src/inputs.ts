import {
  getBoolean,
  getDuration,
  getInteger,
  getOptionalString,
  getRequiredString,
  imageReferenceProblem,
  invalidInput,
} from '@planner-deploy/action-kit';
import { isDnsLabel, isDnsSubdomain, type ConnectionInputs } from '@planner-deploy/kube';
import { readConnectionInputs, readNamespace } from '@planner-deploy/kube-inputs';

export interface Inputs {
  connection: ConnectionInputs;
  namespace: string | undefined;
  deployment: string;
  container: string | undefined;
  image: string;
  command: string[] | undefined;
  args: string[] | undefined;
  'job-name': string | undefined;
  'backoff-limit': number;
  timeout: number;
  'ttl-seconds-after-finished': number;
  'delete-on-cancel': boolean;
  'log-tail-lines': number;
}

/**
 * `alembic upgrade head` → ["alembic", "upgrade", "head"]; several lines → one argument per line. Single or
 * double quotes group words on one line. No shell is involved: the words are the container's argv.
 */
export function splitCommand(name: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length > 1) return lines;
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inWord = false;
  for (const ch of lines[0] ?? '') {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw invalidInput(name, text, 'a quote is not closed.');
  if (inWord) words.push(current);
  return words;
}

export function readInputs(): Inputs {
  const connection = readConnectionInputs();
  const namespace = readNamespace();
  const deployment = getRequiredString('deployment');
  if (!isDnsSubdomain(deployment))
    throw invalidInput(
      'deployment',
      deployment,
      'expected a Deployment name: lower-case letters, digits, "-" and ".".',
    );
  const container = getOptionalString('container');
  if (container !== undefined && !isDnsLabel(container))
    throw invalidInput('container', container, 'expected a container name.');
  const image = getRequiredString('image');
  const imageProblem = imageReferenceProblem(image);
  if (imageProblem !== undefined)
    throw invalidInput(
      'image',
      image,
      `${imageProblem}; expected an image reference such as registry/planner-app@sha256:… or repo:tag.`,
    );
  const jobName = getOptionalString('job-name');
  if (jobName !== undefined && !isDnsLabel(jobName)) {
    throw invalidInput(
      'job-name',
      jobName,
      'expected a Job name: lower-case letters, digits and hyphens, at most 63.',
    );
  }
  return {
    connection,
    namespace,
    deployment,
    container,
    image,
    command: splitCommand('command', getOptionalString('command')),
    args: splitCommand('args', getOptionalString('args')),
    'job-name': jobName,
    'backoff-limit': getInteger('backoff-limit', 0, { min: 0, max: 20 }),
    timeout: getDuration('timeout', 900_000, { minMs: 1000, maxMs: 24 * 3_600_000 }),
    'ttl-seconds-after-finished': getInteger('ttl-seconds-after-finished', 86_400, {
      min: 0,
      max: 31 * 86_400,
    }),
    'delete-on-cancel': getBoolean('delete-on-cancel', true),
    'log-tail-lines': getInteger('log-tail-lines', 50, { min: 0, max: 1000 }),
  };
}
