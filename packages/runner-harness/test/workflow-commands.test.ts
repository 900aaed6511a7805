import { describe, expect, it } from '@jest/globals';
import { CommandReader, parseLegacyCommand, runnerCommands, runnerLines } from '../src/index.js';

const names = (output: string): string[] => runnerCommands(output).map((c) => `${c.command}:${c.message}`);

describe('the runner rules', () => {
  it('rule 1: :: after blanks starts a command', () => {
    expect(names('::error::a\n   ::warning::b\nx ::notice::c\n')).toEqual(['error:a', 'warning:b']);
  });

  it('rule 2: ##[name] anywhere in a line is a legacy command', () => {
    expect(parseLegacyCommand('text ##[error file=a;line=3]boom')).toEqual({
      command: 'error',
      properties: { file: 'a', line: '3' },
      message: 'boom',
      legacy: true,
    });
    expect(names('before ##[warning]w\n##[add-mask]planner\n#[no]\n##\\[no]\n')).toEqual([
      'warning:w',
      'add-mask:planner',
    ]);
  });

  it('rule 3: nothing is a command after stop-commands until ::TOKEN::', () => {
    const output = [
      '::stop-commands::tok1',
      '::add-mask::ignored',
      '##[error]ignored',
      '::other::',
      '::tok1::',
      '::add-mask::acted',
      '::stop-commands::x',
      '::error::never',
    ].join('\n');
    expect(names(output)).toEqual(['stop-commands:tok1', 'tok1:', 'add-mask:acted', 'stop-commands:x']);
    const reader = new CommandReader();
    for (const line of runnerLines(output)) reader.read(line);
    expect(reader.stopped).toBe(true);
  });

  it('a lone CR ends a line, as .NET ReadLine does', () => {
    expect(runnerLines('a\rb\r\nc\nd')).toEqual(['a', 'b', 'c', 'd']);
    expect(names('harmless\r::error::after CR\n')).toEqual(['error:after CR']);
  });
});
