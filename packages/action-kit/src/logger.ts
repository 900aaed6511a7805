import { EOL } from 'node:os';
import * as core from './toolkit.js';
import { defuseLine, type Logger } from '@planner-deploy/core';
import { printUntrusted } from './untrusted.js';

/** The runner's log: workflow commands for annotations and groups. */
export const coreLogger: Logger = {
  // Our own lines: any command a quoted value might still carry is broken (defence in depth; quoted
  // values are already neutralised by quoteUntrusted).
  info: (message) =>
    core.info(
      message
        .split(/\r\n|\r|\n/)
        .map(defuseLine)
        .join(EOL),
    ),
  warning: (message, properties) => core.annotate('warning', message, properties),
  error: (message, properties) => core.annotate('error', message, properties),
  debug: (message) => core.debug(message),
  group: async (name, fn) => {
    core.startGroup(name);
    try {
      return await fn();
    } finally {
      core.endGroup();
    }
  },
  untrusted: (line) => printUntrusted(line),
};
