/** Writes `file` (licenses.txt) for the modules of a webpack stats object (see licenses.mjs). */
export function writeLicenses(file: string, stats: unknown): Promise<void>;
