// The connection inputs as the runner passes them (INPUT_<NAME>, hyphens kept), read on the actions' side.
import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigurationError, setInputSource, type InputSource } from '@planner-deploy/action-kit';
import { readConnectionInputs, readNamespace } from '../src/index.js';

let previous: InputSource | undefined;
afterEach(() => {
  if (previous) setInputSource(previous);
  previous = undefined;
});

function inputs(values: Record<string, string>): void {
  const source: InputSource = {};
  for (const [name, value] of Object.entries(values)) source[`INPUT_${name.toUpperCase()}`] = value;
  previous ??= setInputSource(source);
  setInputSource(source);
}

describe('readConnectionInputs', () => {
  it.each([
    [
      'EKS with its region',
      { 'cluster-name': 'prod_1', region: 'eu-west-1' },
      {},
      { clusterName: 'prod_1', region: 'eu-west-1' },
    ],
    [
      'the region from AWS_REGION',
      { 'cluster-name': 'prod' },
      { AWS_REGION: 'us-east-2' },
      { region: 'us-east-2' },
    ],
    [
      'no region without a cluster',
      { context: 'kind-dev' },
      { AWS_REGION: 'us-east-2' },
      { region: undefined, context: 'kind-dev' },
    ],
  ])('%s', (_, given, env, expected) => {
    inputs(given);
    expect(readConnectionInputs(env)).toMatchObject(expected);
  });

  it.each([
    [
      'a bad cluster name',
      { 'cluster-name': '-prod', region: 'eu-west-1' },
      {},
      /Input "cluster-name".*"-prod"/,
    ],
    ['a bad region', { 'cluster-name': 'prod', region: 'Europe' }, {}, /Input "region".*"Europe"/],
    ['a cluster without a region', { 'cluster-name': 'prod' }, {}, /region/],
  ])('refuses %s, naming the input', (_, given, env, message) => {
    inputs(given);
    const error = (() => {
      try {
        readConnectionInputs(env);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('readNamespace', () => {
  it('reads a namespace and refuses one that is not a DNS label', () => {
    inputs({ namespace: 'planner-production' });
    expect(readNamespace()).toBe('planner-production');
    inputs({ namespace: 'Planner_Prod' });
    expect(() => readNamespace()).toThrow(/Input "namespace".*"Planner_Prod"/);
  });
});
