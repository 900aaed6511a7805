import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigurationError,
  inputEnvName,
  registeredSecrets,
  setInputSource,
  type InputSource,
} from '@planner-deploy/action-kit';
import { readInputs } from '../../src/inputs.js';

let previous: InputSource | undefined;
let workspace: string;

function useInputs(inputs: Record<string, string>): void {
  const source: InputSource = {};
  for (const [name, value] of Object.entries(inputs)) source[inputEnvName(name)] = value;
  const before = setInputSource(source);
  previous ??= before;
}

async function read(inputs: Record<string, string>) {
  useInputs(inputs);
  return readInputs({ GITHUB_WORKSPACE: workspace });
}

async function failure(inputs: Record<string, string>): Promise<ConfigurationError> {
  const error = await read(inputs).catch((e: unknown) => e);
  if (!(error instanceof ConfigurationError))
    throw new Error(`expected a ConfigurationError, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'verify-health-inputs-'));
  await writeFile(
    join(workspace, 'smoke.yml'),
    '- name: tasks\n  url: /api/tasks\n  headers: { X-Deploy-Token: smoke-secret-4242 }\n',
  );
  await writeFile(join(workspace, 'broken.yml'), '- url: /a\n  expected-status: soon\n');
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});
afterEach(() => {
  if (previous) setInputSource(previous);
  previous = undefined;
});

describe('readInputs: defaults and values', () => {
  it('applies the documented defaults', async () => {
    const inputs = await read({ urls: 'https://app.example.test/health' });
    expect(inputs.urls.map((u) => u.href)).toEqual(['https://app.example.test/health']);
    expect(inputs.method).toBe('GET');
    expect(inputs.headers).toEqual({});
    expect(inputs['secret-headers']).toEqual([]);
    expect(inputs['expected-status']).toEqual([{ min: 200, max: 299 }]);
    expect(inputs['expected-body']).toBeUndefined();
    expect(inputs['expected-body-regex']).toBeUndefined();
    expect(inputs['expected-json']).toEqual([]);
    expect(inputs['initial-delay']).toBe(0);
    expect(inputs.interval).toBe(5000);
    expect(inputs['request-timeout']).toBe(10_000);
    expect(inputs.timeout).toBe(300_000);
    expect(inputs['consecutive-successes']).toBe(1);
    expect(inputs['smoke-tests']).toBeUndefined();
    expect(inputs['follow-redirects']).toBe(true);
    expect(inputs.insecure).toBe(false);
  });

  it('reads every input', async () => {
    const inputs = await read({
      urls: 'https://a.test/health\n# a comment\n\nhttp://b.test:8080/ready?x=1,2',
      method: 'post',
      headers: 'X-Env: staging\nX-Deploy-Token: abc: def',
      'secret-headers': 'x-deploy-token',
      'expected-status': '200,204,301-302',
      'expected-body': 'ok',
      'expected-body-regex': '"status":\\s*"ok"',
      'expected-json': 'version=abc123\nchecks.db=ok',
      'initial-delay': '60s',
      interval: '2s',
      'request-timeout': '3s',
      timeout: '10m',
      'consecutive-successes': '3',
      'smoke-tests': 'smoke.yml',
      'follow-redirects': 'false',
      insecure: 'true',
    });
    expect(inputs.urls.map((u) => u.href)).toEqual([
      'https://a.test/health',
      'http://b.test:8080/ready?x=1,2',
    ]);
    expect(inputs.method).toBe('POST');
    expect(inputs.headers).toEqual({ 'X-Env': 'staging', 'X-Deploy-Token': 'abc: def' });
    expect(inputs['secret-headers']).toEqual(['x-deploy-token']);
    expect(inputs['expected-status']).toHaveLength(3);
    expect(inputs['expected-body-regex']?.test('{"status": "ok"}')).toBe(true);
    expect(inputs['expected-json'].map((j) => `${j.path}=${j.expected}`)).toEqual([
      'version=abc123',
      'checks.db=ok',
    ]);
    expect([inputs['initial-delay'], inputs.interval, inputs['request-timeout'], inputs.timeout]).toEqual([
      60_000, 2000, 3000, 600_000,
    ]);
    expect(inputs['consecutive-successes']).toBe(3);
    expect(inputs['smoke-tests']?.checks.map((c) => c.url.href)).toEqual(['https://a.test/api/tasks']);
    expect(inputs['follow-redirects']).toBe(false);
    expect(inputs.insecure).toBe(true);
  });

  it('needs no urls when smoke-tests is set', async () => {
    await writeFile(join(workspace, 'absolute.yml'), '- https://x.test/a\n');
    const inputs = await read({ 'smoke-tests': 'absolute.yml' });
    expect(inputs.urls).toEqual([]);
    expect(inputs['smoke-tests']?.checks).toHaveLength(1);
  });

  it('masks secret-headers values, credential headers, URL passwords and smoke-test secrets before returning', async () => {
    await read({
      urls: 'https://deployer:url-pass-7788@a.test/health',
      headers: 'Authorization: Bearer tok_1234567890\nX-Deploy-Token: deploy-secret-99\nX-Env: staging',
      'secret-headers': 'X-Deploy-Token',
      'smoke-tests': 'smoke.yml',
    });
    const masked = registeredSecrets();
    expect(masked).toEqual(
      expect.arrayContaining([
        'Bearer tok_1234567890',
        'tok_1234567890',
        'deploy-secret-99',
        'url-pass-7788',
        'smoke-secret-4242',
      ]),
    );
    expect(masked).not.toContain('staging');
  });
});

describe('readInputs: every input refuses a bad value, naming the input and saying what is allowed', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      'urls',
      { urls: 'ftp://example.test/health' },
      /"ftp:\/\/example\.test\/health": only http:\/\/ and https:\/\/ URLs/,
    ],
    ['urls', { urls: 'not a url' }, /"not a url": expected absolute http:\/\/ or https:\/\/ URLs/],
    ['urls', { urls: '/health' }, /"\/health": expected absolute/],
    ['urls', { urls: 'https://a.test/x\nhttps://a.test/x' }, /listed twice/],
    ['urls', {}, /required unless "smoke-tests" is set/],
    ['method', { urls: 'https://a.test', method: 'FETCH' }, /"FETCH": expected one of "GET", "HEAD", "POST"/],
    ['headers', { urls: 'https://a.test', headers: 'NoColonHere' }, /line 1: there is no "Name:"/],
    [
      'headers',
      { urls: 'https://a.test', headers: 'X-A: 1\nBad Name: x' },
      /line 2: the text before ":" is not a valid header name \(it contains a space/,
    ],
    [
      'headers',
      { urls: 'https://a.test', headers: 'Host: other.test' },
      /"Host" is set by the action itself/,
    ],
    ['headers', { urls: 'https://a.test', headers: 'X-A: 1\nx-a: 2' }, /"x-a" is given more than once/],
    [
      'secret-headers',
      { urls: 'https://a.test', 'secret-headers': 'X-Not-Given' },
      /"X-Not-Given": .*set nowhere/,
    ],
    [
      'secret-headers',
      { urls: 'https://a.test', 'secret-headers': 'Bad Name' },
      /"Bad Name": expected header names/,
    ],
    [
      'expected-status',
      { urls: 'https://a.test', 'expected-status': '299-200' },
      /"299-200".*e\.g\. "200-299"/,
    ],
    ['expected-status', { urls: 'https://a.test', 'expected-status': 'ok' }, /"ok" is not a status code/],
    [
      'expected-body',
      { urls: 'https://a.test', method: 'HEAD', 'expected-body': 'ok' },
      /method is HEAD, whose responses have no body/,
    ],
    [
      'expected-body-regex',
      { urls: 'https://a.test', 'expected-body-regex': '([unclosed' },
      /"\(\[unclosed": expected a JavaScript regular expression/,
    ],
    [
      'expected-body-regex',
      { urls: 'https://a.test', method: 'HEAD', 'expected-body-regex': 'ok' },
      /method is HEAD/,
    ],
    [
      'expected-json',
      { urls: 'https://a.test', 'expected-json': 'no-equals-sign' },
      /"no-equals-sign": expected one "key=value" per line/,
    ],
    [
      'expected-json',
      { urls: 'https://a.test', 'expected-json': 'a..b=1' },
      /"a\.\.b=1": "a\.\.b" is not a valid path/,
    ],
    [
      'expected-json',
      { urls: 'https://a.test', 'expected-json': 'v=1\nv=2' },
      /the key "v" is given more than once/,
    ],
    ['expected-json', { urls: 'https://a.test', method: 'HEAD', 'expected-json': 'v=1' }, /method is HEAD/],
    ['initial-delay', { urls: 'https://a.test', 'initial-delay': 'soon' }, /"soon": expected a duration/],
    [
      'initial-delay',
      { urls: 'https://a.test', 'initial-delay': '10m', timeout: '5m' },
      /"10m": the initial delay must be shorter than "timeout" \(5m\)/,
    ],
    [
      'interval',
      { urls: 'https://a.test', interval: '5' },
      /"5": expected a duration .*\(for seconds write "5s"\)/,
    ],
    ['interval', { urls: 'https://a.test', interval: '1ms' }, /"1ms": expected a duration of at least 10ms/],
    ['request-timeout', { urls: 'https://a.test', 'request-timeout': '-1s' }, /"-1s": expected a duration/],
    ['timeout', { urls: 'https://a.test', timeout: 'forever' }, /"forever": expected a duration/],
    ['timeout', { urls: 'https://a.test', timeout: '7h' }, /"7h": expected a duration of at most 21600s/],
    [
      'consecutive-successes',
      { urls: 'https://a.test', 'consecutive-successes': '0' },
      /"0": expected a whole number from 1 to 100/,
    ],
    [
      'consecutive-successes',
      { urls: 'https://a.test', 'consecutive-successes': 'two' },
      /"two": expected a whole number/,
    ],
    [
      'smoke-tests',
      { urls: 'https://a.test', 'smoke-tests': 'does-not-exist.yml' },
      /"does-not-exist\.yml", which cannot be read/,
    ],
    [
      'smoke-tests',
      { urls: 'https://a.test', 'smoke-tests': 'broken.yml' },
      /file "broken\.yml" is not a valid smoke-tests file: checks\[0\]\.expected-status/,
    ],
    [
      'follow-redirects',
      { urls: 'https://a.test', 'follow-redirects': 'yes' },
      /"yes": expected true or false/,
    ],
    ['insecure', { urls: 'https://a.test', insecure: 'maybe' }, /"maybe": expected true or false/],
  ];
  it.each(cases)('%s: %j', async (input, inputs, message) => {
    const error = await failure(inputs);
    expect(error.message).toContain(`Input "${input}"`);
    expect(error.title).toContain(input);
    expect(error.message).toMatch(message);
  });

  it('covers every input of action.yml', async () => {
    const { readFile } = await import('node:fs/promises');
    const yaml = await import('yaml');
    const action = yaml.parse(await readFile(new URL('../../action.yml', import.meta.url), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const tested = new Set(cases.map(([input]) => input));
    expect(Object.keys(action.inputs).filter((name) => !tested.has(name))).toEqual([]);
  });

  it('never quotes a header line, whose value may be a secret not yet masked', async () => {
    const error = await failure({ urls: 'https://a.test', headers: 'Authorization Bearer never-shown-0000' });
    expect(error.message).not.toContain('never-shown-0000');
    const bad = await failure({ urls: 'https://a.test', headers: 'X-Token: ok\u0001never-shown-0001' });
    expect(bad.message).not.toContain('never-shown-0001');
  });
});

describe('readInputs: credentials in URLs and header lines are masked and never quoted', () => {
  it('masks a token given as the user of a URL (https://TOKEN@host)', async () => {
    await read({ urls: 'https://ghp_userOnlyToken0123456789@a.test/health' });
    expect(registeredSecrets()).toContain('ghp_userOnlyToken0123456789');
  });

  it('masks the password of a URL that does not parse, and quotes the line without it', async () => {
    const error = await failure({ urls: 'https://deployer:unparsed-pass-5150@a test/health' });
    expect(error.message).toContain('Input "urls"');
    expect(error.message).not.toContain('unparsed-pass-5150');
    expect(error.message).toContain('deployer:***@');
    expect(registeredSecrets()).toContain('unparsed-pass-5150');
  });

  it('does not quote a header line whose name part holds a pasted value', async () => {
    const error = await failure({ urls: 'https://a.test', headers: 'Bearer pasted-token-7777: x' });
    expect(error.message).toContain('line 1');
    expect(error.message).not.toContain('pasted-token-7777');
  });

  it('names an invalid regex without echoing a huge pattern whole', async () => {
    const pattern = `(${'x'.repeat(5000)}`;
    const error = await failure({ urls: 'https://a.test', 'expected-body-regex': pattern });
    expect(error.message).toContain('Input "expected-body-regex"');
    expect(error.message).toContain('Unterminated group');
    expect(error.message.length).toBeLessThan(400);
  });
});
