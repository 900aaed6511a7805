import * as core from '@actions/core';
import { resumeCommands } from './untrusted.js';

/**
 * Everything action-kit says to the runner goes through @actions/core, here, in one file: outputs, state, env
 * (file commands), masks, annotations, groups and plain log lines. The rest of action-kit imports these thin
 * wrappers, so a hook on what reaches stdout (untrusted-text fencing) has one place to live: every wrapper
 * that can print a command calls `resumeCommands()` first, so a mask, an annotation or a group is never lost
 * inside a fence of untrusted lines (untrusted.ts).
 *
 * Cold start: @actions/core's entry also imports its OIDC client (@actions/http-client, undici) and
 * @actions/exec; the package is marked side-effect free for the bundler (`patchedDependencies` in
 * pnpm-workspace.yaml), so ncc drops every module the actions never call.
 */

export interface CommandProperties {
  title?: string | undefined;
  file?: string | undefined;
  startLine?: number | undefined;
  endLine?: number | undefined;
  startColumn?: number | undefined;
  endColumn?: number | undefined;
}

function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * Prints `::command key=value,…::message` for the commands @actions/core has no function for
 * (`stop-commands` and its resume token): @actions/core exports no issueCommand, so the line is formatted
 * here with the runner's escaping and written through core.info, @actions/core's own stdout line.
 */
export function issueCommand(
  command: string,
  properties: Record<string, string | number | undefined>,
  message: string,
): void {
  const props = Object.entries(properties)
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
    .join(',');
  resumeCommands();
  core.info(`::${command}${props ? ` ${props}` : ''}::${escapeData(message)}`);
}

export function info(message: string): void {
  core.info(message);
}

export function debug(message: string): void {
  resumeCommands();
  core.debug(message);
}

export function isDebug(): boolean {
  return core.isDebug();
}

export function annotate(
  level: 'error' | 'warning' | 'notice',
  message: string,
  properties: CommandProperties = {},
): void {
  const props: core.AnnotationProperties = {};
  for (const [key, value] of Object.entries(properties)) {
    if (value !== undefined && value !== '') (props as Record<string, unknown>)[key] = value;
  }
  resumeCommands();
  // A call per level, not core[level]: a computed member of the namespace would make the bundler keep every
  // export of @actions/core (and with getIDToken its HTTP client).
  if (level === 'error') core.error(message, props);
  else if (level === 'warning') core.warning(message, props);
  else core.notice(message, props);
}

export function startGroup(name: string): void {
  resumeCommands();
  core.startGroup(name);
}

export function endGroup(): void {
  resumeCommands();
  core.endGroup();
}

/** Registers a secret: the runner replaces it with *** in every later log line. */
export function addMask(secret: string): void {
  resumeCommands();
  core.setSecret(secret);
}

export function setOutput(name: string, value: string): void {
  // Without GITHUB_OUTPUT, @actions/core falls back to a ::set-output command.
  resumeCommands();
  core.setOutput(name, value);
}

export function saveState(name: string, value: string): void {
  resumeCommands();
  core.saveState(name, value);
}

export function getState(name: string): string {
  return core.getState(name);
}

export function exportVariable(name: string, value: string): void {
  resumeCommands();
  core.exportVariable(name, value);
}

/** An input as the runner (or @github/local-action, which applies action.yml's defaults) gives it, trimmed. */
export function getInput(name: string): string {
  return core.getInput(name);
}

/** Appends Markdown to the job summary file (GITHUB_STEP_SUMMARY); false when the runner gives none. */
export async function appendSummary(markdown: string): Promise<boolean> {
  if (!process.env.GITHUB_STEP_SUMMARY) return false;
  await core.summary.addRaw(markdown, true).write();
  return true;
}
