import { describe, expect, it } from '@jest/globals';
import {
  checkExpectedJson,
  jsonValueMatches,
  parseJsonPath,
  readJsonPath,
  type JsonExpectation,
} from '../../src/json-path.js';

describe('parseJsonPath', () => {
  const valid: Array<[string, unknown[]]> = [
    ['version', [{ key: 'version' }]],
    ['checks.db', [{ key: 'checks' }, { key: 'db' }]],
    ['items[0].name', [{ key: 'items' }, { index: 0 }, { key: 'name' }]],
    ['[2]', [{ index: 2 }]],
    ['a[1][0]', [{ key: 'a' }, { index: 1 }, { index: 0 }]],
    ['["key.with.dots"].x', [{ key: 'key.with.dots' }, { key: 'x' }]],
    ["meta['build-id']", [{ key: 'meta' }, { key: 'build-id' }]],
    ['$.version', [{ key: 'version' }]],
    ['$[0]', [{ index: 0 }]],
    ['app-info.git_sha', [{ key: 'app-info' }, { key: 'git_sha' }]],
  ];
  it.each(valid)('%s', (text, segments) => {
    expect(parseJsonPath(text)).toEqual(segments);
  });

  const invalid = ['', '$', 'a..b', '.a', 'a.', 'a[', 'a[x]', 'a[-1]', 'a]b', 'a.[0]'];
  it.each(invalid)('refuses %j', (text) => {
    const result = parseJsonPath(text);
    expect(result).toHaveProperty('error');
    expect((result as { error: string }).error).toContain(JSON.stringify(text));
  });
});

describe('readJsonPath', () => {
  const doc = { version: 'abc', checks: { db: 'ok' }, items: [{ id: 1 }, { id: 2 }], empty: null };
  const cases: Array<[string, unknown]> = [
    ['version', { found: true, value: 'abc' }],
    ['checks.db', { found: true, value: 'ok' }],
    ['items[1].id', { found: true, value: 2 }],
    ['items.0.id', { found: true, value: 1 }],
    ['empty', { found: true, value: null }],
    ['checks.cache', { found: false, missing: 'checks.cache' }],
    ['items[5].id', { found: false, missing: 'items[5]' }],
    ['version.x', { found: false, missing: 'version.x' }],
    ['empty.x', { found: false, missing: 'empty.x' }],
    ['toString', { found: false, missing: 'toString' }],
  ];
  it.each(cases)('%s', (path, expected) => {
    const segments = parseJsonPath(path);
    if ('error' in segments) throw new Error(segments.error);
    expect(readJsonPath(doc, segments)).toEqual(expected);
  });
});

describe('jsonValueMatches', () => {
  const cases: Array<[unknown, string, boolean]> = [
    ['abc123', 'abc123', true],
    ['abc123', '"abc123"', true],
    ['abc123', 'abc124', false],
    ['42', '42', true],
    [42, '42', true],
    [42, '42.0', true],
    [42, '43', false],
    [true, 'true', true],
    [false, 'true', false],
    [null, 'null', true],
    [null, '', false],
    [{ a: 1, b: [1, 2] }, '{"b":[1,2],"a":1}', true],
    [{ a: 1 }, '{"a":1,"b":2}', false],
    [[1, 2], '[1,2]', true],
    [[1, 2], '[2,1]', false],
  ];
  it.each(cases)('%j vs %j → %s', (actual, expected, result) => {
    expect(jsonValueMatches(actual, expected)).toBe(result);
  });
});

describe('checkExpectedJson', () => {
  const expect_ = (lines: Record<string, string>): JsonExpectation[] =>
    Object.entries(lines).map(([path, expected]) => {
      const segments = parseJsonPath(path);
      if ('error' in segments) throw new Error(segments.error);
      return { path, segments, expected };
    });

  it('passes when every path holds', () => {
    const body = JSON.stringify({ version: 'abc123', checks: { db: 'ok' } });
    expect(checkExpectedJson(body, expect_({ version: 'abc123', 'checks.db': 'ok' }))).toBeUndefined();
  });
  it('names the path, the value served and the value expected', () => {
    const body = JSON.stringify({ version: 'old111' });
    expect(checkExpectedJson(body, expect_({ version: 'new222' }))).toBe(
      'version is "old111", expected "new222"',
    );
  });
  it('says which part of a path is missing', () => {
    expect(checkExpectedJson('{"checks":{}}', expect_({ 'checks.db': 'ok' }))).toBe(
      'checks.db is missing from the JSON body (no checks.db), expected "ok"',
    );
  });
  it('says when the body is not JSON', () => {
    expect(checkExpectedJson('<html>', expect_({ version: 'x' }))).toMatch(/not JSON/);
  });
  it('does not need a JSON body when nothing is expected', () => {
    expect(checkExpectedJson('<html>', [])).toBeUndefined();
  });
});
