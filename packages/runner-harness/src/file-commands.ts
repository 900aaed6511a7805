/**
 * Parses the runner's file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV): `NAME=VALUE` lines and
 * `NAME<<DELIMITER` heredocs, as actions/runner reads them.
 */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    const equals = line.indexOf('=');
    if (heredoc && (equals < 0 || equals > line.indexOf('<<'))) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const body: string[] = [];
      i++;
      while (i < lines.length && lines[i] !== delimiter) {
        body.push(lines[i] as string);
        i++;
      }
      if (i >= lines.length) throw new Error(`Matching delimiter not found '${delimiter}'`);
      values[name] = body.join('\n');
      continue;
    }
    if (equals <= 0) throw new Error(`Invalid format '${line}'`);
    values[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return values;
}
