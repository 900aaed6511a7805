import * as core from './toolkit.js';

const registered = new Set<string>();

/**
 * Masks a secret in every later log line. The runner masks the whole value and each of its lines; short
 * fragments are not registered (masking "a" would garble the log) but whole values always are.
 */
export function maskSecret(value: string | undefined): void {
  if (value === undefined) return;
  const trimmed = value.trim();
  if (trimmed === '' || registered.has(trimmed)) return;
  registered.add(trimmed);
  core.addMask(trimmed);
  for (const line of trimmed.split(/\r?\n/)) {
    const part = line.trim();
    if (part.length >= 4 && !registered.has(part)) {
      registered.add(part);
      core.addMask(part);
    }
  }
}

/** Secrets registered so far (for redacting text that is not a log line, e.g. a summary). */
export function registeredSecrets(): string[] {
  return [...registered];
}

/** Replaces every occurrence of the given secrets (and the registered ones) with `***`. */
export function redact(text: string, secrets: Iterable<string> = registered): string {
  let out = text;
  const all = [...new Set([...secrets, ...registered])].filter((s) => s.length > 0);
  all.sort((a, b) => b.length - a.length);
  for (const secret of all) out = out.split(secret).join('***');
  return out;
}
