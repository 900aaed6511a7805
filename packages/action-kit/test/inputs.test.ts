import { afterEach, describe, expect, it } from '@jest/globals';
import {
  ConfigurationError,
  getBoolean,
  getDuration,
  getEnum,
  getInteger,
  getList,
  getMap,
  getOptionalString,
  getRequiredString,
  setInputSource,
} from '../src/index.js';

function withInputs(inputs: Record<string, string>): void {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  setInputSource(env);
}

afterEach(() => {
  setInputSource(process.env);
});

function errorOf(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('strings', () => {
  it('treats empty and blank as absent', () => {
    withInputs({ a: '', b: '   ', c: ' value ' });
    expect(getOptionalString('a')).toBeUndefined();
    expect(getOptionalString('b')).toBeUndefined();
    expect(getOptionalString('c')).toBe('value');
  });
  it('names a missing required input', () => {
    withInputs({});
    expect(errorOf(() => getRequiredString('cluster-name')).message).toBe(
      'Input "cluster-name" is required, but it was not set.',
    );
  });
  it('keeps hyphens in the variable name as the runner does', () => {
    setInputSource({ 'INPUT_EXPECTED-STATUS': '200' });
    expect(getOptionalString('expected-status')).toBe('200');
  });
});

describe('getBoolean (YAML 1.2 core schema)', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
  ])('%s', (text, value) => {
    withInputs({ wait: text });
    expect(getBoolean('wait', !value)).toBe(value);
  });
  it.each(['yes', 'no', '1', 'on', 'tRue'])('refuses %s', (text) => {
    withInputs({ wait: text });
    expect(errorOf(() => getBoolean('wait', true)).message).toBe(
      `Input "wait" has an invalid value "${text}": expected true or false.`,
    );
  });
  it('falls back when absent', () => {
    withInputs({});
    expect(getBoolean('wait', true)).toBe(true);
  });
});

describe('getInteger', () => {
  it('reads a bounded whole number', () => {
    withInputs({ n: '3' });
    expect(getInteger('n', 1, { min: 1, max: 10 })).toBe(3);
  });
  it.each([
    ['0', 'expected a whole number from 1 to 10.'],
    ['11', 'expected a whole number from 1 to 10.'],
    ['2.5', 'expected a whole number from 1 to 10.'],
    ['three', 'expected a whole number from 1 to 10.'],
  ])('refuses %s', (text, allowed) => {
    withInputs({ retain: text });
    expect(errorOf(() => getInteger('retain', 1, { min: 1, max: 10 })).message).toBe(
      `Input "retain" has an invalid value "${text}": ${allowed}`,
    );
  });
});

describe('getDuration', () => {
  it('reads 1h30m', () => {
    withInputs({ timeout: '1h30m' });
    expect(getDuration('timeout', 1000)).toBe(5_400_000);
  });
  it('suggests a unit for a bare number', () => {
    withInputs({ timeout: '300' });
    expect(errorOf(() => getDuration('timeout', 1000)).message).toBe(
      'Input "timeout" has an invalid value "300": expected a duration such as 90s, 5m, 1h30m or 500ms (for seconds write "300s").',
    );
  });
  it('enforces bounds', () => {
    withInputs({ interval: '10ms' });
    expect(errorOf(() => getDuration('interval', 1000, { minMs: 100 })).message).toMatch(/at least 100ms/);
  });
});

describe('getList and getMap', () => {
  it('splits on newlines and commas, ignoring blanks and comments', () => {
    withInputs({ deployments: 'web, worker\n\n# the scheduler is not ours\napi\n' });
    expect(getList('deployments')).toEqual(['web', 'worker', 'api']);
  });
  it('reads key=value lines', () => {
    withInputs({ tags: 'team=platform\nurl=https://x/?a=b' });
    expect([...getMap('tags')]).toEqual([
      ['team', 'platform'],
      ['url', 'https://x/?a=b'],
    ]);
  });
  it('refuses a line without a key and a repeated key', () => {
    withInputs({ tags: 'novalue' });
    expect(errorOf(() => getMap('tags')).message).toBe(
      'Input "tags" has an invalid value "novalue": expected one "key=value" per line.',
    );
    withInputs({ tags: 'a=1\na=2' });
    expect(errorOf(() => getMap('tags')).message).toMatch(/"a" is given more than once/);
  });
});

describe('getEnum', () => {
  it('matches case-insensitively and returns the canonical spelling', () => {
    withInputs({ cache: 'GHA' });
    expect(getEnum('cache', ['gha', 'registry', 'none'] as const, 'none')).toBe('gha');
  });
  it('lists what is allowed', () => {
    withInputs({ cache: 's3' });
    expect(errorOf(() => getEnum('cache', ['gha', 'registry', 'none'] as const, 'none')).message).toBe(
      'Input "cache" has an invalid value "s3": expected one of "gha", "registry", "none".',
    );
  });
});
