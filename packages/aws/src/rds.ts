export * from './rds-identifiers.js';
export * from './rds-tags.js';
export * from './rds-client.js';
export * from './rds-snapshots.js';
export * from './rds-wait.js';
export * from './rds-retention.js';
export * from './rds-backup.js';
export * from './rds-restore.js';
