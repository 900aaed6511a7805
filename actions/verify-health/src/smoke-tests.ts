import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ConfigurationError, redactUrl } from '@planner-deploy/action-kit';
import {
  HTTP_METHODS,
  displayUrl,
  headerProblem,
  showRegex,
  urlProblem,
  type CheckSpec,
  type HttpMethod,
} from './checks.js';
import { withoutPattern } from './regex-match.js';
import { parseJsonPath, type JsonExpectation } from './json-path.js';
import { DEFAULT_EXPECTED_STATUS, parseStatusRanges } from './status-ranges.js';

/**
 * The smoke-tests file: a YAML list of checks, or a mapping with `checks` and an optional `base-url`
 * against which relative check URLs resolve (otherwise they resolve against the first of `urls`).
 *
 * ```yaml
 * base-url: https://planner.example.com
 * checks:
 *   - name: version
 *     url: /api/version
 *     expected-json: { version: abc123 }
 * ```
 */
export const SMOKE_TEST_FIELDS = [
  'name',
  'url',
  'method',
  'headers',
  'expected-status',
  'expected-body',
  'expected-body-regex',
  'expected-json',
] as const;

const INPUT = 'smoke-tests';

class FileProblem extends Error {}

/** Reads and validates the file named by the smoke-tests input, relative to GITHUB_WORKSPACE. */
export async function loadSmokeTests(
  path: string,
  workspace: string,
  fallbackBase: URL | undefined,
): Promise<CheckSpec[]> {
  const file = isAbsolute(path) ? path : resolve(workspace, path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(code ?? error);
    throw new ConfigurationError(
      `Input "${INPUT}" names the file ${JSON.stringify(path)}, which cannot be read (${why}; looked at ${file}). ` +
        'Give a path to a YAML file relative to the repository root (GITHUB_WORKSPACE).',
      { title: `Invalid input: ${INPUT}` },
    );
  }
  return parseSmokeTests(text, path, fallbackBase);
}

