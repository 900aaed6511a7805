import { describe, expect, it } from '@jest/globals';
import { formatStatusRanges, parseStatusRanges, statusMatches } from '../../src/status-ranges.js';

describe('parseStatusRanges', () => {
  const valid: Array<[string, Array<[number, number]>]> = [
    ['200-299', [[200, 299]]],
    ['200', [[200, 200]]],
    [
      '200,204,301-302',
      [
        [200, 200],
        [204, 204],
        [301, 302],
      ],
    ],
    [
      '200, 204 ,301-302',
      [
        [200, 200],
        [204, 204],
        [301, 302],
      ],
    ],
    [
      '200\n204',
      [
        [200, 200],
        [204, 204],
      ],
    ],
    ['2xx', [[200, 299]]],
    [
      '2XX,404',
      [
        [200, 299],
        [404, 404],
      ],
    ],
    ['100-599', [[100, 599]]],
  ];
  it.each(valid)('%j', (text, ranges) => {
    expect(parseStatusRanges(text)).toEqual(ranges.map(([min, max]) => ({ min, max })));
  });

  const invalid: Array<[string, string]> = [
    ['299-200', '"299-200"'],
    ['ok', '"ok"'],
    ['', 'status codes'],
    ['20', '"20"'],
    ['600', '"600"'],
    ['099', '"099"'],
    ['200-', '"200-"'],
    ['6xx', '"6xx"'],
    ['200..299', '"200..299"'],
  ];
  it.each(invalid)('refuses %j', (text, quoted) => {
    const result = parseStatusRanges(text);
    expect('error' in result).toBe(true);
    expect((result as { error: string }).error).toContain(quoted);
  });
});

describe('statusMatches', () => {
  const ranges = [
    { min: 200, max: 204 },
    { min: 301, max: 301 },
  ];
  it.each([
    [200, true],
    [204, true],
    [205, false],
    [301, true],
    [302, false],
    [500, false],
  ])('%i → %s', (status, expected) => {
    expect(statusMatches(status, ranges)).toBe(expected);
  });

  it('formats for messages', () => {
    expect(formatStatusRanges(ranges)).toBe('200-204, 301');
  });
});
