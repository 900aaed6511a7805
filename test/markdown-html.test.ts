import { describe, expect, it } from '@jest/globals';
import { htmlPage, inline, markdownToHtml } from '../scripts/lib/markdown-html.js';

describe('markdownToHtml (the demo report)', () => {
  it('renders a job summary table with escaped pipes, code and bold', () => {
    const html = markdownToHtml(
      ['| step | outcome |', '| --- | ---: |', '| `rollout` | **failed** a \\| b |', '| x | <br> y |'].join(
        '\n',
      ),
    );
    expect(html).toContain('<table><thead><tr><th>step</th><th style="text-align:right">outcome</th></tr>');
    expect(html).toContain('<td><code>rollout</code></td>');
    expect(html).toContain('<strong>failed</strong> a | b');
    expect(html).toContain('<td>x</td><td style="text-align:right"><br> y</td>');
  });

  it('escapes HTML that summaries did not write on purpose, keeps details and br', () => {
    const html = markdownToHtml(
      '<details><summary>Pod log</summary>\n\n```text\n<script>alert(1)</script>\n```\n\n</details>\n\nA <img src=x onerror=alert(1)> tag & more',
    );
    expect(html).toContain('<details><summary>Pod log</summary>');
    expect(html).toContain(
      '<pre><code class="language-text">&lt;script&gt;alert(1)&lt;/script&gt;</code></pre>',
    );
    expect(html).toContain('</details>');
    expect(html).toContain('A &lt;img src=x onerror=alert(1)&gt; tag &amp; more');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>');
  });

  it('renders headings, lists and links, and refuses javascript: links', () => {
    const html = markdownToHtml(
      '## Release v1.2.0\n\n- one\n- two [run](https://github.com/o/r/actions/runs/1)\n\n[x](javascript:alert(1))',
    );
    expect(html).toContain('<h2>Release v1.2.0</h2>');
    expect(html).toContain(
      '<ul><li>one</li><li>two <a href="https://github.com/o/r/actions/runs/1">run</a></li></ul>',
    );
    expect(html).toContain('<a href="#">x</a>');
  });

  it('keeps code spans literal', () => {
    expect(inline('`a **b** <c>`')).toBe('<code>a **b** &lt;c&gt;</code>');
  });

  it('wraps a whole page with a title', () => {
    const page = htmlPage('demo <1>', '# Hi');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<title>demo &lt;1></title>');
    expect(page).toContain('<h1>Hi</h1>');
  });
});
