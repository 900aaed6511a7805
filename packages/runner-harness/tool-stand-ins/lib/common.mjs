// What every tool shim shares (plain JS: the shims run with whatever node is on the PATH, no build step).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** tool-stand-ins/bin: removed from the PATH when looking for the real tool, so a shim never finds itself. */
export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin');

/** The PATH without tool-stand-ins/bin. */
export function realPath(path = process.env['PATH'] ?? '') {
  return path
    .split(delimiter)
    .filter((dir) => dir !== '' && resolve(dir) !== BIN)
    .join(delimiter);
}

/** The real `name` on the PATH (tool-stand-ins/bin left out), or undefined. */
export function findReal(name, path = realPath()) {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The environment for the real tool: its PATH without the shims. */
export function realEnv(env = process.env) {
  return { ...env, PATH: realPath(env['PATH'] ?? '') };
}

/** Runs a program, its output captured (and echoed as it was when `echo`), never through a shell. */
export function capture(program, args, { echo = false, input, env = process.env } = {}) {
  const result = spawnSync(program, args, {
    env: realEnv(env),
    encoding: 'utf8',
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (echo) {
    if (result.stdout) process.stdout.write(result.stdout);
    if (result.stderr) process.stderr.write(result.stderr);
  }
  return {
    status: result.error ? 127 : (result.status ?? 1),
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    error: result.error,
  };
}

/**
 * A workflow command's property or message, escaped as the runner expects (text we do not control, such as
 * pip's error, must not end the line or forge a second command).
 */
export function escapeData(text) {
  return String(text).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** The `::warning::stand-in: …` line the shim contract asks for. */
export function standInWarning(message) {
  return `::warning::stand-in: ${escapeData(message)}`;
}
