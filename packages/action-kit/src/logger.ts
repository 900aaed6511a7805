import * as core from './toolkit.js';
import type { Logger } from '@planner-deploy/core';

/** The runner's log: workflow commands for annotations and groups. */
export const coreLogger: Logger = {
  info: (message) => core.info(message),
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
};
