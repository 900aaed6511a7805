/**
 * Hostile text: lines a workload, a server or a registry could print that speak the GitHub runner's
 * protocol. Image behaviours print them (`hostileBehaviour`), `startHostileHttpServer` answers with them,
 * and tests check, reading the step's output with the runner's rules, that none of them was acted on.
 * Every forged command starts its message with FORGED_MARKER or has it in a property (or masks `planner`,
 * as in the report).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ImageBehaviour } from './kube/controllers/catalog.js';

/** In every forged command's name, properties or message. */
export const FORGED_MARKER = 'FORGED';
/** The value a forged `add-mask` registers: masking it would garble every line naming the app. */
export const FORGED_MASK = 'planner';

/** One of each command form the runner acts on, then `::stop-commands::x`, never resumed. */
export const HOSTILE_LINES: readonly string[] = [
  `::error title=${FORGED_MARKER}::${FORGED_MARKER} annotation from the workload`,
  `::warning::${FORGED_MARKER} warning`,
  `   ::notice::${FORGED_MARKER} notice after blanks`,
  `::add-mask::${FORGED_MASK}`,
  `::set-output name=${FORGED_MARKER}::forged output`,
  `::save-state name=${FORGED_MARKER}::forged state`,
  `::group::${FORGED_MARKER} group`,
  `::add-path::${FORGED_MARKER}-bin`,
  `text before ##[error]${FORGED_MARKER} legacy annotation`,
  `##[add-mask]${FORGED_MASK}`,
  `harmless\r::error::${FORGED_MARKER} after a carriage return`,
  '\u001b[31mred text\u001b[0m\u001b]0;FORGED terminal title\u0007 and a bell',
  `::stop-commands::x`,
];

/**
 * A command (as the runner harness reports it) that came from hostile text: its name, a property or the
 * start of its message is forged. (A command of the step's own may quote hostile text further on.)
 */
export function isForgedCommand(command: {
  command: string;
  properties: Record<string, string>;
  message: string;
}): boolean {
  if (command.command.includes(FORGED_MARKER)) return true;
  if (JSON.stringify(command.properties).includes(FORGED_MARKER)) return true;
  if (command.message.trimStart().startsWith(FORGED_MARKER)) return true;
  if (command.command === 'add-mask' && command.message.trim() === FORGED_MASK) return true;
  return command.command === 'stop-commands' && command.message === 'x';
}

/** A Job or container that prints the hostile lines, then exits with `exitCode` (default 0). */
export function hostileBehaviour(exitCode = 0, extraLines: string[] = []): ImageBehaviour {
  return { kind: 'exit', exitCode, lines: [...HOSTILE_LINES, ...extraLines], after: 300 };
}

/** A hostile single value: every line of the set in one string (CR/LF and all). */
export const HOSTILE_VALUE = HOSTILE_LINES.join('\n');

export interface HostileHttpServer {
  url: string;
  stop(): Promise<void>;
}

export interface HostileServerOptions {
  /** The status of every answer but `/redirect` (default 500, so a health check fails and quotes it). */
  status?: number;
  /** Answer with GitHub's error shape `{"message": …, "errors": […]}` carrying the hostile text. */
  json?: boolean;
}

/**
 * An HTTP server whose every answer is hostile: the body is the hostile lines (or GitHub's error JSON
 * carrying them), a header carries commands (`X-Hostile`), and `/redirect` answers 302 to itself, with a
 * location holding a command (a redirect loop).
 */
export async function startHostileHttpServer(options: HostileServerOptions = {}): Promise<HostileHttpServer> {
  const status = options.status ?? 500;
  const server: Server = createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith('/redirect')) {
      // A redirect loop whose location carries commands: the check gives up and names the last location.
      res.writeHead(302, {
        location: `/redirect?x=%0A::error title=${FORGED_MARKER}::location ##[error]${FORGED_MARKER}`,
      });
      res.end();
      return;
    }
    const body = options.json
      ? JSON.stringify({
          message: HOSTILE_VALUE,
          errors: [{ message: `##[error]${FORGED_MARKER} in errors` }],
        })
      : HOSTILE_VALUE;
    res.writeHead(status, {
      'content-type': options.json ? 'application/json; charset=utf-8' : 'text/plain',
      'x-hostile': `::error title=${FORGED_MARKER}::header ##[error]${FORGED_MARKER} header`,
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
