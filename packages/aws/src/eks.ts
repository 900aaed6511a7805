// The EKS part of the package (cluster lookup, token signing, credentials): what packages/kube needs. A
// subpath of its own (`@planner-deploy/aws/eks`) so a Kubernetes action's bundle holds no RDS or ECR code.
export * from './eks-token.js';
export * from './eks-cluster.js';
export * from './credentials.js';
export * from './assume-role.js';
export * from './eks-fargate.js';
