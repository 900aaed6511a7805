import { describe, expect, it } from '@jest/globals';
import { htmlPage, inline, markdownToHtml } from '../scripts/lib/markdown-html.js';

/** The HTML without the newlines marked puts between block tags. */
const flat = (html: string): string => html.replace(/>\n+</g, '><').trim();

describe('markdownToHtml (the demo report)', () => {
  it('renders a job summary table with escaped pipes, code and bold', () => {
    const html = flat(
      markdownToHtml(
        ['| step | outcome |', '| --- | ---: |', '| `rollout` | **failed** a \\| b |', '| x | <br> y |'].join(
          '\n',
        ),
      ),
    );
    expect(html).toContain('<table><thead><tr><th>step</th><th align="right">outcome</th></tr></thead>');
    expect(html).toContain('<td><code>rollout</code></td>');
    expect(html).toContain('<strong>failed</strong> a | b');
    expect(html).toContain('<td>x</td><td align="right"><br> y</td>');
  });

  it('escapes HTML that summaries did not write on purpose, keeps details and br', () => {
    const html = flat(
      markdownToHtml(
        '<details><summary>Pod log</summary>\n\n```text\n<script>alert(1)</script>\n```\n\n</details>\n\nA <img src=x onerror=alert(1)> tag & more\n\n<script>alert(2)</script>\n\n<div onclick="x()">hi</div>',
      ),
    );
    expect(html).toContain('<details><summary>Pod log</summary>');
    expect(html).toContain(
      '<pre><code class="language-text">&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>',
    );
    expect(html).toContain('</details>');
    expect(html).toContain('A &lt;img src=x onerror=alert(1)&gt; tag &amp; more');
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).toContain('&lt;div onclick="x()"&gt;hi&lt;/div&gt;');
    expect(html).not.toMatch(/<(img|script|div)/);
  });

  it('keeps only tags without attributes', () => {
    expect(inline('a <b onmouseover="x()">b</b> <b>c</b>')).toBe(
      'a &lt;b onmouseover="x()"&gt;b</b> <b>c</b>',
    );
  });

  it('renders headings, lists and links, and refuses javascript: links and images', () => {
    const html = flat(
      markdownToHtml(
        '## Release v1.2.0\n\n- one\n- two [run](https://github.com/o/r/actions/runs/1)\n\n[x](javascript:alert(1)) ![pic](https://e.example/p.png)',
      ),
    );
    expect(html).toContain('<h2>Release v1.2.0</h2>');
    expect(html).toContain(
      '<ul><li>one</li><li>two <a href="https://github.com/o/r/actions/runs/1">run</a></li></ul>',
    );
    expect(html).toContain('<a href="#">x</a> pic');
    expect(html).not.toContain('<img');
  });

  it('keeps code spans literal', () => {
    expect(inline('`a **b** <c>`')).toBe('<code>a **b** &lt;c&gt;</code>');
  });

  it('wraps a whole page with a title', () => {
    const page = htmlPage('demo <1>', '# Hi');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<title>demo &lt;1&gt;</title>');
    expect(page).toContain('<h1>Hi</h1>');
  });
});
