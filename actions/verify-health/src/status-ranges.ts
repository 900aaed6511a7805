/** An inclusive range of HTTP status codes; a single code is a range of one. */
export interface StatusRange {
  min: number;
  max: number;
}

export const DEFAULT_EXPECTED_STATUS = '200-299';

const ALLOWED =
  'expected status codes (100-599) and ranges separated by commas or new lines, e.g. "200-299", "200,204,301-302" or "2xx".';

/**
 * Parses `200-299`, `200,204,301-302`, `2xx` (also newline separated). Returns an error text instead of
 * throwing, so the caller names the input or the smoke-test field.
 */
export function parseStatusRanges(text: string): StatusRange[] | { error: string } {
  const items = text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) return { error: ALLOWED };
  const ranges: StatusRange[] = [];
  for (const item of items) {
    const range = parseItem(item);
    if (range === undefined) return { error: `"${item}" is not a status code or range; ${ALLOWED}` };
    ranges.push(range);
  }
  return ranges;
}

function parseItem(item: string): StatusRange | undefined {
  const klass = /^([1-5])xx$/i.exec(item);
  if (klass) {
    const base = Number(klass[1]) * 100;
    return { min: base, max: base + 99 };
  }
  const match = /^(\d{3})(?:-(\d{3}))?$/.exec(item);
  if (!match) return undefined;
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (min < 100 || max > 599 || min > max) return undefined;
  return { min, max };
}

export function statusMatches(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((range) => status >= range.min && status <= range.max);
}

/** `200-299`, `200, 204, 301-302`: for messages and the summary. */
export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)).join(', ');
}
