import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigurationError, setInputSource, type InputSource } from '@planner-deploy/action-kit';
import { readInputs } from '../../src/inputs.js';

const RUN_ENV = {
  GITHUB_REPOSITORY: 'example-org/Planner.App',
  GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01',
  GITHUB_RUN_ID: '9876543210',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_SERVER_URL: 'https://github.example.com',
  AWS_REGION: 'eu-west-1',
};

let previous: InputSource | undefined;
afterEach(() => {
  if (previous) setInputSource(previous);
  previous = undefined;
});

/** Inputs as the runner passes them: INPUT_<NAME> with hyphens kept, action.yml defaults filled in. */
function withInputs(inputs: Record<string, string>): void {
  const defaults: Record<string, string> = {
    'snapshot-prefix': 'pre-deploy',
    wait: 'true',
    timeout: '30m',
    'poll-interval': '5s',
  };
  const source: InputSource = {};
  for (const [name, value] of Object.entries({ ...defaults, ...inputs }))
    source[`INPUT_${name.toUpperCase()}`] = value;
  previous = setInputSource(source);
}

function readError(
  inputs: Record<string, string>,
  env: Record<string, string> = RUN_ENV,
): ConfigurationError {
  withInputs(inputs);
  try {
    readInputs(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('readInputs', () => {
  it('reads an instance with the defaults, deriving the identifier and the automatic tags', () => {
    withInputs({
      'db-instance-identifier': 'planner-prod',
      tags: 'team=core\n# a comment\nenv = production',
    });
    const inputs = readInputs(RUN_ENV);
    expect(inputs).toMatchObject({
      database: { kind: 'instance', id: 'planner-prod' },
      'db-instance-identifier': 'planner-prod',
      'db-cluster-identifier': undefined,
      'snapshot-identifier': 'pre-deploy-planner-app-planner-prod-abcdef0-9876543210',
      'snapshot-identifier-derived': true,
      wait: true,
      timeout: 30 * 60_000,
      'poll-interval': 5000,
      retain: undefined,
      region: 'eu-west-1',
    });
    expect(inputs.tags).toEqual({
      team: 'core',
      env: 'production',
      'planner-deploy:created-by': 'rds-backup',
      'planner-deploy:database': 'planner-prod',
      'planner-deploy:repository': 'example-org/Planner.App',
      'planner-deploy:sha': RUN_ENV.GITHUB_SHA,
      'planner-deploy:run-id': '9876543210',
      'planner-deploy:run-attempt': '1',
      'planner-deploy:run-url': 'https://github.example.com/example-org/Planner.App/actions/runs/9876543210',
    });
  });

  it('derives the same identifier for every attempt of the run; only the attempt tag differs', () => {
    withInputs({ 'db-cluster-identifier': 'planner-aurora' });
    const first = readInputs(RUN_ENV);
    const second = readInputs({ ...RUN_ENV, GITHUB_RUN_ATTEMPT: '2' });
    expect(second['snapshot-identifier']).toBe(first['snapshot-identifier']);
    expect(second.tags['planner-deploy:run-attempt']).toBe('2');
    expect({ ...second.tags, 'planner-deploy:run-attempt': '1' }).toEqual(first.tags);
  });

  it('lower-cases a given snapshot identifier, as RDS stores it', () => {
    withInputs({ 'db-cluster-identifier': 'Aurora', 'snapshot-identifier': 'Before-Migration-42' });
    expect(readInputs(RUN_ENV)['snapshot-identifier']).toBe('before-migration-42');
    withInputs({ 'db-instance-identifier': 'db', 'snapshot-identifier': 'Before-Migration-42' });
    expect(readInputs(RUN_ENV)).toMatchObject({
      'snapshot-identifier': 'before-migration-42',
      'snapshot-identifier-derived': false,
    });
  });

  it.each<[string, Record<string, string>, Record<string, string>, string]>([
    ['the input', { region: 'ap-southeast-2' }, RUN_ENV, 'ap-southeast-2'],
    ['AWS_REGION', {}, RUN_ENV, 'eu-west-1'],
    [
      'AWS_DEFAULT_REGION',
      {},
      { ...RUN_ENV, AWS_REGION: '', AWS_DEFAULT_REGION: 'us-gov-west-1' },
      'us-gov-west-1',
    ],
  ])('takes the region from %s', (_from, inputs, env, region) => {
    withInputs({ 'db-instance-identifier': 'db', ...inputs });
    expect(readInputs(env).region).toBe(region);
  });

  it('parses durations, wait and retain', () => {
    withInputs({
      'db-instance-identifier': 'db',
      timeout: '1h30m',
      'poll-interval': '2.5s',
      wait: 'false',
      retain: '7',
    });
    expect(readInputs(RUN_ENV)).toMatchObject({
      timeout: 5_400_000,
      'poll-interval': 2500,
      wait: false,
      retain: 7,
    });
  });

  it.each<[string, Record<string, string>, Record<string, string>, RegExp]>([
    [
      'a missing region',
      { 'db-instance-identifier': 'db' },
      { ...RUN_ENV, AWS_REGION: '' },
      /Input "region" is required when the AWS_REGION/,
    ],
    [
      'a bad AWS_REGION',
      { 'db-instance-identifier': 'db' },
      { ...RUN_ENV, AWS_REGION: 'Europe' },
      /"Europe".*taken from AWS_REGION/,
    ],
    [
      'a repeated tag key',
      { 'db-instance-identifier': 'db', tags: 'a=1\na=2' },
      RUN_ENV,
      /"a" is given more than once/,
    ],
    [
      'an AWS tag prefix',
      { 'db-instance-identifier': 'db', tags: 'aws:owner=me' },
      RUN_ENV,
      /reserved by AWS/,
    ],
    [
      'too many tags',
      { 'db-instance-identifier': 'db', tags: Array.from({ length: 44 }, (_, i) => `k${i}=v`).join('\n') },
      RUN_ENV,
      /44 tags plus 7 automatic ones make 51, more than the 50/,
    ],
    ['a timeout over 6 hours', { 'db-instance-identifier': 'db', timeout: '7h' }, RUN_ENV, /at most 21600s/],
    ['retain over 100', { 'db-instance-identifier': 'db', retain: '101' }, RUN_ENV, /from 1 to 100/],
    [
      'a 64-character instance identifier',
      { 'db-instance-identifier': 'a'.repeat(64) },
      RUN_ENV,
      /64 characters/,
    ],
    [
      'a prefix over 30 characters',
      { 'db-instance-identifier': 'db', 'snapshot-prefix': 'p'.repeat(31) },
      RUN_ENV,
      /at most 30/,
    ],
  ])('refuses %s', (_what, inputs, env, message) => {
    expect(readError(inputs, env).message).toMatch(message);
  });
});
