/**
 * The one way an action prints text we do not control. A stream of it (a Job's log, followed pod logs,
 * docker output) is printed inside `::stop-commands::<token>` … `::<token>::`, so the runner acts on no
 * line of it; every command of the step's own (a mask first of all) resumes commands first, and the next
 * untrusted line stops them again with a new token. The state lives here, and toolkit.ts (the
 * only writer of commands, over @actions/core) calls `resumeCommands()` before writing any command. Single values are quoted by core's `quoteUntrusted`.
 */
import { EOL } from 'node:os';
import { capLine, LINE_LIMIT_CHARS } from '@planner-deploy/core';

let stopToken: string | undefined;

function newToken(): string {
  // node:crypto is loaded when the first untrusted line is printed, not at start-up (cold start).
  return `untrusted-${process.getBuiltinModule('node:crypto').randomBytes(16).toString('hex')}`;
}

/**
 * Prints lines we do not control as they are (each capped, the rest counted), with runner commands
 * stopped. `text` may hold several lines; any of LF, CRLF or a lone CR ends a line, as for the runner.
 */
export function printUntrusted(text: string): void {
  if (stopToken === undefined) {
    stopToken = newToken();
    process.stdout.write(`::stop-commands::${stopToken}${EOL}`);
  }
  // A line a LineSplitter already capped (its marker included) passes as it is; its count stays right.
  for (const line of text.split(/\r\n|\r|\n/))
    process.stdout.write(`${capLine(line, LINE_LIMIT_CHARS + 64)}${EOL}`);
}

/** Resumes runner commands if untrusted lines stopped them; called before every command of ours. */
export function resumeCommands(): void {
  if (stopToken === undefined) return;
  const token = stopToken;
  stopToken = undefined;
  process.stdout.write(`::${token}::${EOL}`);
}

/** True while untrusted lines have stopped runner commands. */
export function commandsStopped(): boolean {
  return stopToken !== undefined;
}
