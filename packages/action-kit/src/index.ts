// The actions' side: action-kit re-exports packages/core so an action imports one package.
export * from '@planner-deploy/core';
export * from './inputs.js';
export * from './logger.js';
export * from './mask.js';
export * from './summary.js';
export * from './state.js';
export * from './run-action.js';
export * as runner from './toolkit.js';
export * from './untrusted.js';
