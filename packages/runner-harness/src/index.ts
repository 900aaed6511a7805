export * from './file-commands.js';
export * from './workflow-commands.js';
export * from './run-step.js';
export * from './test-servers.js';
export * from './secret-scan.js';
export * from './local-action.js';
