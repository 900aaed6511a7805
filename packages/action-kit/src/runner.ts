import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';
import { resumeCommands } from './untrusted.js';

/**
 * The runner's protocol, written directly: workflow commands on stdout (`::error title=…::message`) and
 * file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV). This is the subset of @actions/core that the
 * actions use. @actions/core's entry point also loads its OIDC client (@actions/http-client, undici) and
 * @actions/exec at start-up, which alone costs more than verify-health's whole 60 ms cold-start budget, so
 * action-kit speaks the documented protocol itself and nothing else in the repository talks to the runner.
 */

export interface CommandProperties {
  title?: string | undefined;
  file?: string | undefined;
  line?: number | undefined;
  startLine?: number | undefined;
  endLine?: number | undefined;
  col?: number | undefined;
  /** For the legacy set-output/save-state/set-env commands. */
  name?: string | undefined;
}

function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Prints `::command key=value,…::message`, resuming commands first if untrusted lines stopped them. */
export function issueCommand(command: string, properties: CommandProperties, message: string): void {
  resumeCommands();
  const props = Object.entries(properties as Record<string, string | number | undefined>)
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
    .join(',');
  process.stdout.write(`::${command}${props ? ` ${props}` : ''}::${escapeData(message)}${EOL}`);
}

/** Appends `name<<delimiter` … to a file command, or reports false when the runner gave no such file. */
function issueFileCommand(
  variable: 'GITHUB_OUTPUT' | 'GITHUB_STATE' | 'GITHUB_ENV',
  name: string,
  value: string,
): boolean {
  const file = process.env[variable];
  if (!file) return false;
  // node:crypto is loaded here, when the first output is written, not at start-up (it costs a cold start
  // several milliseconds before the first request).
  const delimiter = `ghadelimiter_${process.getBuiltinModule('node:crypto').randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new Error(`Unexpected input: the value of ${name} contains the delimiter ${delimiter}`);
  }
  appendFileSync(file, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`, 'utf8');
  return true;
}

export function info(message: string): void {
  process.stdout.write(`${message}${EOL}`);
}

export function debug(message: string): void {
  issueCommand('debug', {}, message);
}

export function isDebug(): boolean {
  return process.env.RUNNER_DEBUG === '1';
}

export function annotate(
  level: 'error' | 'warning' | 'notice',
  message: string,
  properties: CommandProperties = {},
): void {
  issueCommand(level, properties, message);
}

export function startGroup(name: string): void {
  issueCommand('group', {}, name);
}

export function endGroup(): void {
  issueCommand('endgroup', {}, '');
}

/** Registers a secret: the runner replaces it with *** in every later log line. */
export function addMask(secret: string): void {
  issueCommand('add-mask', {}, secret);
}

export function setOutput(name: string, value: string): void {
  if (!issueFileCommand('GITHUB_OUTPUT', name, value)) {
    process.stdout.write(EOL);
    issueCommand('set-output', { name }, value);
  }
}

export function saveState(name: string, value: string): void {
  if (!issueFileCommand('GITHUB_STATE', name, value)) issueCommand('save-state', { name }, value);
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] ?? '';
}

export function exportVariable(name: string, value: string): void {
  process.env[name] = value;
  if (!issueFileCommand('GITHUB_ENV', name, value)) issueCommand('set-env', { name }, value);
}
