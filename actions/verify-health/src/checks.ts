import { checkExpectedJson, type JsonExpectation } from './json-path.js';
import { formatStatusRanges, statusMatches, type StatusRange } from './status-ranges.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** What a response must show to count as a success. */
export interface Expectations {
  status: StatusRange[];
  body: string | undefined;
  bodyRegex: RegExp | undefined;
  json: JsonExpectation[];
}

/** One URL to poll until it passes: a line of `urls` or an entry of the smoke-tests file. */
export interface CheckSpec {
  name: string;
  url: URL;
  method: HttpMethod;
  /** Header name as written → value. */
  headers: Record<string, string>;
  expect: Expectations;
}

/** Headers whose values are credentials: masked like secret-headers, and dropped on a cross-origin redirect. */
export const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
]);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space, tab and obs-text: what Node accepts in a header value.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Why a header cannot be sent, or undefined when it can. */
export function headerProblem(name: string, value: string): string | undefined {
  if (!TOKEN.test(name))
    return `"${name}" is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only)`;
  if (!HEADER_VALUE.test(value)) return `the value of header "${name}" contains a control character`;
  if (['host', 'content-length', 'transfer-encoding', 'connection'].includes(name.toLowerCase())) {
    return `the header "${name}" is set by the action itself and cannot be overridden`;
  }
  return undefined;
}

/** Later headers override earlier ones with the same name, whatever the case. */
export function mergeHeaders(...sets: Record<string, string>[]): Record<string, string> {
  const merged = new Map<string, [string, string]>();
  for (const set of sets) {
    for (const [name, value] of Object.entries(set)) merged.set(name.toLowerCase(), [name, value]);
  }
  return Object.fromEntries(merged.values());
}

/** Why a URL cannot be checked, or undefined when it is an absolute http(s) URL. */
export function urlProblem(url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `only http:// and https:// URLs can be checked, not ${url.protocol}//`;
  }
  if (url.hostname === '') return 'the URL has no host';
  return undefined;
}

/**
 * The secrets a URL with a password carries: the password as written and decoded, and the basic-auth token
 * Node builds from it (a server that echoes the Authorization header would show it).
 */
export function urlSecrets(url: URL): string[] {
  if (url.password === '') return [];
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const token = Buffer.from(`${decode(url.username)}:${decode(url.password)}`).toString('base64');
  return [...new Set([url.password, decode(url.password), token])];
}

/** A URL for logs: the password (if any) replaced by `***`. */
export function displayUrl(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

export interface ResponseSample {
  status: number;
  body: string;
}

export interface Mismatch {
  /** `status`: the status code is not expected; `content`: the body is not what was expected. */
  kind: 'status' | 'content';
  message: string;
}

/** Why a response does not pass, or undefined when it passes. */
export function evaluateResponse(response: ResponseSample, expect: Expectations): Mismatch | undefined {
  if (!statusMatches(response.status, expect.status)) {
    return {
      kind: 'status',
      message: `status ${response.status} is not in expected-status ${formatStatusRanges(expect.status)}`,
    };
  }
  let message: string | undefined;
  if (expect.body !== undefined && !response.body.includes(expect.body)) {
    message = `the body does not contain expected-body ${JSON.stringify(expect.body)}`;
  } else if (expect.bodyRegex !== undefined && !expect.bodyRegex.test(response.body)) {
    message = `the body does not match expected-body-regex /${expect.bodyRegex.source}/`;
  } else {
    message = checkExpectedJson(response.body, expect.json);
  }
  return message === undefined ? undefined : { kind: 'content', message };
}

/** A short text of what a check expects, for the summary. */
export function describeExpectations(expect: Expectations): string {
  const parts = [`status ${formatStatusRanges(expect.status)}`];
  if (expect.body !== undefined) parts.push(`body contains ${JSON.stringify(expect.body)}`);
  if (expect.bodyRegex !== undefined) parts.push(`body matches /${expect.bodyRegex.source}/`);
  for (const json of expect.json) parts.push(`${json.path} = ${JSON.stringify(json.expected)}`);
  return parts.join('; ');
}
