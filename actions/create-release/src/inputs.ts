import {
  ConfigurationError,
  getBoolean,
  getDuration,
  getEnum,
  getOptionalString,
  getRequiredString,
  imageReferenceProblem,
  invalidInput,
  maskSecret,
  redactUrl,
  urlCredentials,
  withoutCredentials,
} from '@planner-deploy/action-kit';
import type { DeploymentDetails, RunLink } from './body.js';
import { isPrereleaseTag } from './semver.js';

export const MAKE_LATEST = ['true', 'false', 'legacy'] as const;
export type MakeLatest = (typeof MAKE_LATEST)[number];

/** The inputs of action.yml (keys as spelled there), read and validated before any request. */
export interface Inputs extends DeploymentDetails {
  token: string;
  /** The tag to release; undefined when no `tag` was given and the run is not for a tag (nothing to do). */
  tag: string | undefined;
  name: string | undefined;
  body: string | undefined;
  'generate-notes': boolean;
  'previous-tag': string | undefined;
  prerelease: boolean;
  draft: boolean;
  /** Undefined: decided from the tags (see run.ts). */
  'make-latest': MakeLatest | undefined;
  /** Deadline of the whole step in ms, rate-limit waits and retries included. */
  timeout: number;
  context: Context;
}

/** What the runner says about the run. */
export interface Context {
  owner: string;
  repo: string;
  apiUrl: string;
  /** GITHUB_REF, for saying why nothing was done. */
  ref: string | undefined;
  /** Where the tag came from, and whether prerelease was inferred. */
  tagFrom: 'input' | 'ref';
  prereleaseInferred: boolean;
  /** The commit a new tag is created at (GITHUB_SHA). */
  sha: string | undefined;
  run: RunLink;
}

/** The body input is bounded so that the generated notes and the Deployment section still fit. */
export const BODY_INPUT_LIMIT = 100_000;
const MAX_TIMEOUT_MS = 6 * 3_600_000;

export function readInputs(env: Record<string, string | undefined> = process.env): Inputs {
  // The token first, masked before anything else can print it.
  const token = getRequiredString('token');
  maskSecret(token);
  if (/\s/.test(token)) {
    // The value is not quoted: it is a secret.
    throw new ConfigurationError(
      'Input "token" contains whitespace, so it cannot be a GitHub token. Pass the token alone (the default is ${{ github.token }}).',
      { title: 'Invalid input: token' },
    );
  }
  const repository = readRepository(env.GITHUB_REPOSITORY);
  const apiUrl = readApiUrl(env.GITHUB_API_URL);

  const tagInput = getOptionalString('tag');
  if (tagInput !== undefined) checkRefName('tag', tagInput);
  const ref = env.GITHUB_REF;
  const tag = tagInput ?? (ref?.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined);

  const name = getOptionalString('name');
  if (name !== undefined && /[\r\n]/.test(name)) {
    throw invalidInput('name', name, 'expected a single line (the release title).');
  }
  const body = getOptionalString('body');
  if (body !== undefined && body.length > BODY_INPUT_LIMIT) {
    throw invalidInput(
      'body',
      body,
      `expected at most ${BODY_INPUT_LIMIT} characters (it has ${body.length}); GitHub limits a release body to 125000, and the notes and deployment details need room too.`,
    );
  }
  const generateNotes = getBoolean('generate-notes', true);
  const previous = getOptionalString('previous-tag');
  if (previous !== undefined) {
    checkRefName('previous-tag', previous);
    if (previous === tag) {
      throw invalidInput('previous-tag', previous, 'expected an earlier tag than the one released.');
    }
  }
  const prereleaseText = getOptionalString('prerelease');
  const prerelease =
    prereleaseText === undefined
      ? tag !== undefined && isPrereleaseTag(tag)
      : getBoolean('prerelease', false);
  const draft = getBoolean('draft', false);
  const makeLatest = getEnum('make-latest', MAKE_LATEST, undefined);
  const deployment = readDeploymentDetails();
  const timeout = getDuration('timeout', 300_000, { minMs: 1000, maxMs: MAX_TIMEOUT_MS });

  return {
    token,
    tag,
    name,
    body,
    'generate-notes': generateNotes,
    'previous-tag': previous,
    prerelease,
    draft,
    'make-latest': makeLatest,
    ...deployment,
    timeout,
    context: {
      ...repository,
      apiUrl,
      ref,
      tagFrom: tagInput === undefined ? 'ref' : 'input',
      prereleaseInferred: prereleaseText === undefined,
      sha: env.GITHUB_SHA,
      run: {
        serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
        repository: `${repository.owner}/${repository.repo}`,
        runId: env.GITHUB_RUN_ID,
        runAttempt: env.GITHUB_RUN_ATTEMPT,
        workflow: env.GITHUB_WORKFLOW,
      },
    },
  };
}

