import { afterEach, describe, expect, it } from '@jest/globals';
import { evaluateResponse } from '../../src/checks.js';
import { RegexMatcher, RegexTimeout } from '../../src/regex-match.js';

const matchers: RegexMatcher[] = [];
function matcher(budgetMs: number): RegexMatcher {
  const created = new RegexMatcher(budgetMs);
  matchers.push(created);
  return created;
}
afterEach(() => {
  for (const m of matchers.splice(0)) m.close();
});

// Backtracks for far longer than any test runs (2^40 paths) unless stopped.
const CATASTROPHIC = /^(a+)+$/;
const HOSTILE_BODY = `${'a'.repeat(40)}b`;

describe('RegexMatcher', () => {
  it('matches as JavaScript does, lookarounds and backreferences included', async () => {
    const m = matcher(5000);
    const signal = new AbortController().signal;
    expect(await m.test(/"version":\s*"(\d+)\.\1"/, '{"version": "7.7"}', signal)).toBe(true);
    expect(await m.test(/(?<=v)\d+(?!\d)/, 'build v42', signal)).toBe(true);
    expect(await m.test(/ok/, 'down', signal)).toBe(false);
  });

  it('gives up a catastrophic pattern at its budget and still works after', async () => {
    const m = matcher(1000);
    const signal = new AbortController().signal;
    await expect(m.test(CATASTROPHIC, HOSTILE_BODY, signal)).rejects.toBeInstanceOf(RegexTimeout);
    expect(await m.test(/^a+b$/, HOSTILE_BODY, signal)).toBe(true);
  });

  it('stops at once when the signal aborts (the deadline or a cancel), with its reason', async () => {
    const m = matcher(600_000);
    const controller = new AbortController();
    const pending = m.test(CATASTROPHIC, HOSTILE_BODY, controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled by SIGINT')), 50);
    await expect(pending).rejects.toThrow('cancelled by SIGINT');
  });
});

describe('evaluateResponse with a regex that never finishes', () => {
  it('is a content failure naming the input and the pattern and what to change', async () => {
    const m = matcher(100);
    const signal = new AbortController().signal;
    const mismatch = await evaluateResponse(
      { status: 200, body: HOSTILE_BODY },
      { status: [{ min: 200, max: 200 }], body: undefined, bodyRegex: CATASTROPHIC, json: [] },
      (regex, text) => m.test(regex, text, signal),
    );
    expect(mismatch?.kind).toBe('content');
    expect(mismatch?.message).toContain('expected-body-regex /^(a+)+$/ did not finish matching');
    expect(mismatch?.message).toContain('backtracks catastrophically');
  });
});
