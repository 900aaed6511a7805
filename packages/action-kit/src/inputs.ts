import { invalidInput, missingInput, parseDuration } from '@planner-deploy/core';
import { getInput } from './toolkit.js';

/**
 * Typed readers for action inputs. They read `INPUT_<NAME>` exactly as the runner sets it (name upper-cased,
 * spaces to underscores, hyphens kept) through @actions/core's getInput, treat an empty value as absent, and
 * throw a ConfigurationError that names the input, quotes the value and says what is allowed. Reading through
 * getInput is what lets @github/local-action, which stubs @actions/core, apply action.yml's defaults.
 */
export type InputSource = Record<string, string | undefined>;

let source: InputSource = process.env;

/** Reads inputs from another map (tests, the CLI). Returns the previous source. */
export function setInputSource(next: InputSource): InputSource {
  const previous = source;
  source = next;
  return previous;
}

export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

function raw(name: string): string | undefined {
  const value = source === process.env ? getInput(name) : source[inputEnvName(name)];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function getOptionalString(name: string): string | undefined {
  return raw(name);
}

export function getRequiredString(name: string): string {
  const value = raw(name);
  if (value === undefined) throw missingInput(name);
  return value;
}

/** YAML 1.2 core schema booleans only: true/True/TRUE/false/False/FALSE. */
export function getBoolean(name: string, fallback: boolean): boolean {
  const value = raw(name);
  if (value === undefined) return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw invalidInput(name, value, 'expected true or false.');
}

export interface IntegerBounds {
  min?: number;
  max?: number;
}

function boundsText(bounds: IntegerBounds): string {
  if (bounds.min !== undefined && bounds.max !== undefined) return ` from ${bounds.min} to ${bounds.max}`;
  if (bounds.min !== undefined) return ` of at least ${bounds.min}`;
  if (bounds.max !== undefined) return ` of at most ${bounds.max}`;
  return '';
}

export function parseInteger(name: string, value: string, bounds: IntegerBounds = {}): number {
  const allowed = `expected a whole number${boundsText(bounds)}.`;
  if (!/^-?\d+$/.test(value)) throw invalidInput(name, value, allowed);
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw invalidInput(name, value, allowed);
  if (bounds.min !== undefined && parsed < bounds.min) throw invalidInput(name, value, allowed);
  if (bounds.max !== undefined && parsed > bounds.max) throw invalidInput(name, value, allowed);
  return parsed;
}

export function getInteger(name: string, fallback: number, bounds?: IntegerBounds): number;
export function getInteger(name: string, fallback: undefined, bounds?: IntegerBounds): number | undefined;
export function getInteger(name: string, fallback: number | undefined, bounds: IntegerBounds = {}) {
  const value = raw(name);
  if (value === undefined) return fallback;
  return parseInteger(name, value, bounds);
}

export interface DurationBounds {
  /** Smallest allowed value in ms. */
  minMs?: number;
  /** Largest allowed value in ms. */
  maxMs?: number;
}

export function parseDurationInput(name: string, value: string, bounds: DurationBounds = {}): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    const hint = /^\d+$/.test(value) ? ` (for seconds write "${value}s")` : '';
    throw invalidInput(name, value, `expected a duration such as 90s, 5m, 1h30m or 500ms${hint}.`);
  }
  if (bounds.minMs !== undefined && ms < bounds.minMs) {
    throw invalidInput(name, value, `expected a duration of at least ${bounds.minMs}ms.`);
  }
  if (bounds.maxMs !== undefined && ms > bounds.maxMs) {
    throw invalidInput(name, value, `expected a duration of at most ${bounds.maxMs / 1000}s.`);
  }
  return ms;
}

/** A duration in milliseconds (`90s`, `5m`, `1h30m`, `500ms`). */
export function getDuration(name: string, fallbackMs: number, bounds?: DurationBounds): number;
export function getDuration(name: string, fallbackMs: undefined, bounds?: DurationBounds): number | undefined;
export function getDuration(name: string, fallbackMs: number | undefined, bounds: DurationBounds = {}) {
  const value = raw(name);
  if (value === undefined) return fallbackMs;
  return parseDurationInput(name, value, bounds);
}

/** Splits list text: newline or comma separated, blank lines and `#` comment lines ignored. */
export function splitList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Splits multi-line text into lines only (for values that may contain commas). */
export function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export function getList(name: string): string[] {
  const value = raw(name);
  return value === undefined ? [] : splitList(value);
}

/** Lines only: newline separated, blank lines and `#` comments ignored (commas are kept). */
export function getLines(name: string): string[] {
  const value = raw(name);
  return value === undefined ? [] : splitLines(value);
}

/**
 * `key=value` lines (or `key: value` when `separator` is ':'). Keys must be non-empty; a repeated key is an
 * error, because silently keeping one of them hides a typo.
 */
export function parseMap(name: string, lines: string[], separator: '=' | ':' = '='): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of lines) {
    const at = line.indexOf(separator);
    const key = at < 0 ? '' : line.slice(0, at).trim();
    if (key === '') {
      throw invalidInput(name, line, `expected one "key${separator === '=' ? '=' : ': '}value" per line.`);
    }
    if (map.has(key)) throw invalidInput(name, line, `the key "${key}" is given more than once.`);
    map.set(key, line.slice(at + 1).trim());
  }
  return map;
}

export function getMap(name: string, separator: '=' | ':' = '='): Map<string, string> {
  return parseMap(name, getLines(name), separator);
}

export function getEnum<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
export function getEnum<T extends string>(
  name: string,
  allowed: readonly T[],
  fallback: undefined,
): T | undefined;
export function getEnum<T extends string>(name: string, allowed: readonly T[], fallback: T | undefined) {
  const value = raw(name);
  if (value === undefined) return fallback;
  const match = allowed.find((option) => option.toLowerCase() === value.toLowerCase());
  if (match === undefined) {
    throw invalidInput(name, value, `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}.`);
  }
  return match;
}
