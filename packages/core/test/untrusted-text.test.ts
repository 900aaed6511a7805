import { describe, expect, it } from '@jest/globals';
import {
  capLine,
  defuseLine,
  LineSplitter,
  logUntrusted,
  MemoryLogger,
  NullLogger,
  OutputTail,
  quoteUntrusted,
  stripTerminalControls,
  type Logger,
} from '../src/index.js';

/** The runner's rules 1 and 2 for one line (its rule 3 needs a stream: see the runner harness). */
function runnerWouldAct(line: string): boolean {
  return line.trimStart().startsWith('::') || line.includes('##[');
}

describe('quoteUntrusted', () => {
  it.each([
    ['plain text as it is', 'connection refused', 'connection refused'],
    ['CR and LF shown', 'a\r\nb\nc', 'a\\r\\nb\\nc'],
    ['a leading :: broken', '::error::x', '\\::error::x'],
    ['a leading :: after blanks broken', '  \t::add-mask::planner', '  \t\\::add-mask::planner'],
    ['a :: inside a line kept', 'see a::b', 'see a::b'],
    ['every ##[ broken', 'x ##[error]y ###[warning]z', 'x ##\\[error]y ###\\[warning]z'],
    ['ESC and BEL shown', '\u001b[31mred\u0007', '\\u001b[31mred\\u0007'],
    ['a tab kept', 'a\tb', 'a\tb'],
  ])('%s', (_what, input, expected) => {
    expect(quoteUntrusted(input)).toBe(expected);
  });

  it('leaves no line the runner would act on, whatever the input', () => {
    const hostile = [
      '::error title=Forged::x\n::add-mask::planner\r::set-output name=a::b',
      '\n\n  ::stop-commands::x',
      'a\u2028::warning::x',
      '#'.repeat(5) + '[error]',
    ];
    for (const text of hostile) {
      const quoted = quoteUntrusted(text);
      expect(quoted.split(/\r\n|\r|\n/)).toHaveLength(1);
      expect(runnerWouldAct(quoted)).toBe(false);
    }
  });

  it('caps the value and says how much was left out', () => {
    expect(quoteUntrusted('abcdefghij', 4)).toBe('abcd… (6 more characters)');
    expect(quoteUntrusted('x'.repeat(5000))).toHaveLength(1000 + '… (4000 more characters)'.length);
  });

  it('never cuts a character in half', () => {
    expect(quoteUntrusted('ab😀cd', 3)).toBe('ab… (4 more characters)');
  });
});

describe('defuseLine', () => {
  it('breaks commands only', () => {
    expect(defuseLine('::group::x')).toBe('\\::group::x');
    expect(defuseLine('ok ##[x]')).toBe('ok ##\\[x]');
    expect(defuseLine('Body: a::b')).toBe('Body: a::b');
  });
});

describe('LineSplitter', () => {
  it('splits LF and CRLF across chunks, keeps a last line without newline', () => {
    const splitter = new LineSplitter();
    const lines = [
      ...splitter.push('one\r'),
      ...splitter.push('\ntwo\nthr'),
      ...splitter.push('ee\n\nfour'),
      ...splitter.end(),
    ];
    expect(lines).toEqual(['one', 'two', 'three', '', 'four']);
  });

  it('caps a long line and counts the rest, however it arrives', () => {
    const splitter = new LineSplitter({ maxLineChars: 10 });
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(...splitter.push('abcdefghij'));
    lines.push(...splitter.push('\r\nshort\n'));
    expect(lines).toEqual(['abcdefghij … (9990 more characters)', 'short']);
  });

  it('does not end a capped line on half a character', () => {
    const splitter = new LineSplitter({ maxLineChars: 3 });
    expect(splitter.push('ab😀cd\n')).toEqual(['ab … (4 more characters)']);
  });

  it('holds a 64 MiB line without a newline in bounded memory', () => {
    const splitter = new LineSplitter();
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 1024; i++) expect(splitter.push(chunk)).toEqual([]);
    const [line] = splitter.end();
    expect(line).toBe(`${'x'.repeat(4096)} … (${64 * 1024 * 1024 - 4096} more characters)`);
  });
});

describe('capLine', () => {
  it('keeps short lines and caps long ones', () => {
    expect(capLine('abc', 5)).toBe('abc');
    expect(capLine('abcdefg', 5)).toBe('abcde … (2 more characters)');
  });
});

describe('OutputTail', () => {
  it('keeps the end of a large output', () => {
    const tail = new OutputTail(10);
    for (let i = 0; i < 100; i++) tail.push(`${i % 10}`.repeat(7));
    tail.push('digest: ok');
    expect(tail.text()).toBe('digest: ok');
    expect(tail.dropped).toBe(700);
  });
  it('keeps a small output whole', () => {
    const tail = new OutputTail(100);
    tail.push('a\n');
    tail.push('b\n');
    expect(tail.text()).toBe('a\nb\n');
    expect(tail.dropped).toBe(0);
  });
});

describe('stripTerminalControls', () => {
  it('removes escape sequences and control characters, keeps text and tabs', () => {
    expect(stripTerminalControls('\u001b[31mred\u001b[0m\u001b]0;title\u0007 ok\tdone\r\u001b[2K')).toBe(
      'red ok\tdone',
    );
  });
});

describe('logUntrusted', () => {
  it('hands the line as it is to a logger that fences streams', () => {
    const logger = new MemoryLogger();
    logUntrusted(logger, '::error::x');
    expect(logger.text()).toBe('::error::x');
  });
  it('defuses and caps the line for a logger without untrusted()', () => {
    const seen: string[] = [];
    const logger: Logger = { ...NullLogger, untrusted: undefined, info: (m) => seen.push(m) };
    logUntrusted(logger, '::error::x');
    logUntrusted(logger, `a\rb ##[warning]${'y'.repeat(5000)}`);
    expect(seen[0]).toBe('\\::error::x');
    expect(seen[1]?.startsWith('a\\rb ##\\[warning]')).toBe(true);
    expect(seen[1]?.endsWith('(855 more characters)')).toBe(true);
  });
});
