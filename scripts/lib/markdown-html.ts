/**
 * Markdown → HTML for the demo report: the subset job summaries use (GitHub-flavoured tables, headings,
 * lists, fenced code, paragraphs, inline code/bold/italics/links, `<details>` blocks and `<br>` passed
 * through). Text is escaped; only the HTML tags summaries write on purpose pass through.
 */

const ALLOWED_TAGS = /^<\/?(details|summary|br|b|i|em|strong|code|sub|sup|kbd)\s*\/?>/i;

function escapeHtml(text: string): string {
  return text.replace(/&(?!(?:[a-z]+|#\d+|#x[0-9a-f]+);)/gi, '&amp;').replace(/"/g, '&quot;');
}

/** Escapes `<`/`>` except for the allowed tags; keeps entities that are already there. */
function escapeKeepingTags(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '<') {
      const m = ALLOWED_TAGS.exec(text.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
      out += '&lt;';
    } else if (ch === '>') out += '&gt;';
    else out += ch;
    i += 1;
  }
  return escapeHtml(out);
}

/** Inline Markdown: `code`, **bold**, _italic_/*italic*, [text](url), backslash escapes. */
export function inline(text: string): string {
  const codes: string[] = [];
  // Code spans first: their content is literal.
  let s = text.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_, __, code: string) => {
    codes.push(`<code>${escapeHtml(code.trim().replace(/</g, '&lt;').replace(/>/g, '&gt;'))}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  const escapes: string[] = [];
  s = s.replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, (_, c: string) => {
    escapes.push(c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c);
    return `\u0001${escapes.length - 1}\u0001`;
  });
  s = escapeKeepingTags(s);
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, href: string) => {
    const safe = /^(https?:|#|\/|\.)/i.test(href) ? href : '#';
    return `<a href="${safe}">${label}</a>`;
  });
  s = s.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  s = s.replace(/(^|[\s(])_([^_]+)_(?=[\s).,;:!?]|$)/g, '$1<em>$2</em>');
  s = s.replace(/(^|[\s(])\*([^*\s][^*]*)\*(?=[\s).,;:!?]|$)/g, '$1<em>$2</em>');
  // eslint-disable-next-line no-control-regex -- placeholders this function put in
  s = s.replace(/\u0001(\d+)\u0001/g, (_, n: string) => escapes[Number(n)]!);
  // eslint-disable-next-line no-control-regex -- placeholders this function put in
  return s.replace(/\u0000(\d+)\u0000/g, (_, n: string) => codes[Number(n)]!);
}

/** Splits a table row on unescaped pipes. */
function cells(row: string): string[] {
  const body = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\' && body[i + 1] === '|') {
      current += '\\|';
      i += 1;
    } else if (ch === '|') {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

const isTableSeparator = (line: string): boolean =>
  /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);

/** Renders a Markdown document (the subset above) to an HTML fragment. */
export function markdownToHtml(markdown: string): string {
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = (): void => {
    if (paragraph.length) out.push(`<p>${inline(paragraph.join('\n'))}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^(\s*)(`{3,})\s*([\w-]*)\s*$/.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      i += 1;
      while (i < lines.length && !lines[i]!.trim().startsWith(fence[2]!)) body.push(lines[i++]!);
      const cls = fence[3] ? ` class="language-${fence[3]}"` : '';
      out.push(
        `<pre><code${cls}>${body.join('\n').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</code></pre>`,
      );
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const level = heading[1]!.length;
      out.push(`<h${level}>${inline(heading[2]!.trim())}</h${level}>`);
      continue;
    }
    if (line.trim().startsWith('|') && i + 1 < lines.length && isTableSeparator(lines[i + 1]!)) {
      flush();
      const header = cells(line);
      const aligns = cells(lines[i + 1]!).map((c) =>
        c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : '',
      );
      const attr = (k: number): string => (aligns[k] ? ` style="text-align:${aligns[k]}"` : '');
      const rows: string[] = [];
      i += 2;
      while (i < lines.length && lines[i]!.trim().startsWith('|')) {
        const row = cells(lines[i]!);
        rows.push(`<tr>${header.map((_, k) => `<td${attr(k)}>${inline(row[k] ?? '')}</td>`).join('')}</tr>`);
        i += 1;
      }
      i -= 1;
      out.push(
        `<table><thead><tr>${header.map((h, k) => `<th${attr(k)}>${inline(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
      );
      continue;
    }
    const item = /^(\s*)([-*]|\d+\.)\s+(.*)$/.exec(line);
    if (item) {
      flush();
      const ordered = /\d/.test(item[2]!);
      const items: string[] = [];
      while (i < lines.length) {
        const m = /^(\s*)([-*]|\d+\.)\s+(.*)$/.exec(lines[i]!);
        if (!m) break;
        items.push(`<li>${inline(m[3]!)}</li>`);
        i += 1;
      }
      i -= 1;
      out.push(`<${ordered ? 'ol' : 'ul'}>${items.join('')}</${ordered ? 'ol' : 'ul'}>`);
      continue;
    }
    if (/^\s*(-{3,}|\*{3,})\s*$/.test(line)) {
      flush();
      out.push('<hr>');
      continue;
    }
    if (/^\s*>\s?/.test(line)) {
      flush();
      const quote: string[] = [];
      while (i < lines.length && /^\s*>\s?/.test(lines[i]!)) quote.push(lines[i++]!.replace(/^\s*>\s?/, ''));
      i -= 1;
      out.push(`<blockquote>${markdownToHtml(quote.join('\n'))}</blockquote>`);
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    // A line that is only allowed HTML (e.g. `</details>`) stands alone.
    if (/^\s*<\/?(details|summary)/i.test(line)) {
      flush();
      out.push(inline(line.trim()));
      continue;
    }
    paragraph.push(line);
  }
  flush();
  return out.join('\n');
}

const STYLE = `
body{font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#1f2328;background:#fff}
h1,h2,h3{border-bottom:1px solid #d1d9e0;padding-bottom:.3em}
table{border-collapse:collapse;margin:1em 0;display:block;overflow:auto}
th,td{border:1px solid #d1d9e0;padding:6px 12px;vertical-align:top}
th{background:#f6f8fa}
code{background:#eff1f3;padding:.1em .3em;border-radius:4px;font-size:90%}
pre{background:#f6f8fa;padding:12px;overflow:auto;border-radius:6px}
pre code{background:none;padding:0}
details{margin:.5em 0}summary{cursor:pointer}
blockquote{margin:0;padding:0 1em;color:#59636e;border-left:.25em solid #d1d9e0}
`;

/** A complete standalone HTML page. */
export function htmlPage(title: string, markdown: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title.replace(/</g, '&lt;'))}</title><style>${STYLE}</style></head>
<body>
${markdownToHtml(markdown)}
</body></html>
`;
}
