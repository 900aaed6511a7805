// GitHub's entry shape: main.ts exports run() and does nothing when imported (so @github/local-action and
// tests can import it); this file, what ncc bundles into dist/index.js, runs it and then ends the process
// as soon as the log is flushed.
import { exitPromptly } from '@planner-deploy/action-kit';
import { run } from './main.js';

await run();
await exitPromptly();
