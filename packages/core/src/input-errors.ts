import { ConfigurationError } from './errors.js';

/** Shortens a value for an error message, so a pasted secret or a huge blob does not fill the log. */
export function quote(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(shown);
}

export function invalidInput(name: string, value: string, allowed: string): ConfigurationError {
  return new ConfigurationError(`Input "${name}" has an invalid value ${quote(value)}: ${allowed}`, {
    title: `Invalid input: ${name}`,
  });
}

export function missingInput(name: string, why?: string): ConfigurationError {
  return new ConfigurationError(`Input "${name}" is required${why ? ` ${why}` : ''}, but it was not set.`, {
    title: `Missing input: ${name}`,
  });
}
