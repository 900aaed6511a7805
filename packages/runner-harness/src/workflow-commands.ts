/**
 * Reading a step's output as the GitHub runner does. Three rules decide what the runner acts on:
 * 1. a line whose first non-blank characters are `::` is a command (`::name key=value,…::message`);
 * 2. `##[name key=value;…]message` anywhere in a line is a (legacy) command;
 * 3. after `::stop-commands::TOKEN` no command is processed until one named TOKEN (`::TOKEN::`).
 * The runner reads lines as .NET's ReadLine does: LF, CRLF and a lone CR each end a line.
 */

/** A command the runner acts on. */
export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
  /** True for the `##[name]` form. */
  legacy?: boolean;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  title?: string;
  message: string;
}

function unescapeData(text: string): string {
  return text.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

function unescapeProperty(text: string): string {
  return unescapeData(text).replace(/%3A/gi, ':').replace(/%2C/gi, ',');
}

function parseProperties(text: string, separator: string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const pair of text.split(separator)) {
    const at = pair.indexOf('=');
    if (at > 0) properties[pair.slice(0, at).trim()] = unescapeProperty(pair.slice(at + 1));
  }
  return properties;
}

/** Rule 1: `::name props::message` after blanks; undefined when the line is not such a command. */
export function parseWorkflowCommand(line: string): WorkflowCommand | undefined {
  const text = line.trimStart();
  if (!text.startsWith('::')) return undefined;
  const end = text.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = text.slice(2, end);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (command === '') return undefined;
  return {
    command,
    properties: space < 0 ? {} : parseProperties(info.slice(space + 1), ','),
    message: unescapeData(text.slice(end + 2)),
  };
}

/** Rule 2: `##[name props]message` anywhere in the line (the first one found, as the runner reads it). */
export function parseLegacyCommand(line: string): WorkflowCommand | undefined {
  const start = line.indexOf('##[');
  if (start < 0) return undefined;
  const close = line.indexOf(']', start);
  if (close < 0) return undefined;
  const info = line.slice(start + 3, close);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (command === '') return undefined;
  return {
    command,
    properties: space < 0 ? {} : parseProperties(info.slice(space + 1), ';'),
    message: unescapeData(line.slice(close + 1)),
    legacy: true,
  };
}

/** Splits output into lines as the runner does (LF, CRLF or a lone CR). */
export function runnerLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * The runner's command processing over a sequence of lines, with the stop-commands state (rule 3). `read`
 * returns the command the runner acts on for a line, or undefined when it shows the line as text.
 */
export class CommandReader {
  private stopToken: string | undefined;

  /** True while commands are stopped. */
  get stopped(): boolean {
    return this.stopToken !== undefined;
  }

  read(line: string): WorkflowCommand | undefined {
    const command = parseWorkflowCommand(line) ?? parseLegacyCommand(line);
    if (!command) return undefined;
    if (this.stopToken !== undefined) {
      if (command.command.toLowerCase() !== this.stopToken.toLowerCase()) return undefined;
      this.stopToken = undefined;
      return command;
    }
    if (command.command === 'stop-commands') this.stopToken = command.message;
    return command;
  }
}

/** Every command the runner would act on in `output`, in order. */
export function runnerCommands(output: string): WorkflowCommand[] {
  const reader = new CommandReader();
  const out: WorkflowCommand[] = [];
  for (const line of runnerLines(output)) {
    const command = reader.read(line);
    if (command) out.push(command);
  }
  return out;
}
