/**
 * @planner-deploy/kube: what the rollout, auto-rollback and run-migration-job actions and the CLI do on a
 * cluster, with no kubectl and no aws CLI.
 *
 * - `connect()`: kubeconfig input (base64 or YAML), EKS (cluster name + region), or KUBECONFIG; masks every
 *   credential; raw requests, watches and log streams over node:https.
 * - `setImages()`, `restartDeployment()`, `scaleDeployment()`, `managementWarning()`: kubectl set image /
 *   rollout restart / scale, and a warning when Helm or Argo CD owns the Deployment.
 * - `waitForRollouts()`: `kubectl rollout status` for many deployments on one watch, failing fast on broken
 *   pods with `diagnosePod()`'s reason, the pod's events and its last log lines.
 * - `getRolloutHistory()`, `planUndo()`, `undoRollout()`: kubectl rollout history / undo semantics.
 * - `buildMigrationJob()`, `createJob()`, `waitForJob()`, `deleteJob()`: a migration Job from a Deployment's
 *   pod template, followed to Complete or Failed with its logs and exit code.
 *
 * Functions take options objects and a Logger; nothing here reads action inputs (packages/kube-inputs does,
 * on the actions' side) or imports action-kit.
 */
export * from './api-error.js';
export * from './connection-inputs.js';
export * from './connection.js';
export * from './deployments.js';
export * from './fargate-profiles.js';
export * from './history.js';
export * from './job-spec.js';
export * from './jobs.js';
export * from './kubeconfig-text.js';
export * from './list-watch.js';
export * from './pod-diagnosis.js';
export * from './pod-logs.js';
export * from './replica-sets.js';
export * from './retry.js';
export * from './rollout-status.js';
export * from './rollout-watcher.js';
export * from './transport.js';
export * from './types.js';
