// Inputs through INPUT_* values as the runner sets them (setInputSource), not by mocking @actions/core.
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  ConfigurationError,
  inputEnvName,
  registeredSecrets,
  setInputSource,
} from '@planner-deploy/action-kit';
import { readInputs, refNameProblem } from '../../src/inputs.js';

const ENV = {
  GITHUB_REPOSITORY: 'owner/repo',
  GITHUB_REF: 'refs/tags/v1.2.0',
  GITHUB_API_URL: 'http://127.0.0.1:1',
  GITHUB_SHA: 'abc',
  GITHUB_RUN_ID: '7',
};
let previous: ReturnType<typeof setInputSource> | undefined;

function read(inputs: Record<string, string>, env: Record<string, string | undefined> = ENV) {
  const source: Record<string, string> = {};
  for (const [name, value] of Object.entries({ token: 'ghs_unitToken', ...inputs })) {
    source[inputEnvName(name)] = value;
  }
  previous ??= setInputSource(source);
  setInputSource(source);
  return readInputs(env);
}

afterEach(() => {
  if (previous) setInputSource(previous);
  previous = undefined;
});

describe('readInputs', () => {
  it('defaults: tag from GITHUB_REF, notes on, prerelease inferred, latest decided later', () => {
    const inputs = read({});
    expect(inputs).toMatchObject({
      tag: 'v1.2.0',
      name: undefined,
      'generate-notes': true,
      prerelease: false,
      draft: false,
      'make-latest': undefined,
      timeout: 300_000,
      context: {
        owner: 'owner',
        repo: 'repo',
        apiUrl: 'http://127.0.0.1:1',
        tagFrom: 'ref',
        prereleaseInferred: true,
      },
    });
  });

  it.each([
    ['refs/tags/v1.2.0-rc.1', {}, true],
    ['refs/tags/v1.2.0-rc.1', { prerelease: 'false' }, false],
    ['refs/tags/v1.2.0', { prerelease: 'true' }, true],
    ['refs/heads/main', { tag: 'v2.0.0-beta.1' }, true],
  ])('prerelease for %s with %j is %s', (ref, inputs, expected) => {
    expect(read(inputs, { ...ENV, GITHUB_REF: ref }).prerelease).toBe(expected);
  });

  it('has no tag on a branch without input "tag"', () => {
    const inputs = read({}, { ...ENV, GITHUB_REF: 'refs/heads/main' });
    expect(inputs.tag).toBeUndefined();
    expect(inputs.prerelease).toBe(false);
  });

  it('prefers input "tag" over GITHUB_REF', () => {
    expect(read({ tag: 'v3.0.0' }).tag).toBe('v3.0.0');
    expect(read({ tag: 'v3.0.0' }).context.tagFrom).toBe('input');
  });

  it('defaults the API URL and strips a trailing slash', () => {
    expect(read({}, { ...ENV, GITHUB_API_URL: undefined }).context.apiUrl).toBe('https://api.github.com');
    expect(read({}, { ...ENV, GITHUB_API_URL: 'https://ghe.example.com/api/v3/' }).context.apiUrl).toBe(
      'https://ghe.example.com/api/v3',
    );
  });

  it.each([
    ['GITHUB_REPOSITORY', { GITHUB_REPOSITORY: 'just-a-name' }],
    ['GITHUB_API_URL', { GITHUB_API_URL: 'not a url' }],
  ])('refuses a bad %s', (name, env) => {
    expect(() => read({}, { ...ENV, ...env })).toThrow(name);
  });

  it('requires a token and never quotes it', () => {
    expect(() => read({ token: '' })).toThrow('Input "token" is required');
    let error: unknown;
    try {
      read({ token: 'ghs_secret value' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain('"token"');
    expect((error as Error).message).not.toContain('ghs_secret');
  });

  it.each([
    ['snapshot-identifier', 'rds:planner-2024-01-01-00-00'],
    ['snapshot-identifier', 'arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:planner-pre'],
    ['image', 'ghcr.io/org/planner:1.2.0'],
    ['image', 'localhost:5000/planner'],
    ['environment-url', 'http://staging.internal:8080/health'],
    ['make-latest', 'legacy'],
    ['timeout', '90s'],
  ])('accepts %s %s', (input, value) => {
    expect(() => read({ [input]: value })).not.toThrow();
  });
});

describe('refNameProblem', () => {
  it.each([
    ['v1.2.0', false],
    ['api/v1.2.0', false],
    ['release-2024.01', false],
    ['refs/tags/v1.2.0', true],
    ['v1 2', true],
    ['v1..2', true],
    ['v1.2.', true],
    ['/v1', true],
    ['a//b', true],
    ['-v1', true],
    ['v1.lock', true],
    ['.hidden', true],
    ['v1@{0}', true],
    ['v1:2', true],
    ['v1\ttab', true],
  ])('%s refused: %s', (name, refused) => {
    expect(refNameProblem(name) !== undefined).toBe(refused);
  });
});

describe('readInputs: credentials in environment-url', () => {
  it('masks them and keeps them out of the URL the summary and the release body use', () => {
    const inputs = read({ 'environment-url': 'https://viewer:env-url-pass-4242@planner.example.com/app' });
    expect(registeredSecrets()).toContain('env-url-pass-4242');
    expect(JSON.stringify(inputs)).not.toContain('env-url-pass-4242');
    expect(JSON.stringify(inputs)).toContain('https://planner.example.com/app');
  });

  it('masks a token given as the user, and never quotes the password of a URL that does not parse', () => {
    const inputs = read({ 'environment-url': 'https://tok_env_0123456789@planner.example.com/' });
    expect(registeredSecrets()).toContain('tok_env_0123456789');
    expect(JSON.stringify(inputs)).not.toContain('tok_env_0123456789');
    let message = '';
    try {
      read({ 'environment-url': 'https://viewer:bad-url-pass-777@planner example.com/' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('Input "environment-url"');
    expect(message).not.toContain('bad-url-pass-777');
    expect(registeredSecrets()).toContain('bad-url-pass-777');
  });
});
