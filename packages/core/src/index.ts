export * from './errors.js';
export * from './duration.js';
export * from './input-errors.js';
export * from './logger.js';
export * from './sleep.js';
export * from './untrusted-text.js';
export * from './url-credentials.js';
export * from './image-reference.js';
