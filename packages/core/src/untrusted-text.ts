/**
 * Text we do not control (a workload's log, an event message, an HTTP body, command output, a free-text
 * input) as pure text work: every package uses these, and action-kit fences streams of it with
 * `::stop-commands::` (see action-kit's untrusted.ts).
 *
 * The GitHub runner reads a step's output line by line (a lone CR ends a line too) and acts on a line whose
 * first non-blank characters are `::`, and on `##[name]` anywhere in a line. A single quoted value is made
 * harmless here by `quoteUntrusted`; a stream of lines is capped per line by `LineSplitter`/`capLine` and
 * printed through `logUntrusted`.
 */
import type { Logger } from './logger.js';

/** How much of a single quoted value is shown (a body, an event, a reason, a server's error). */
export const QUOTE_LIMIT_CHARS = 1000;
/** How much of one line of a stream is shown; the rest is counted. */
export const LINE_LIMIT_CHARS = 4096;

// C0 controls but TAB, DEL, C1 controls, and the Unicode line and paragraph separators: none of them
// belongs in one line of a log, and ESC starts terminal sequences.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeControl(ch: string): string {
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Cuts `text` to `max` UTF-16 units without splitting a surrogate pair; returns the head and what was cut. */
function cut(text: string, max: number): { head: string; more: number } {
  if (text.length <= max) return { head: text, more: 0 };
  let end = Math.max(0, max);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  return { head: text.slice(0, end), more: text.length - end };
}

/** `… (N more characters)`, the marker of a capped value or line. */
export function moreCharacters(count: number): string {
  return `… (${count} more character${count === 1 ? '' : 's'})`;
}

/**
 * Breaks what the runner would read as a command in one line: a leading `::` (after blanks) becomes `\::`
 * and every `##[` becomes `##\[`. Nothing else changes, so a line stays readable.
 */
export function defuseLine(line: string): string {
  return line.replace(/##\[/g, '##\\[').replace(/^(\s*)::/, '$1\\::');
}

/**
 * A single value we do not control, made safe to print inside a line of ours, an annotation or a summary:
 * CR and LF shown as `\r` and `\n` (other control characters, ESC included, as `\uXXXX`), a leading `::`
 * and every `##[` broken, and at most `maxChars` characters shown, followed by `… (N more characters)`.
 * This is for display, not a reversible encoding (a backslash in the value is shown as it is).
 */
export function quoteUntrusted(text: string, maxChars = QUOTE_LIMIT_CHARS): string {
  const { head, more } = cut(text, maxChars);
  const shown = defuseLine(head.replace(CONTROL, escapeControl));
  return more > 0 ? `${shown}${moreCharacters(more)}` : shown;
}

/** One line of a stream capped to `maxChars`, the rest counted. */
export function capLine(line: string, maxChars = LINE_LIMIT_CHARS): string {
  const { head, more } = cut(line, maxChars);
  return more > 0 ? `${head} ${moreCharacters(more)}` : line;
}

/**
 * Removes what a terminal would act on from text we do not control: ANSI/VT escape sequences (Node's own
 * `stripVTControlCharacters`), then any other control character but TAB (a lone CR would let a line
 * overwrite the one before it). For the CLI's terminal output.
 */
export function stripTerminalControls(text: string): string {
  return stripVT(text).replace(CONTROL, '');
}

// node:util is loaded on first use, not at import (the actions' cold start).
let stripVTCache: ((text: string) => string) | undefined;
function stripVT(text: string): string {
  stripVTCache ??= process.getBuiltinModule('node:util').stripVTControlCharacters;
  return stripVTCache(text);
}

export interface LineSplitterOptions {
  /** Characters of a line kept; the rest is counted, not stored. Default `LINE_LIMIT_CHARS`. */
  maxLineChars?: number;
}

/**
 * Splits a stream of text into lines (LF or CRLF) in time linear in the input and memory bounded by the
 * line cap: each chunk is scanned once from where the last newline was found (searching the whole pending
 * text again at every chunk is what made a long line without a newline quadratic), and what passes the
 * cap is counted rather than kept. Written by hand because node:readline keeps a whole line in memory.
 */
export class LineSplitter {
  private readonly max: number;
  private parts: string[] = [];
  private kept = 0;
  private dropped = 0;
  private endsWithCR = false;
  private pendingSurrogate = false;

  constructor(options: LineSplitterOptions = {}) {
    this.max = options.maxLineChars ?? LINE_LIMIT_CHARS;
  }

  /** The complete lines in `chunk` (with what came before it), without their line ends. */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const at = chunk.indexOf('\n', start);
      if (at < 0) {
        this.append(chunk, start, chunk.length);
        return lines;
      }
      this.append(chunk, start, at);
      lines.push(this.finish());
      start = at + 1;
    }
  }

  /** The last line when the stream did not end with a newline. */
  end(): string[] {
    return this.kept > 0 || this.dropped > 0 ? [this.finish()] : [];
  }

  private append(chunk: string, from: number, to: number): void {
    if (to <= from) return;
    this.endsWithCR = chunk.charCodeAt(to - 1) === 13;
    const take = Math.min(Math.max(0, this.max - this.kept), to - from);
    if (take > 0) {
      this.parts.push(chunk.slice(from, from + take));
      this.kept += take;
      const last = chunk.charCodeAt(from + take - 1);
      this.pendingSurrogate = last >= 0xd800 && last <= 0xdbff;
    }
    this.dropped += to - from - take;
  }

  private finish(): string {
    let line = this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join('');
    let dropped = this.dropped;
    if (this.endsWithCR) {
      if (dropped > 0) dropped--;
      else line = line.slice(0, -1);
    }
    if (dropped > 0 && this.pendingSurrogate) {
      // Never end a capped line on half a character.
      line = line.slice(0, -1);
      dropped++;
    }
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
    this.endsWithCR = false;
    this.pendingSurrogate = false;
    return dropped > 0 ? `${line} ${moreCharacters(dropped)}` : line;
  }
}

/**
 * Prints one line of a stream we do not control through a Logger: its `untrusted` method when it has one
 * (action-kit's fences it with stop-commands), else the line capped and with any command in it broken.
 */
export function logUntrusted(logger: Logger, line: string): void {
  if (logger.untrusted) logger.untrusted(line);
  // A line a LineSplitter already capped (its marker included) is not cut again.
  else logger.info(defuseLine(capLine(line, LINE_LIMIT_CHARS + 64)).replace(/\r/g, '\\r'));
}

/** How much of a command's output is kept in memory (its end: where results and errors are). */
export const OUTPUT_TAIL_CHARS = 1024 * 1024;

/**
 * The last `maxChars` characters of an output of any size, in memory bounded by twice that and time linear
 * in the input (chunks are joined and cut only when twice the limit has gathered). The start of a cut
 * text is not kept; `dropped` counts it.
 */
export class OutputTail {
  private parts: string[] = [];
  private length = 0;
  /** Characters no longer kept. */
  dropped = 0;

  constructor(private readonly maxChars = OUTPUT_TAIL_CHARS) {}

  push(chunk: string): void {
    this.parts.push(chunk);
    this.length += chunk.length;
    if (this.length > 2 * this.maxChars) this.compact();
  }

  text(): string {
    this.compact();
    return this.parts.join('');
  }

  private compact(): void {
    let text = this.parts.join('');
    if (text.length > this.maxChars) {
      this.dropped += text.length - this.maxChars;
      text = text.slice(text.length - this.maxChars);
    }
    this.parts = [text];
    this.length = text.length;
  }
}
