import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface LocalActionOptions {
  /** The action's folder, relative to the repository root (`actions/verify-health`). */
  action: string;
  /** The dotenv file's variables: `INPUT_<NAME>` (hyphens kept) and whatever else the step needs. */
  env: Record<string, string>;
  /** Entry point, relative to the action (default `src/main.ts`). */
  entrypoint?: string;
  /** Killed past this (default 180 s: local-action starts tsx through `pnpm dlx`). */
  limitMs?: number;
}

export interface LocalActionResult {
  exitCode: number | null;
  /** Everything local-action printed (its tables included). */
  stdout: string;
  stderr: string;
  /** The outputs, from the `::set-output name=…::value` lines local-action's @actions/core stub prints. */
  outputs: Record<string, string>;
  /** The text after local-action's "Action Outputs" heading (its table of outputs). */
  outputsTable: string;
}

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);

/**
 * Runs an action from source with GitHub's `@github/local-action`, as a developer does:
 * `pnpm exec local-action run <action> src/main.ts <dotenv>` from the repository root.
 */
export async function runLocalAction(options: LocalActionOptions): Promise<LocalActionResult> {
  const dir = await mkdtemp(join(tmpdir(), 'local-action-'));
  const dotenv = join(dir, '.env');
  const lines = Object.entries(options.env).map(([name, value]) => {
    if (/[\r\n]/.test(value)) throw new Error(`runLocalAction: ${name} holds a newline; give one line.`);
    return `${name}=${JSON.stringify(value)}`;
  });
  await writeFile(dotenv, `${lines.join('\n')}\n`);
  const args = ['exec', 'local-action', 'run', options.action, options.entrypoint ?? 'src/main.ts', dotenv];
  // The runner's own variables are dropped so the step sees only the dotenv file, as on a developer's machine.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(INPUT_|STATE_|GITHUB_|RUNNER_|ACTIONS_)/.test(name) && name !== 'NODE_OPTIONS',
    ),
  );
  return new Promise((done) => {
    execFile(
      'pnpm',
      args,
      { cwd: ROOT, env, timeout: options.limitMs ?? 180_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const outputs: Record<string, string> = {};
        for (const match of stdout.matchAll(/^::set-output name=([^:]+)::(.*)$/gm)) {
          outputs[match[1] as string] = match[2] as string;
        }
        const at = stdout.lastIndexOf('Action Outputs');
        done({ exitCode, stdout, stderr, outputs, outputsTable: at < 0 ? '' : stdout.slice(at) });
      },
    );
  });
}
