export * from './ecr-names.js';
export * from './ecr-tags.js';
export * from './ecr-client.js';
export * from './ecr-plan.js';
export * from './docker-cli.js';
export * from './docker-build.js';
export * from './docker-retry.js';
