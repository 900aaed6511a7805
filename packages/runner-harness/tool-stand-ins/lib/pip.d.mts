// Types of pip.mjs for the tests (the shims are plain JS so that they run with any node on the PATH).
export interface Requirement {
  text: string;
  name: string;
  key: string;
  extras: string[];
  specifier: string;
  url?: string;
  marker?: string;
}
export interface Found {
  name: string;
  version: string;
  satisfies: boolean | null;
  missingExtras: Record<string, string[] | null>;
}
export interface Probe {
  python: string;
  version: string;
  found: Record<string, Found>;
}
export function normalise(name: string): string;
export function parseRequirement(text: string, where?: string): Requirement;
export function parseRequirementsFile(
  file: string,
  read?: (file: string) => string,
): { requirements: Requirement[]; unchecked: string[] };
export function parsePipArgs(
  args: string[],
  read?: (file: string) => string,
): { command: string | undefined; requirements: Requirement[]; unchecked: string[]; files: string[] };
export function installBlockedReason(output: string): string | undefined;
export function debianPackage(key: string): string;
export function pythons(path?: string): string[];
export function probe(requirements: Requirement[], interpreters?: string[], env?: NodeJS.ProcessEnv): Probe[];
export function decide(input: {
  requirements: Requirement[];
  unchecked: string[];
  reason: string;
  args: string[];
  probes: Probe[];
}): { ok: boolean; message: string };
export function main(tool: string, args: string[]): number;
