export * from './eks-token.js';
export * from './eks-cluster.js';
export * from './credentials.js';
export * from './assume-role.js';
export * from './rds.js';
export * from './ecr.js';
export * from './eks-fargate.js';
