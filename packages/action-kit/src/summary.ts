import { redact } from './mask.js';
import { appendSummary } from './toolkit.js';

/** GitHub refuses a step summary larger than 1 MiB. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024;

export type Cell = string | number | boolean | undefined | null;

/**
 * Escapes text for a Markdown table cell or paragraph: no cell break, no line break, no HTML, and no link or
 * image (`[`/`]` escaped), so quoted text we do not control shows as text.
 */
export function escapeMarkdown(text: string): string {
  return (
    text
      .replace(/\\/g, '\\\\')
      .replace(/\|/g, '\\|')
      .replace(/[[\]]/g, (c) => `\\${c}`)
      // `<` before the line breaks become `<br>` (the other order showed "&lt;br>").
      .replace(/</g, '&lt;')
      .replace(/\r?\n/g, '<br>')
  );
}

function cell(value: Cell): string {
  if (value === undefined || value === null || value === '') return '—';
  return escapeMarkdown(String(value));
}

/**
 * Builds a Markdown job summary. Everything added goes through `redact`, and `write` keeps the whole
 * summary under the 1 MiB limit by cutting the end and saying so.
 */
export class SummaryBuilder {
  private readonly parts: string[] = [];

  heading(text: string, level: 1 | 2 | 3 | 4 = 2): this {
    this.parts.push(`${'#'.repeat(level)} ${escapeMarkdown(text)}\n`);
    return this;
  }

  paragraph(markdown: string): this {
    this.parts.push(`${markdown}\n`);
    return this;
  }

  table(header: string[], rows: Cell[][]): this {
    const lines = [
      `| ${header.map((h) => cell(h)).join(' | ')} |`,
      `| ${header.map(() => '---').join(' | ')} |`,
      ...rows.map((row) => `| ${header.map((_, i) => cell(row[i])).join(' | ')} |`),
    ];
    this.parts.push(`${lines.join('\n')}\n`);
    return this;
  }

  list(items: string[]): this {
    this.parts.push(`${items.map((i) => `- ${i}`).join('\n')}\n`);
    return this;
  }

  /** A collapsed block; `body` is shown as a code block when `code` is set. */
  details(summary: string, body: string, options: { code?: boolean } = {}): this {
    const content = options.code
      ? `\n\n\`\`\`text\n${body.replace(/```/g, '` ` `')}\n\`\`\`\n\n`
      : `\n\n${body}\n\n`;
    this.parts.push(`<details><summary>${escapeMarkdown(summary)}</summary>${content}</details>\n`);
    return this;
  }

  codeBlock(body: string, language = 'text'): this {
    this.parts.push(`\`\`\`${language}\n${body.replace(/```/g, '` ` `')}\n\`\`\`\n`);
    return this;
  }

  isEmpty(): boolean {
    return this.parts.length === 0;
  }

  /** The Markdown, redacted and cut to `limitBytes`. */
  render(limitBytes = SUMMARY_LIMIT_BYTES): string {
    const text = redact(this.parts.join('\n'));
    if (Buffer.byteLength(text) <= limitBytes) return text;
    const notice = '\n\n_The summary was cut here: it passed the 1 MiB limit of a job summary._\n';
    const budget = limitBytes - Buffer.byteLength(notice);
    let cut = Buffer.from(text).subarray(0, budget).toString('utf8');
    // Drop a partial trailing character that decoding turned into U+FFFD.
    cut = cut.replace(/\uFFFD$/, '');
    return cut + notice;
  }

  /** Appends to GITHUB_STEP_SUMMARY (through @actions/core) when the runner provides it; false otherwise. */
  async write(): Promise<boolean> {
    if (this.isEmpty()) return false;
    return appendSummary(this.render());
  }
}
