import {
  ConfigurationError,
  getBoolean,
  getDuration,
  getEnum,
  getInteger,
  getLines,
  getList,
  getOptionalString,
  invalidInput,
  maskSecret,
  parseMap,
  redactUrl,
  urlCredentials,
} from '@planner-deploy/action-kit';
import {
  CREDENTIAL_HEADERS,
  HTTP_METHODS,
  headerProblem,
  urlProblem,
  urlSecrets,
  type CheckSpec,
  type HttpMethod,
} from './checks.js';
import { withoutPattern } from './regex-match.js';
import { parseJsonPath, type JsonExpectation } from './json-path.js';
import { DEFAULT_EXPECTED_STATUS, parseStatusRanges, type StatusRange } from './status-ranges.js';

/** The inputs of action.yml, read and validated before any request is sent. Durations are in ms. */
export interface Inputs {
  urls: URL[];
  method: HttpMethod;
  headers: Record<string, string>;
  /** Lower-case names of headers whose values are masked before anything is logged. */
  'secret-headers': string[];
  'expected-status': StatusRange[];
  'expected-body': string | undefined;
  'expected-body-regex': RegExp | undefined;
  'expected-json': JsonExpectation[];
  'initial-delay': number;
  interval: number;
  'request-timeout': number;
  timeout: number;
  'consecutive-successes': number;
  /** The checks of the smoke-tests file, already loaded and validated (undefined when not set). */
  'smoke-tests': { file: string; checks: CheckSpec[] } | undefined;
  'follow-redirects': boolean;
  insecure: boolean;
}

/** GitHub stops a job after 6 hours; a longer deadline is a typo. */
const MAX_MS = 6 * 3_600_000;

export async function readInputs(env: Record<string, string | undefined> = process.env): Promise<Inputs> {
  const urls = readUrls();
  const method = getEnum('method', HTTP_METHODS, 'GET');
  const headers = readHeaders();
  const secretNames = readSecretHeaderNames();
  const secretHeaders = [...new Set(secretNames.map((name) => name.toLowerCase()))];
  // Secrets are masked first: nothing below may log before the runner knows them.
  maskHeaderValues(headers, secretHeaders);

  const expectedStatus = readStatus();
  const expectedBody = getOptionalString('expected-body');
  const expectedBodyRegex = readRegex();
  const expectedJson = readExpectedJson();
  if (method === 'HEAD') {
    const bodyInputs: Array<[string, boolean]> = [
      ['expected-body', expectedBody !== undefined],
      ['expected-body-regex', expectedBodyRegex !== undefined],
      ['expected-json', expectedJson.length > 0],
    ];
    const bodyInput = bodyInputs.find(([, set]) => set)?.[0];
    if (bodyInput !== undefined) {
      throw new ConfigurationError(
        `Input "${bodyInput}" checks the response body, but method is HEAD, whose responses have no body. Use method GET, or drop the body checks.`,
        { title: `Invalid input: ${bodyInput}` },
      );
    }
  }

  const timeout = getDuration('timeout', 300_000, { minMs: 10, maxMs: MAX_MS });
  const initialDelay = getDuration('initial-delay', 0, { maxMs: MAX_MS });
  if (initialDelay >= timeout) {
    throw invalidInput(
      'initial-delay',
      getOptionalString('initial-delay') ?? '',
      `the initial delay must be shorter than "timeout" (${getOptionalString('timeout') ?? '5m'}), which counts from the start of the step and includes the delay.`,
    );
  }
  const interval = getDuration('interval', 5000, { minMs: 10, maxMs: MAX_MS });
  const requestTimeout = getDuration('request-timeout', 10_000, { minMs: 10, maxMs: MAX_MS });
  const consecutiveSuccesses = getInteger('consecutive-successes', 1, { min: 1, max: 100 });
  const followRedirects = getBoolean('follow-redirects', true);
  const insecure = getBoolean('insecure', false);

  const smokeTestsPath = getOptionalString('smoke-tests');
  let smokeTests: Inputs['smoke-tests'];
  if (smokeTestsPath !== undefined) {
    const { loadSmokeTests } = await import('./smoke-tests.js');
    const checks = await loadSmokeTests(smokeTestsPath, env.GITHUB_WORKSPACE ?? process.cwd(), urls[0]);
    for (const check of checks) {
      maskHeaderValues(check.headers, secretHeaders);
      for (const secret of urlSecrets(check.url)) maskSecret(secret);
    }
    smokeTests = { file: smokeTestsPath, checks };
  }
  const everyHeader = [headers, ...(smokeTests?.checks ?? []).map((check) => check.headers)].flatMap(
    Object.keys,
  );
  const unknown = secretNames.find(
    (name) => !everyHeader.some((header) => header.toLowerCase() === name.toLowerCase()),
  );
  if (unknown !== undefined) {
    throw invalidInput(
      'secret-headers',
      unknown,
      'expected names of headers set in "headers" (or in the smoke-tests file) whose values are secret; this header is set nowhere.',
    );
  }
  if (urls.length === 0 && smokeTests === undefined) {
    throw new ConfigurationError(
      'Input "urls" is required unless "smoke-tests" is set, but neither was set.',
      {
        title: 'Missing input: urls',
      },
    );
  }

  return {
    urls,
    method,
    headers,
    'secret-headers': secretHeaders,
    'expected-status': expectedStatus,
    'expected-body': expectedBody,
    'expected-body-regex': expectedBodyRegex,
    'expected-json': expectedJson,
    'initial-delay': initialDelay,
    interval,
    'request-timeout': requestTimeout,
    timeout,
    'consecutive-successes': consecutiveSuccesses,
    'smoke-tests': smokeTests,
    'follow-redirects': followRedirects,
    insecure,
  };
}

