export * from './eks.js';
export * from './rds.js';
export * from './ecr.js';
