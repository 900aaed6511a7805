import type { Annotation } from '../workflow-commands.js';
import type { Value } from './expressions.js';

export type Result = 'success' | 'failure' | 'cancelled' | 'skipped';

/** One step as the run reports it. */
export interface StepRecord {
  /** The job's display name (`caller / called` inside a reusable workflow). */
  job: string;
  id: string;
  name: string;
  /** `run`, our action (by name), a stand-in (by `uses:`), or `post <action>`. */
  kind: 'run' | 'action' | 'stand-in' | 'post';
  uses?: string;
  outcome: Result;
  conclusion: Result;
  /** Seconds since the run started, and how long the step took. */
  startedAt: number;
  seconds: number;
  outputs: Record<string, string>;
  summary: string;
  annotations: Annotation[];
  /** The visible log, masked. */
  lines: string[];
  /** Why the runner itself could not run the step (bad `uses:`, an expression error …). */
  error?: string;
}

export interface JobRecord {
  id: string;
  name: string;
  result: Result;
  outputs: Record<string, string>;
  steps: StepRecord[];
  startedAt: number;
  seconds: number;
  /** Why the job could not start (a missing input of a reusable workflow, a bad matrix …). */
  error?: string;
}

export interface RunRecord {
  workflow: string;
  event: string;
  ref: string;
  sha: string;
  conclusion: 'success' | 'failure';
  jobs: JobRecord[];
  seconds: number;
}

/** What the runner reports while it runs (the CLI prints these). */
export type RunEvent =
  | { type: 'job-start'; job: string; at: number }
  | { type: 'job-end'; job: JobRecord }
  | { type: 'step-start'; job: string; name: string; at: number }
  | { type: 'step-line'; job: string; name: string; line: string }
  | { type: 'step-end'; step: StepRecord };

export interface Environment {
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
}

export interface WorkflowRunOptions {
  /** The workflow file. */
  file: string;
  event?: string;
  /** `refs/heads/main`, `refs/tags/v1.2.0`, or short: `main`, `v1.2.0` (a v-tag is a tag, else a branch). */
  ref?: string;
  sha?: string;
  inputs?: Record<string, string>;
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  /** Secrets and variables of a deployment environment (a job's `environment:`), over the global ones. */
  environments?: Record<string, Environment>;
  /** `owner/name` of the app's repository (default example-org/planner-app). */
  repository?: string;
  actor?: string;
  /** The planner-deploy checkout: its actions/ (built dists) and .github/workflows/. */
  repoRoot: string;
  /** The app's tree that actions/checkout copies. */
  fixture: string;
  /** Runner-wide environment every step gets (GITHUB_API_URL of the sandbox …). */
  runnerEnv?: Record<string, string>;
  /** What configure-aws-credentials exports. */
  awsEnv: Record<string, string>;
  awsAccountId: string;
  prepareCommit?: (commit: { sha: string; ref: string }) => Promise<void>;
  /** Where artifacts and work folders go. */
  workDir: string;
  /** A hard limit per step (default 10 min). */
  stepLimitMs?: number;
  /** Extra context for the event payload (e.g. workflow_run's conclusion). */
  eventPayload?: Record<string, Value>;
  onEvent?: (event: RunEvent) => void;
  /**
   * Jobs of the top-level workflow not run but taken as concluded (`--assume-job ci=success`): for a gate
   * whose own tools this machine lacks. Said in the log and the report as a stand-in.
   */
  assumeJobs?: Record<string, 'success' | 'failure'>;
}
