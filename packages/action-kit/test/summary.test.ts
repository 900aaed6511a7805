import { describe, expect, it } from '@jest/globals';
import { escapeMarkdown, redact, SummaryBuilder } from '../src/index.js';

describe('SummaryBuilder', () => {
  it('renders a table with escaped cells and dashes for empty ones', () => {
    const md = new SummaryBuilder()
      .heading('Health')
      .table(['URL', 'Status', 'Error'], [['https://a/x|y', 200, undefined]])
      .render();
    expect(md).toContain('## Health');
    expect(md).toContain('| URL | Status | Error |');
    expect(md).toContain('| https://a/x\\|y | 200 | — |');
  });

  it('keeps a summary under the limit and says it was cut', () => {
    const builder = new SummaryBuilder();
    for (let i = 0; i < 200; i++) builder.paragraph('x'.repeat(100));
    const md = builder.render(5000);
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(5000);
    expect(md).toMatch(/cut here/);
  });

  it('puts a log into a collapsed code block', () => {
    const md = new SummaryBuilder().details('Last log lines', 'line 1\nline 2', { code: true }).render();
    expect(md).toContain('<details><summary>Last log lines</summary>');
    expect(md).toContain('```text\nline 1\nline 2\n```');
  });
});

describe('redact', () => {
  it('replaces every given secret, longest first', () => {
    expect(redact('token abc and abcdef', ['abc', 'abcdef'])).toBe('token *** and ***');
  });
});

describe('escapeMarkdown', () => {
  it('shows quoted text as text: no cell or line break, no HTML, no link or image', () => {
    expect(escapeMarkdown('a|b\n<img src=x>![t](http://x/y) [l](javascript:z)')).toBe(
      'a\\|b<br>&lt;img src=x>!\\[t\\](http://x/y) \\[l\\](javascript:z)',
    );
  });
});
