/**
 * planner-deploy: the operator CLI's entry point (see program.ts for the commands and README.md for the
 * usage). Runs one invocation with the process's argv, env and streams, and handles Ctrl-C.
 */
import { enableCompileCache } from 'node:module';
import type { Ui } from './ui.js';

// V8's compile cache (also of the TypeScript Node strips on the fly): a second run starts in about half
// the time. Enabled before the rest of the CLI is imported, so it covers every module after this one.
enableCompileCache();
const { LeftBehind } = await import('./context.js');
const { EXIT, main } = await import('./program.js');

/**
 * The process: Ctrl-C stops every wait at once, prints what it left (the rollout continues on the cluster,
 * the migration Job keeps running…) and exits 130 within a second or two; a second Ctrl-C exits at once.
 */
async function run(): Promise<void> {
  const controller = new AbortController();
  const left = new LeftBehind();
  let ui: Ui | undefined;
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    ui?.stopProgress();
    const entries = left.describe();
    process.stderr.write(
      `\nInterrupted: stopped waiting. ${
        entries.length > 0
          ? `Left as it is:\n${entries.map((e) => `  - ${e}`).join('\n')}\n`
          : 'Nothing was left running.\n'
      }`,
    );
    ui?.mute();
    controller.abort();
    process.exitCode = EXIT.interrupted;
    setTimeout(() => process.exit(EXIT.interrupted), 1500).unref();
  });
  process.on('SIGTERM', () => {
    controller.abort();
    process.exitCode = EXIT.interrupted;
    setTimeout(() => process.exit(EXIT.interrupted), 1500).unref();
  });
  const code = await main({
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
    left,
    onUi: (created) => (ui = created),
  });
  process.exitCode = code;
  // Keep-alive sockets and SDK clients may hold the loop open for a while: the work is done.
  setTimeout(() => process.exit(code), 200).unref();
}

void run();
