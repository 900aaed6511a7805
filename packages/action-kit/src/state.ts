import * as core from './toolkit.js';

/** Typed STATE_* shared between the main step and its post step. */
export function saveState<T>(name: string, value: T): void {
  core.saveState(name, JSON.stringify(value));
}

export function readState<T>(name: string): T | undefined {
  const text = core.getState(name);
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Outputs: strings as they are, everything else as JSON. */
export function setOutputs(outputs: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(outputs)) {
    if (value === undefined) continue;
    core.setOutput(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
}