/**
 * Git's rules for a ref name (git check-ref-format), which GitHub applies to tags: no spaces, control
 * characters, `~ ^ : ? * [ \`, `..` or `@{`; no part starting with `.` or ending with `.lock`; no leading,
 * trailing or doubled `/`; not ending with `.`.
 */
export function refNameProblem(name: string): string | undefined {
  if (name.startsWith('refs/')) return 'expected the tag name alone, without "refs/tags/"';
  if (hasControlCharacter(name) || /[ ~^:?*[\\]/.test(name))
    return 'a tag cannot contain spaces, control characters or ~ ^ : ? * [ \\';
  if (name.includes('..') || name.includes('@{') || name === '@')
    return 'a tag cannot contain "..", "@{" or be "@"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//') || name.endsWith('.')) {
    return 'a tag cannot start or end with "/", contain "//" or end with "."';
  }
  if (name.startsWith('-')) return 'a tag cannot start with "-"';
  if (name.split('/').some((part) => part.startsWith('.') || part.endsWith('.lock'))) {
    return 'no part of a tag can start with "." or end with ".lock"';
  }
  if (name.length > 255) return 'a tag is at most 255 characters';
  return undefined;
}

/** ASCII control characters (newlines and tabs included). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function checkRefName(input: string, value: string): void {
  const problem = refNameProblem(value);
  if (problem !== undefined) throw invalidInput(input, value, `${problem}; expected a tag such as v1.2.0.`);
}

function readRepository(value: string | undefined): { owner: string; repo: string } {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(value ?? '');
  if (!match) {
    throw new ConfigurationError(
      `GITHUB_REPOSITORY is ${JSON.stringify(value ?? '')}, expected "owner/repo": run this action in a GitHub Actions job.`,
      { title: 'Missing GITHUB_REPOSITORY' },
    );
  }
  return { owner: match[1] as string, repo: match[2] as string };
}

function readApiUrl(value: string | undefined): string {
  const text = value === undefined || value === '' ? 'https://api.github.com' : value;
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return text.replace(/\/+$/, '');
  } catch {
    // fall through to the error below
  }
  throw new ConfigurationError(`GITHUB_API_URL is ${JSON.stringify(text)}, expected an http(s) URL.`, {
    title: 'Invalid GITHUB_API_URL',
  });
}

const SNAPSHOT_ID = /^(?:rds:|awsbackup:)?[A-Za-z](?:-?[A-Za-z0-9])*$/;
const SNAPSHOT_ARN = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:(?:cluster-)?snapshot:\S+$/;

function readDeploymentDetails(): DeploymentDetails {
  const environment = getOptionalString('environment');
  if (environment !== undefined && (hasControlCharacter(environment) || environment.length > 255)) {
    throw invalidInput(
      'environment',
      environment,
      'expected an environment name: one line, at most 255 characters.',
    );
  }
  const given = getOptionalString('environment-url');
  let environmentUrl: string | undefined;
  if (given !== undefined) {
    // Credentials in the URL are masked before it can be quoted, and never reach the summary or the
    // release body (which is public on a public repository): the link keeps everything else.
    for (const secret of urlCredentials(given)) maskSecret(secret);
    let url: URL | undefined;
    try {
      url = new URL(given);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || /\s/.test(given)) {
      throw invalidInput(
        'environment-url',
        redactUrl(given),
        'expected an absolute http:// or https:// URL.',
      );
    }
    const secrets = urlCredentials(url);
    for (const secret of secrets) maskSecret(secret);
    // The URL as written, unless it carries credentials.
    environmentUrl = secrets.length > 0 ? withoutCredentials(url).href : given;
  }
  const image = getOptionalString('image');
  const imageProblem = image === undefined ? undefined : imageReferenceProblem(image);
  if (image !== undefined && imageProblem !== undefined) {
    throw invalidInput(
      'image',
      image,
      `${imageProblem}; expected an image reference such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/planner@sha256:<64 hex> or registry/name:tag.`,
    );
  }
  const snapshot = getOptionalString('snapshot-identifier');
  if (
    snapshot !== undefined &&
    !SNAPSHOT_ARN.test(snapshot) &&
    (snapshot.length > 255 || !SNAPSHOT_ID.test(snapshot))
  ) {
    throw invalidInput(
      'snapshot-identifier',
      snapshot,
      'expected an RDS snapshot identifier (a letter, then letters, digits and single hyphens, at most 255) or a snapshot ARN.',
    );
  }
  return { environment, 'environment-url': environmentUrl, image, 'snapshot-identifier': snapshot };
}
