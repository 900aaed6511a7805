/** Builds `entry` (relative to `cwd`) into `<cwd>/dist` with licenses.txt (see ncc.mjs). */
export function nccBuild(cwd: string, entry: string): Promise<void>;