/** Masks a credential and, for `Bearer <token>`-style values, the token alone (a server may echo it). */
function maskCredential(value: string | undefined): void {
  if (value === undefined) return;
  maskSecret(value);
  const token = /^\S+\s+(\S{6,})$/.exec(value.trim());
  if (token) maskSecret(token[1]);
}

function readUrls(): URL[] {
  const urls: URL[] = [];
  const seen = new Set<string>();
  for (const line of getLines('urls')) {
    // Credentials are masked before the line can be quoted, even in a line that does not parse; and the
    // quote shows the line with them replaced by ***.
    for (const secret of urlCredentials(line)) maskSecret(secret);
    let url: URL;
    try {
      url = new URL(line);
    } catch {
      throw invalidInput(
        'urls',
        redactUrl(line),
        'expected absolute http:// or https:// URLs, one per line.',
      );
    }
    for (const secret of urlSecrets(url)) maskSecret(secret);
    const shown = redactUrl(url);
    const why = urlProblem(url);
    if (why)
      throw invalidInput('urls', shown, `${why}; expected absolute http:// or https:// URLs, one per line.`);
    if (seen.has(url.href)) throw invalidInput('urls', shown, 'the URL is listed twice.');
    seen.add(url.href);
    urls.push(url);
  }
  return urls;
}

function readHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  // Errors quote the header name only, never the line: its value may be a secret not masked yet.
  const fail = (line: number, why: string): ConfigurationError =>
    new ConfigurationError(
      `Input "headers" has an invalid line ${line}: ${why}; expected one "Name: value" per line.`,
      {
        title: 'Invalid input: headers',
      },
    );
  getLines('headers').forEach((line, index) => {
    const at = line.indexOf(':');
    if (at <= 0) throw fail(index + 1, 'there is no "Name:" before the value');
    const header = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    const why = headerProblem(header, value);
    if (why) throw fail(index + 1, why);
    if (seen.has(header.toLowerCase()))
      throw fail(index + 1, `the header "${header}" is given more than once`);
    seen.add(header.toLowerCase());
    headers[header] = value;
  });
  return headers;
}

function readSecretHeaderNames(): string[] {
  const names = getList('secret-headers');
  for (const name of names) {
    if (headerProblem(name, '') !== undefined) {
      throw invalidInput(
        'secret-headers',
        name,
        'expected header names (as in "headers"), one per line or separated by commas.',
      );
    }
  }
  return names;
}

/** Masks the values of the named headers and of the usual credential headers (Authorization, Cookie…). */
function maskHeaderValues(headers: Record<string, string>, secretNames: readonly string[]): void {
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (secretNames.includes(lower) || CREDENTIAL_HEADERS.has(lower)) maskCredential(value);
  }
}

function readStatus(): StatusRange[] {
  const text = getOptionalString('expected-status') ?? DEFAULT_EXPECTED_STATUS;
  const parsed = parseStatusRanges(text);
  if ('error' in parsed) throw invalidInput('expected-status', text, parsed.error);
  return parsed;
}

function readRegex(): RegExp | undefined {
  const text = getOptionalString('expected-body-regex');
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (error) {
    throw invalidInput(
      'expected-body-regex',
      text,
      `expected a JavaScript regular expression (${withoutPattern((error as Error).message)}).`,
    );
  }
}

function readExpectedJson(): JsonExpectation[] {
  const lines = getLines('expected-json');
  const map = parseMap('expected-json', lines, '=');
  const expectations: JsonExpectation[] = [];
  for (const [path, expected] of map) {
    const segments = parseJsonPath(path);
    if ('error' in segments) throw invalidInput('expected-json', `${path}=${expected}`, segments.error);
    expectations.push({ path, segments, expected });
  }
  return expectations;
}
