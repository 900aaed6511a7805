/**
 * The small path language of `expected-json`: dotted keys and `[n]` indexes, e.g. `version`, `checks.db`,
 * `items[0].name`, `["key.with.dots"]`, with an optional leading `$.` for people used to JSONPath.
 */
export type PathSegment = { key: string } | { index: number };

/** One `path=value` line of expected-json. */
export interface JsonExpectation {
  /** The path as written, for messages. */
  path: string;
  segments: PathSegment[];
  /** The expected value as written (a YAML scalar from a smoke-test file is turned into its text). */
  expected: string;
}

export const JSON_PATH_HELP =
  'a path of dotted keys and [n] indexes such as "version", "checks.db" or "items[0].name"';

export function parseJsonPath(text: string): PathSegment[] | { error: string } {
  const fail = (why: string): { error: string } => ({
    error: `"${text}" is not a valid path (${why}); expected ${JSON_PATH_HELP}.`,
  });
  let i = 0;
  if (text.startsWith('$')) {
    i = 1;
    if (text[i] === '.') i += 1;
  }
  const segments: PathSegment[] = [];
  while (i < text.length) {
    if (text[i] === '[') {
      const close = text.indexOf(']', i);
      if (close < 0) return fail('an unclosed "["');
      const inner = text.slice(i + 1, close);
      const quoted = /^(["'])(.*)\1$/.exec(inner);
      if (quoted) segments.push({ key: quoted[2] as string });
      else if (/^\d+$/.test(inner)) segments.push({ index: Number(inner) });
      else return fail(`"[${inner}]" is neither an index nor a quoted key`);
      i = close + 1;
    } else {
      let end = i;
      while (end < text.length && text[end] !== '.' && text[end] !== '[' && text[end] !== ']') end += 1;
      const key = text.slice(i, end);
      if (key === '') return fail('an empty key');
      segments.push({ key });
      i = end;
    }
    if (i >= text.length) break;
    if (text[i] === '.') {
      i += 1;
      if (i >= text.length || text[i] === '.' || text[i] === '[') return fail('an empty key');
    } else if (text[i] !== '[') {
      return fail(`an unexpected "${text[i]}"`);
    }
  }
  if (segments.length === 0) return fail('no key');
  return segments;
}

export type PathLookup = { found: true; value: unknown } | { found: false; missing: string };

/** Follows the path; on a miss, says which part was not there. */
export function readJsonPath(root: unknown, segments: readonly PathSegment[]): PathLookup {
  let current: unknown = root;
  let walked = '';
  for (const segment of segments) {
    const label = 'index' in segment ? `[${segment.index}]` : walked === '' ? segment.key : `.${segment.key}`;
    walked += label;
    if ('index' in segment) {
      if (!Array.isArray(current) || segment.index >= current.length)
        return { found: false, missing: walked };
      current = current[segment.index] as unknown;
    } else if (Array.isArray(current) && /^\d+$/.test(segment.key)) {
      const index = Number(segment.key);
      if (index >= current.length) return { found: false, missing: walked };
      current = current[index] as unknown;
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, segment.key)) {
      current = (current as Record<string, unknown>)[segment.key];
    } else {
      return { found: false, missing: walked };
    }
  }
  return { found: true, value: current };
}

/**
 * Compares a JSON value with the expected text. A string compares as text (so `version=abc123` needs no
 * quotes); a number, boolean, null, object or array compares with the expected text read as JSON.
 */
export function jsonValueMatches(actual: unknown, expected: string): boolean {
  if (typeof actual === 'string') {
    if (actual === expected) return true;
    const parsed = tryParseJson(expected);
    return parsed.ok && parsed.value === actual;
  }
  const parsed = tryParseJson(expected);
  return parsed.ok && deepEqual(actual, parsed.value);
}

function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  const bRecord = b as Record<string, unknown>;
  return aKeys.every(
    (key) => Object.hasOwn(bRecord, key) && deepEqual((a as Record<string, unknown>)[key], bRecord[key]),
  );
}

/**
 * Checks every expectation against a response body. Returns undefined when all hold, otherwise what
 * differs first, e.g. `version is "9f1c2e0", expected "abc123"`.
 */
export function checkExpectedJson(
  body: string,
  expectations: readonly JsonExpectation[],
): string | undefined {
  if (expectations.length === 0) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(body) as unknown;
  } catch {
    return 'the body is not JSON, but expected-json needs a JSON body';
  }
  for (const expectation of expectations) {
    const lookup = readJsonPath(document, expectation.segments);
    if (!lookup.found) {
      return `${expectation.path} is missing from the JSON body (no ${lookup.missing}), expected ${JSON.stringify(expectation.expected)}`;
    }
    if (!jsonValueMatches(lookup.value, expectation.expected)) {
      return `${expectation.path} is ${shortJson(lookup.value)}, expected ${JSON.stringify(expectation.expected)}`;
    }
  }
  return undefined;
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}
