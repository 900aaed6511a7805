export * from './expressions.js';
export * from './load.js';
export * from './stand-ins.js';
export * from './shell.js';
export * from './job.js';
export * from './inputs.js';
export * from './run-workflow.js';
export * from './report.js';
export type * from './types.js';
