import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from '@planner-deploy/action-kit';
import { loadSmokeTests, parseSmokeTests } from '../../src/smoke-tests.js';

const base = new URL('https://app.example.test/health');

/** `null`: no URL to resolve relative ones against (undefined would take the default). */
async function parse(text: string, fallback: URL | null = base) {
  return parseSmokeTests(text, 'ci/smoke.yml', fallback ?? undefined);
}

async function problem(text: string, fallback: URL | null = base): Promise<ConfigurationError> {
  try {
    await parse(text, fallback);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('parseSmokeTests: valid files', () => {
  it('reads a list of checks with every field', async () => {
    const [check] = await parse(`
- name: version
  url: https://api.example.test/version
  method: post
  headers:
    X-Env: staging
  expected-status: 200,204
  expected-body: ok
  expected-body-regex: "v\\\\d+"
  expected-json:
    version: abc123
    checks.db: ok
    items[0].id: 1
`);
    expect(check?.name).toBe('version');
    expect(check?.url.href).toBe('https://api.example.test/version');
    expect(check?.method).toBe('POST');
    expect(check?.headers).toEqual({ 'X-Env': 'staging' });
    expect(check?.expect.status).toEqual([
      { min: 200, max: 200 },
      { min: 204, max: 204 },
    ]);
    expect(check?.expect.body).toBe('ok');
    expect(check?.expect.bodyRegex?.source).toBe('v\\d+');
    expect(check?.expect.json.map((j) => [j.path, j.expected])).toEqual([
      ['version', 'abc123'],
      ['checks.db', 'ok'],
      ['items[0].id', '1'],
    ]);
  });

  const variants: Array<[string, string, Record<string, unknown>]> = [
    [
      'defaults',
      '- url: https://x.test/a',
      { name: 'https://x.test/a', method: 'GET', status: [{ min: 200, max: 299 }] },
    ],
    ['a bare URL string', '- https://x.test/b', { name: 'https://x.test/b' }],
    [
      'a relative URL against the first of urls',
      '- url: /api/tasks',
      { url: 'https://app.example.test/api/tasks' },
    ],
    [
      'a relative URL against base-url',
      'base-url: http://10.0.0.1:8080/\nchecks:\n  - url: api/tasks',
      { url: 'http://10.0.0.1:8080/api/tasks' },
    ],
    ['a numeric status', '- url: /a\n  expected-status: 204', { status: [{ min: 204, max: 204 }] }],
    [
      'a status list',
      '- url: /a\n  expected-status: [200, "301-302"]',
      {
        status: [
          { min: 200, max: 200 },
          { min: 301, max: 302 },
        ],
      },
    ],
    [
      'headers as a list',
      '- url: /a\n  headers: ["X-A: 1", "X-B: two: parts"]',
      { headers: { 'X-A': '1', 'X-B': 'two: parts' } },
    ],
    [
      'expected-json as a list',
      '- url: /a\n  expected-json: ["items[0].id=1", "a=b=c"]',
      {
        json: [
          ['items[0].id', '1'],
          ['a', 'b=c'],
        ],
      },
    ],
    [
      'expected-json with a YAML boolean and null',
      '- url: /a\n  expected-json: { ready: true, err: null }',
      {
        json: [
          ['ready', 'true'],
          ['err', 'null'],
        ],
      },
    ],
  ];
  it.each(variants)('%s', async (_what, text, expected) => {
    const [check] = await parse(text);
    if (!check) throw new Error('no check');
    const seen: Record<string, unknown> = {
      name: check.name,
      url: check.url.href,
      method: check.method,
      status: check.expect.status,
      headers: check.headers,
      json: check.expect.json.map((j) => [j.path, j.expected]),
    };
    for (const [key, value] of Object.entries(expected)) expect(seen[key]).toEqual(value);
  });
});

describe('parseSmokeTests: every problem names the input, the file and the field', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['YAML syntax', '- url: [unclosed', /YAML error/],
    ['a scalar file', 'just text', /expected a list of checks/],
    ['an empty list', '[]', /checks: expected a non-empty list/],
    ['checks missing', 'base-url: https://x.test', /checks: expected a non-empty list/],
    ['an unknown top key', 'check: []', /unknown key "check"/],
    ['a bad base-url', 'base-url: ftp://x.test\nchecks: [/a]', /base-url: only http/],
    ['a check without url', '- name: x', /checks\[0\]\.url: expected a URL/],
    [
      'a typo in a field',
      '- url: /a\n  expected_status: 200',
      /checks\[0\]: unknown field "expected_status"/,
    ],
    ['a non-http URL', '- url: /a\n- url: file:///etc/passwd', /checks\[1\]\.url: only http/],
    ['a bad method', '- url: /a\n  method: FETCH', /checks\[0\]\.method: "FETCH" is not one of/],
    [
      'a body check on HEAD',
      '- url: /a\n  method: HEAD\n  expected-json: { a: 1 }',
      /checks\[0\]\.expected-json: a HEAD response has no body/,
    ],
    ['a bad status', '- url: /a\n  expected-status: 299-200', /checks\[0\]\.expected-status: "299-200"/],
    [
      'a bad regex',
      '- url: /a\n  expected-body-regex: "([x"',
      /checks\[0\]\.expected-body-regex: \/\(\[x\/ is not a valid regular expression: Unterminated/,
    ],
    [
      'a bad JSON path',
      '- url: /a\n  expected-json: { "a..b": 1 }',
      /checks\[0\]\.expected-json: "a\.\.b" is not a valid path/,
    ],
    [
      'a JSON line without =',
      '- url: /a\n  expected-json: [version]',
      /checks\[0\]\.expected-json: expected "path=value"/,
    ],
    [
      'a bad header name',
      '- url: /a\n  headers: { "Bad Name": x }',
      /checks\[0\]\.headers: the text before ":" is not a valid header name \(it contains a space/,
    ],
    [
      'a header value that is not text',
      '- url: /a\n  headers: { X-A: [1] }',
      /checks\[0\]\.headers: the value of "X-A"/,
    ],
    [
      'an empty expected-body',
      '- url: /a\n  expected-body: ""',
      /checks\[0\]\.expected-body: expected a non-empty string/,
    ],
    [
      'two checks with one name',
      '- { name: a, url: /a }\n- { name: a, url: /b }',
      /checks\[1\]: the name "a" is used by two checks/,
    ],
  ];
  it.each(cases)('%s', async (_what, text, message) => {
    const error = await problem(text);
    expect(error.message).toMatch(
      /^Input "smoke-tests": the file "ci\/smoke\.yml" is not a valid smoke-tests file: /,
    );
    expect(error.message).toMatch(message);
    expect(error.title).toBe('Invalid input: smoke-tests');
  });

  it('refuses a relative URL when there is nothing to resolve it against', async () => {
    const error = await problem('- url: /api', null);
    expect(error.message).toMatch(
      /checks\[0\]\.url: "\/api" is not an absolute URL, and there is no base-url/,
    );
  });
});

describe('loadSmokeTests', () => {
  let workspace: string;
  beforeAll(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'verify-health-smoke-'));
    await writeFile(join(workspace, 'smoke.yml'), '- url: https://x.test/a\n');
  });
  afterAll(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  it('reads a file relative to the workspace', async () => {
    const checks = await loadSmokeTests('smoke.yml', workspace, undefined);
    expect(checks.map((c) => c.url.href)).toEqual(['https://x.test/a']);
  });
  it('reads an absolute path', async () => {
    const checks = await loadSmokeTests(join(workspace, 'smoke.yml'), '/nonexistent', undefined);
    expect(checks).toHaveLength(1);
  });
  it.each([
    [
      'missing.yml',
      /names the file "missing\.yml", which cannot be read \(no such file; looked at .*missing\.yml\)/,
    ],
    ['.', /cannot be read \(it is a directory/],
  ])('names the input and the file when %s cannot be read', async (path, message) => {
    const error = await loadSmokeTests(path, workspace, undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/^Input "smoke-tests" /);
    expect((error as Error).message).toMatch(message);
  });
});
