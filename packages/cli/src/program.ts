/**
 * One invocation of planner-deploy. Parses the command line (node:util parseArgs), resolves the settings
 * (flag > environment variable > config file > default), runs one command and maps the outcome to the
 * documented exit codes: 0 ok, 1 failed, 2 usage or bad input, 3 deploy failed and was rolled back,
 * 130 interrupted.
 */
import cliPackage from '../package.json' with { type: 'json' };
import { ActionFailure, asUserError, awsServiceFailure, errorMessage } from '@planner-deploy/core';
import { commandHelp, parseCommandLine, programHelp, UsageError, type Command } from './args.js';
import type { CommandContext, CommandResult, LeftBehind } from './context.js';
import { Ui, type UiStream } from './ui.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, rolledBack: 3, interrupted: 130 } as const;

type Run = (ctx: CommandContext) => Promise<CommandResult>;

/** Each command's module, loaded on use so that --help and bad input answer fast. */
const RUN: Record<Command, () => Promise<Run>> = {
  deploy: async () => (await import('./commands/deploy.js')).deploy,
  rollback: async () => (await import('./commands/rollback.js')).rollback,
  status: async () => (await import('./commands/status.js')).status,
  history: async () => (await import('./commands/history.js')).history,
  logs: async () => (await import('./commands/logs.js')).logs,
  migrate: async () => (await import('./commands/migrate.js')).migrate,
  scale: async () => (await import('./commands/scale.js')).scale,
};

/** Positional arguments each command takes after <env> (checked before anything connects). */
async function checkPositionals(command: Command, ctx: CommandContext): Promise<void> {
  if (command === 'scale') (await import('./commands/scale.js')).replicasArgument(ctx.positionals);
  else if (command === 'logs') (await import('./commands/logs.js')).logsRequest(ctx);
  else if (ctx.positionals.length > 1) {
    throw new UsageError(
      `unexpected argument "${ctx.positionals[1]}": ${command} takes only <env>.`,
      command,
    );
  }
}

/**
 * The package's version. Imported as JSON (not read from disk next to the module) so the bundle of the packed
 * CLI carries it: ncc would otherwise relocate the file into dist/, where dist/package.json says only the
 * module type.
 */
function version(): string {
  return cliPackage.version;
}

export interface MainOptions {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: UiStream;
  stderr: UiStream;
  signal: AbortSignal;
  left: LeftBehind;
  /** Called once the Ui exists, so the interrupt handler can use it. */
  onUi?: (ui: Ui) => void;
}

/** Runs one invocation; returns the exit code. */
export async function main(options: MainOptions): Promise<number> {
  const { argv, env, stdout, stderr } = options;
  const jsonWanted = argv.includes('--json');
  const early = new Ui({ stdout, stderr, env, json: jsonWanted, verbose: false });
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    return usageFailure(early, error as UsageError, jsonWanted);
  }
  if (parsed.version) {
    stdout.write(`planner-deploy ${version()}\n`);
    return EXIT.ok;
  }
  if (parsed.help || !parsed.command) {
    stdout.write(parsed.command ? commandHelp(parsed.command) : programHelp());
    return EXIT.ok;
  }
  const command = parsed.command;
  const ui = new Ui({
    stdout,
    stderr,
    env,
    json: parsed.values.json === true,
    verbose: parsed.values.verbose === true,
  });
  options.onUi?.(ui);
  let ctx: CommandContext | undefined;
  try {
    const environment = parsed.positionals[0];
    if (environment === undefined) {
      throw new UsageError(
        `${command} needs an environment: planner-deploy ${command} <env> (e.g. staging).`,
        command,
      );
    }
    // Loaded here, not at the top: --help and --version should not pay for the packages' validators.
    const { loadConfig, resolveSettings } = await import('./settings.js');
    const config = loadConfig(parsed.values.config as string | undefined, options.cwd);
    const settings = resolveSettings({
      command,
      env: environment,
      flags: parsed.values,
      processEnv: env,
      config,
      cwd: options.cwd,
    });
    ctx = {
      ui,
      settings,
      flags: parsed.values,
      positionals: parsed.positionals,
      signal: options.signal,
      left: options.left,
      processEnv: env,
    };
    await checkPositionals(command, ctx);
    if (settings.configPath) ui.debug(`Config: ${settings.configPath}`);
    ui.debug(
      `Settings: ${Object.entries(settings.sources)
        .map(([k, s]) => `${k} from ${s}`)
        .join(', ')}`,
    );
    const result = await (await RUN[command]())(ctx);
    if (options.signal.aborted) return interrupted(ui, command, options.left);
    if (ui.json) ui.document({ ...result.document, exitCode: result.exitCode });
    return result.exitCode;
  } catch (error) {
    if (options.signal.aborted) return interrupted(ui, command, options.left);
    if (error instanceof UsageError) return usageFailure(ui, error, ui.json, command);
    // A Kubernetes 404, 401 or 403 is the user's to fix (a name, a namespace, a credential, a permission):
    // said like a bad input, with exit 2.
    const userError = asUserError(error);
    const exitCode = userError ? EXIT.usage : EXIT.failed;
    const message = userError ? userError.message : describe(error);
    ui.error(message);
    if (ui.verbose && error instanceof Error && !userError) ui.debug(error.stack ?? '');
    if (ui.json) ui.document({ command, error: message, exitCode });
    return exitCode;
  }
}

function interrupted(ui: Ui, command: Command, left: LeftBehind): number {
  if (ui.json) ui.document({ command, interrupted: true, left: left.describe(), exitCode: EXIT.interrupted });
  return EXIT.interrupted;
}

function describe(error: unknown): string {
  if (error instanceof ActionFailure) return `${error.title}: ${error.message}`;
  const service = awsServiceFailure(error);
  if (service) return `${service.title}: ${service.message}`;
  // A Kubernetes API error (KubeApiError) describes itself with the status, reason and request.
  const describeSelf = (error as { describe?: unknown } | null)?.describe;
  if (error instanceof Error && typeof describeSelf === 'function') return String(describeSelf.call(error));
  return errorMessage(error);
}

function usageFailure(ui: Ui, error: UsageError, json: boolean, command?: Command): number {
  const which = error.command ?? command;
  ui.error(error.message);
  ui.err.write(`Run "planner-deploy ${which ? `${which} ` : ''}--help" for the usage.\n`);
  if (json) ui.document({ ...(which ? { command: which } : {}), error: error.message, exitCode: EXIT.usage });
  return EXIT.usage;
}
