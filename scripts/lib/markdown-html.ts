import { Marked, type Tokens } from 'marked';

/**
 * Markdown → HTML for the demo report, with marked (GitHub-flavoured: tables, fenced code, lists, links).
 * Job summaries hold text we do not control (pod logs, server errors), so raw HTML never passes through as
 * it is: a tag is kept only when it is one of those summaries write on purpose (`<details>`, `<summary>`,
 * `<br>` and plain inline formatting, without attributes); any other tag, and text inside raw HTML, is
 * escaped. Links keep http(s), in-page and relative targets only; images are shown as their text.
 */

const ALLOWED_TAG = /^<\/?(details|summary|br|b|i|em|strong|code|sub|sup|kbd)\s*\/?>$/i;

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Raw HTML from the Markdown: allowed tags kept, everything else escaped (entities already there kept). */
function sanitiseRawHtml(html: string): string {
  return html.replace(/<[^>]*>?|[^<]+/g, (piece) =>
    ALLOWED_TAG.test(piece)
      ? piece
      : piece
          .replace(/&(?!(?:[a-z]+|#\d+|#x[0-9a-f]+);)/gi, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;'),
  );
}

function safeHref(href: string): string {
  return /^(https?:|#|\/|\.)/i.test(href) ? href : '#';
}

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return sanitiseRawHtml(text);
    },
    link({ href, tokens }: Tokens.Link): string {
      return `<a href="${escapeHtml(safeHref(href))}">${this.parser.parseInline(tokens)}</a>`;
    },
    image({ text }: Tokens.Image): string {
      return escapeHtml(text);
    },
  },
});

/** Inline Markdown (code spans, emphasis, links) to HTML. */
export function inline(text: string): string {
  return marked.parseInline(text, { async: false });
}

/** Renders a Markdown document to an HTML fragment. */
export function markdownToHtml(markdown: string): string {
  return marked.parse(markdown, { async: false });
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
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${markdownToHtml(markdown)}
</body></html>
`;
}
