/** A `::command key=value,…::message` line an action printed. */
export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
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

/** Parses one stdout line; undefined when it is not a workflow command. */
export function parseWorkflowCommand(line: string): WorkflowCommand | undefined {
  // As actions/runner reads it: the command and its properties end at the first `::` (a single `:` in a
  // property, `title=Invalid input: tag`, is part of it).
  const match = /^::([A-Za-z-]+)(?: (.*?))?::(.*)$/s.exec(line);
  if (!match) return undefined;
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) properties[pair.slice(0, at).trim()] = unescapeProperty(pair.slice(at + 1));
  }
  return { command: match[1] as string, properties, message: unescapeData(match[3] ?? '') };
}