/** Parses the file's text; every problem is a ConfigurationError naming the input, the file and the field. */
export async function parseSmokeTests(
  text: string,
  file: string,
  fallbackBase: URL | undefined,
): Promise<CheckSpec[]> {
  // yaml is loaded only here, so a step without smoke tests does not pay for it at start.
  const YAML = await import('yaml');
  const fileError = (where: string, why: string): ConfigurationError =>
    new ConfigurationError(
      `Input "${INPUT}": the file ${JSON.stringify(file)} is not a valid smoke-tests file: ${where ? `${where}: ` : ''}${why}`,
      { title: `Invalid input: ${INPUT}` },
    );

  const document = YAML.parseDocument(text, { prettyErrors: true });
  const yamlError = document.errors[0];
  if (yamlError) throw fileError('', `YAML error: ${yamlError.message.split('\n')[0] ?? ''}`);
  const root: unknown = document.toJS();

  let entries: unknown;
  let base = fallbackBase;
  if (Array.isArray(root)) {
    entries = root;
  } else if (isRecord(root)) {
    const unknownKey = Object.keys(root).find((key) => key !== 'checks' && key !== 'base-url');
    if (unknownKey !== undefined)
      throw fileError('', `unknown key "${unknownKey}" (allowed at the top: checks, base-url)`);
    entries = root.checks;
    if (root['base-url'] !== undefined) {
      try {
        base = parseAbsoluteUrl(root['base-url']);
      } catch (error) {
        throw fileError('base-url', (error as FileProblem).message);
      }
    }
  } else {
    throw fileError('', 'expected a list of checks, or a mapping with "checks" (and optionally "base-url")');
  }
  if (!Array.isArray(entries) || entries.length === 0) {
    throw fileError('checks', 'expected a non-empty list of checks, each with at least a "url"');
  }

  const names = new Set<string>();
  return entries.map((entry: unknown, index) => {
    const where = `checks[${index}]`;
    try {
      const spec = parseEntry(entry, base);
      if (names.has(spec.name)) throw new FileProblem(`the name "${spec.name}" is used by two checks`);
      names.add(spec.name);
      return spec;
    } catch (error) {
      if (!(error instanceof FileProblem)) throw error;
      const field = /^\[([\w-]+)\] /.exec(error.message);
      throw fileError(
        field ? `${where}.${field[1]}` : where,
        field ? error.message.slice(field[0].length) : error.message,
      );
    }
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function problem(field: string, why: string): FileProblem {
  return new FileProblem(`[${field}] ${why}`);
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function parseAbsoluteUrl(value: unknown): URL {
  if (typeof value !== 'string') throw new FileProblem('expected a URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FileProblem(`${JSON.stringify(redactUrl(value))} is not an absolute URL`);
  }
  const why = urlProblem(url);
  if (why) throw new FileProblem(why);
  return url;
}

function parseEntry(entry: unknown, base: URL | undefined): CheckSpec {
  if (typeof entry === 'string') entry = { url: entry };
  if (!isRecord(entry)) throw new FileProblem('expected a mapping with at least a "url"');
  const unknownKey = Object.keys(entry).find(
    (key) => !(SMOKE_TEST_FIELDS as readonly string[]).includes(key),
  );
  if (unknownKey !== undefined) {
    throw new FileProblem(`unknown field "${unknownKey}" (allowed: ${SMOKE_TEST_FIELDS.join(', ')})`);
  }

  const url = parseCheckUrl(entry.url, base);
  const name = entry.name === undefined ? displayUrl(url) : scalarText(entry.name);
  if (name === undefined || name.trim() === '') throw problem('name', 'expected a non-empty string');

  const method = parseMethod(entry.method);
  if (method === 'HEAD') {
    const bodyField = ['expected-body', 'expected-body-regex', 'expected-json'].find(
      (field) => entry[field] !== undefined,
    );
    if (bodyField !== undefined)
      throw problem(bodyField, 'a HEAD response has no body to check; use method GET');
  }
  return {
    name: name.trim(),
    url,
    method,
    headers: parseHeaders(entry.headers),
    expect: {
      status: parseStatus(entry['expected-status']),
      body: optionalText('expected-body', entry['expected-body']),
      bodyRegex: parseRegex(entry['expected-body-regex']),
      json: parseJson(entry['expected-json']),
    },
  };
}

function parseCheckUrl(value: unknown, base: URL | undefined): URL {
  if (typeof value !== 'string' || value.trim() === '') throw problem('url', 'expected a URL (required)');
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    if (base === undefined) {
      throw problem(
        'url',
        `${JSON.stringify(redactUrl(text))} is not an absolute URL, and there is no base-url in the file nor a URL in "urls" to resolve it against`,
      );
    }
    try {
      url = new URL(text, base);
    } catch {
      throw problem('url', `${JSON.stringify(redactUrl(text))} is not a URL`);
    }
  }
  const why = urlProblem(url);
  if (why) throw problem('url', why);
  return url;
}

function parseMethod(value: unknown): HttpMethod {
  if (value === undefined) return 'GET';
  const text = typeof value === 'string' ? value.trim().toUpperCase() : '';
  const method = HTTP_METHODS.find((m) => m === text);
  if (method === undefined)
    throw problem('method', `${JSON.stringify(value)} is not one of ${HTTP_METHODS.join(', ')}`);
  return method;
}

function parseHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const pairs: [string, string][] = [];
  if (Array.isArray(value)) {
    for (const line of value) {
      const at = typeof line === 'string' ? line.indexOf(':') : -1;
      // The entry is not quoted: its value may be a credential that is not masked yet.
      if (typeof line !== 'string' || at <= 0)
        throw problem('headers', `expected "Name: value" entries; entry ${pairs.length + 1} has no "Name:"`);
      pairs.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
    }
  } else if (isRecord(value)) {
    for (const [name, raw] of Object.entries(value)) {
      const text = scalarText(raw);
      if (text === undefined) throw problem('headers', `the value of "${name}" must be a string`);
      pairs.push([name.trim(), text]);
    }
  } else {
    throw problem('headers', 'expected a mapping of header names to values, or a list of "Name: value"');
  }
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, text] of pairs) {
    const why = headerProblem(name, text);
    if (why) throw problem('headers', why);
    if (seen.has(name.toLowerCase()))
      throw problem('headers', `the header "${name}" is given more than once`);
    seen.add(name.toLowerCase());
    headers[name] = text;
  }
  return headers;
}

function parseStatus(value: unknown) {
  let text: string;
  if (value === undefined) text = DEFAULT_EXPECTED_STATUS;
  else if (Array.isArray(value)) text = value.map((v) => scalarText(v) ?? '?').join(',');
  else text = scalarText(value) ?? '?';
  const parsed = parseStatusRanges(text);
  if ('error' in parsed) throw problem('expected-status', parsed.error);
  return parsed;
}

function optionalText(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = scalarText(value);
  if (text === undefined || text === '') throw problem(field, 'expected a non-empty string');
  return text;
}

function parseRegex(value: unknown): RegExp | undefined {
  const text = optionalText('expected-body-regex', value);
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (error) {
    throw problem(
      'expected-body-regex',
      `${showRegex(text)} is not a valid regular expression: ${withoutPattern((error as Error).message)}`,
    );
  }
}

function parseJson(value: unknown): JsonExpectation[] {
  if (value === undefined || value === null) return [];
  const pairs: [string, string][] = [];
  if (Array.isArray(value)) {
    for (const line of value) {
      const at = typeof line === 'string' ? line.indexOf('=') : -1;
      if (typeof line !== 'string' || at <= 0)
        throw problem('expected-json', `expected "path=value" entries, got ${JSON.stringify(line)}`);
      pairs.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
    }
  } else if (isRecord(value)) {
    for (const [path, raw] of Object.entries(value)) {
      pairs.push([path, scalarText(raw) ?? JSON.stringify(raw)]);
    }
  } else {
    throw problem('expected-json', 'expected a mapping of paths to values, or a list of "path=value"');
  }
  return pairs.map(([path, expected]) => {
    const segments = parseJsonPath(path);
    if ('error' in segments) throw problem('expected-json', segments.error);
    return { path, segments, expected };
  });
}
