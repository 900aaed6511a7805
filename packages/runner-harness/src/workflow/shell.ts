/**
 * `run:` steps: the script in a file, run by bash (`bash --noprofile --norc -eo pipefail {0}`, the runner's
 * default on Linux) in the job's workspace, with the GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH /
 * GITHUB_STEP_SUMMARY files, and stdout read with the runner's command rules (CommandReader).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFileCommands } from '../file-commands.js';
import { parseWorkflowCommand, type Annotation } from '../workflow-commands.js';
import { maskSecrets } from '../masks.js';

/**
 * Reads a step's output as the runner does: a line whose first non-blank characters are `::` is a command,
 * nothing acts between `::stop-commands::T` and `::T::`, `add-mask` hides a value from then on. Written by
 * hand because the runner's reader is C# (actions/runner); the line parser is the harness's own.
 */
export class CommandReader {
  readonly annotations: Annotation[] = [];
  /** Visible log lines, masked; commands other than annotations are left out. */
  readonly lines: string[] = [];
  private stopToken: string | undefined;

  constructor(
    readonly masks: string[],
    private readonly onVisible: (line: string) => void = () => {},
  ) {}

  mask(text: string): string {
    return maskSecrets(text, this.masks);
  }

  line(raw: string): void {
    const trimmed = raw.trimStart();
    if (this.stopToken !== undefined) {
      if (trimmed === `::${this.stopToken}::`) this.stopToken = undefined;
      else this.show(raw);
      return;
    }
    const command = trimmed.startsWith('::') ? parseWorkflowCommand(trimmed) : undefined;
    if (!command) return this.show(raw);
    switch (command.command) {
      case 'add-mask':
        for (const value of [command.message, ...command.message.split(/\r?\n/)])
          if (value.trim() !== '' && !this.masks.includes(value)) this.masks.push(value);
        return;
      case 'stop-commands':
        this.stopToken = command.message;
        return;
      case 'error':
      case 'warning':
      case 'notice': {
        const title = command.properties.title;
        const annotation: Annotation = {
          level: command.command,
          message: this.mask(command.message),
          ...(title !== undefined ? { title: this.mask(title) } : {}),
        };
        this.annotations.push(annotation);
        this.show(`${command.command}: ${title ? `${annotation.title}: ` : ''}${annotation.message}`);
        return;
      }
      case 'group':
        return this.show(`▸ ${command.message}`);
      default:
        return; // endgroup, debug, save-state, set-output (deprecated): nothing to show
    }
  }

  private show(raw: string): void {
    const masked = this.mask(raw);
    this.lines.push(masked);
    this.onVisible(masked);
  }
}

export interface ScriptResult {
  exitCode: number | null;
  outputs: Record<string, string>;
  env: Record<string, string>;
  path: string[];
  summary: string;
}

const SHELLS: Record<string, (file: string) => [string, string[]]> = {
  bash: (f) => ['bash', ['--noprofile', '--norc', '-eo', 'pipefail', f]],
  sh: (f) => ['sh', ['-e', f]],
  python: (f) => ['python3', [f]],
};

/** Runs one `run:` script; `shell` is bash (default), sh or python. */
export async function runScript(options: {
  script: string;
  shell?: string;
  cwd: string;
  env: Record<string, string>;
  temp: string;
  reader: CommandReader;
  limitMs: number;
}): Promise<ScriptResult> {
  const shell = options.shell ?? 'bash';
  const command = SHELLS[shell];
  if (!command) throw new Error(`shell: "${shell}" is not supported by pnpm workflow (bash, sh or python)`);
  const dir = await mkdtemp(join(options.temp, 'step-'));
  const file = join(dir, shell === 'python' ? 'script.py' : 'script.sh');
  await writeFile(file, options.script);
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
    GITHUB_STATE: join(dir, 'state'),
  };
  for (const f of Object.values(files)) await writeFile(f, '');
  const [exe, args] = command(file);
  const child = spawn(exe, args, {
    cwd: options.cwd,
    env: { ...options.env, ...files },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.limitMs);
  const pump = (stream: NodeJS.ReadableStream): Promise<void> =>
    new Promise((resolve) => {
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf('\n')) >= 0) {
          options.reader.line(buffer.slice(0, at).replace(/\r$/, ''));
          buffer = buffer.slice(at + 1);
        }
      });
      stream.on('end', () => {
        if (buffer !== '') options.reader.line(buffer);
        resolve();
      });
    });
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const [exitCode] = await Promise.all([exit, pump(child.stdout), pump(child.stderr)]);
  clearTimeout(timer);
  const read = async (f: string): Promise<string> => readFile(f, 'utf8');
  return {
    exitCode,
    outputs: parseFileCommands(await read(files.GITHUB_OUTPUT)),
    env: parseFileCommands(await read(files.GITHUB_ENV)),
    path: (await read(files.GITHUB_PATH)).split(/\r?\n/).filter((l) => l.trim() !== ''),
    summary: await read(files.GITHUB_STEP_SUMMARY),
  };
}
