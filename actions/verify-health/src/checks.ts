import { redactUrl, urlCredentials } from '@planner-deploy/action-kit';
import { RegexFailure, RegexTimeout } from './regex-match.js';
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
  if (!TOKEN.test(name)) {
    // The name is not quoted: a malformed line is often a value pasted without its name (`Bearer abc…:…`),
    // and that value may be a credential not masked yet. The first character that is not allowed is enough.
    const bad = [...name].find((char) => !TOKEN.test(char));
    const which =
      name === '' ? 'it is empty' : `it contains ${bad === ' ' ? 'a space' : JSON.stringify(bad ?? '')}`;
    return `the text before ":" is not a valid header name (${which}; letters, digits and !#$%&'*+-.^_\`|~ only)`;
  }
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

/** The secrets a URL carries (a password, or a user alone as in `https://TOKEN@host`), to mask. */
export function urlSecrets(url: URL): string[] {
  return urlCredentials(url);
}

/** A URL for logs: its credentials (if any) replaced by `***`. */
export function displayUrl(url: URL): string {
  return redactUrl(url);
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

/** Runs a user's regex on a body; the action runs it in a worker with a time budget (regex-match.ts). */
export type RegexTest = (regex: RegExp, text: string) => Promise<boolean>;

const inlineTest: RegexTest = (regex, text) => Promise.resolve(regex.test(text));

/** A user's pattern for a message: `/…/`, cut at 100 characters so a huge pattern is not echoed whole. */
export function showRegex(regex: RegExp | string): string {
  const source = typeof regex === 'string' ? regex : regex.source;
  return `/${source.length > 100 ? `${source.slice(0, 99)}…` : source}/`;
}

/** Why a response does not pass, or undefined when it passes. */
export async function evaluateResponse(
  response: ResponseSample,
  expect: Expectations,
  testRegex: RegexTest = inlineTest,
): Promise<Mismatch | undefined> {
  if (!statusMatches(response.status, expect.status)) {
    return {
      kind: 'status',
      message: `status ${response.status} is not in expected-status ${formatStatusRanges(expect.status)}`,
    };
  }
  let message: string | undefined;
  if (expect.body !== undefined && !response.body.includes(expect.body)) {
    message = `the body does not contain expected-body ${JSON.stringify(expect.body)}`;
  } else if (expect.bodyRegex !== undefined) {
    const regex = expect.bodyRegex;
    try {
      if (!(await testRegex(regex, response.body)))
        message = `the body does not match expected-body-regex ${showRegex(regex)}`;
    } catch (error) {
      if (!(error instanceof RegexTimeout) && !(error instanceof RegexFailure)) throw error;
      message =
        error instanceof RegexTimeout
          ? `expected-body-regex ${showRegex(regex)} did not finish matching the ${response.body.length}-character body (${error.message}): ` +
            'the pattern backtracks catastrophically on this body; rewrite it without nested or overlapping repetition such as (a+)+ or (a|a)*'
          : `expected-body-regex ${showRegex(regex)} could not be run on the body (${error.message}); simplify the pattern`;
    }
  }
  message ??= checkExpectedJson(response.body, expect.json);
  return message === undefined ? undefined : { kind: 'content', message };
}

/** A short text of what a check expects, for the summary. */
export function describeExpectations(expect: Expectations): string {
  const parts = [`status ${formatStatusRanges(expect.status)}`];
  if (expect.body !== undefined) parts.push(`body contains ${JSON.stringify(expect.body)}`);
  if (expect.bodyRegex !== undefined) parts.push(`body matches ${showRegex(expect.bodyRegex)}`);
  for (const json of expect.json) parts.push(`${json.path} = ${JSON.stringify(json.expected)}`);
  return parts.join('; ');
}
