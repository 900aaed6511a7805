import { parseArgs } from 'node:util';

export const COMMANDS = ['deploy', 'rollback', 'status', 'history', 'logs', 'migrate', 'scale'] as const;
export type Command = (typeof COMMANDS)[number];

/** Usage or bad input: exit 2, before any request. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
  }
}

interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder of the value in the help. */
  value?: string;
  description: string;
  /** Commands that take it; undefined = every command. */
  commands?: Command[];
}

/** Every option, in the order the help lists them. */
export const OPTIONS: OptionSpec[] = [
  {
    name: 'image-tag',
    type: 'string',
    value: 'TAG',
    description: 'image tag in ECR (default: <env>-latest, what build-push tags)',
    commands: ['deploy', 'migrate'],
  },
  {
    name: 'skip-migrations',
    type: 'boolean',
    description: 'do not run the migration Job',
    commands: ['deploy'],
  },
  {
    name: 'skip-backup',
    type: 'boolean',
    description: 'do not snapshot the RDS instance first',
    commands: ['deploy'],
  },
  {
    name: 'force',
    type: 'boolean',
    description: 'redeploy even when the image is unchanged (a restart)',
    commands: ['deploy'],
  },
  {
    name: 'no-rollback',
    type: 'boolean',
    description: 'leave a failed rollout as it is instead of rolling back',
    commands: ['deploy'],
  },
  {
    name: 'to-revision',
    type: 'string',
    value: 'N',
    description: 'the revision to go back to (default: the previous one)',
    commands: ['rollback'],
  },
  {
    name: 'follow',
    type: 'boolean',
    short: 'f',
    description: 'keep streaming new lines',
    commands: ['logs'],
  },
  {
    name: 'since',
    type: 'string',
    value: 'DURATION',
    description: 'only lines newer than this, e.g. 10m, 1h',
    commands: ['logs'],
  },
  {
    name: 'tail',
    type: 'string',
    value: 'N',
    description: 'only the last N lines of each pod',
    commands: ['logs'],
  },
  { name: 'region', type: 'string', value: 'REGION', description: 'AWS region (env AWS_REGION; us-east-1)' },
  {
    name: 'cluster-name',
    type: 'string',
    value: 'NAME',
    description: 'EKS cluster (env EKS_CLUSTER_NAME; planner-production-cluster)',
  },
  { name: 'namespace', type: 'string', value: 'NS', description: 'namespace (default planner-<env>)' },
  { name: 'deployment', type: 'string', value: 'NAME', description: 'Deployment (default planner-app)' },
  {
    name: 'repository',
    type: 'string',
    value: 'NAME',
    description: 'ECR repository (env ECR_REPOSITORY; planner-app)',
    commands: ['deploy', 'migrate'],
  },
  {
    name: 'kubeconfig',
    type: 'string',
    value: 'FILE',
    description: 'use this kubeconfig file instead of EKS (e.g. "$KUBECONFIG")',
  },
  {
    name: 'timeout',
    type: 'string',
    value: 'DURATION',
    description: 'how long to wait for each rollout/job (default 10m)',
  },
  {
    name: 'config',
    type: 'string',
    value: 'FILE',
    description: 'config file (default ./planner-deploy.config.yaml when present)',
  },
  {
    name: 'json',
    type: 'boolean',
    description: 'print one JSON document on stdout (and nothing else there)',
  },
  { name: 'verbose', type: 'boolean', short: 'v', description: 'show every request-level detail' },
  { name: 'help', type: 'boolean', short: 'h', description: 'this help' },
];

export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    the operation failed (rollout failed and was not rolled back, rollback failed,
       migration failed, pods unhealthy, AWS/Kubernetes error)
  2    usage or bad input (unknown flag or command, invalid value, unknown environment,
       image tag not in ECR); nothing was changed
  3    deploy: the rollout failed AND the automatic rollback brought the previous revision
       back successfully (the service runs the old version)
  130  interrupted (Ctrl-C); the message says what was left running`;

const COMMAND_HELP: Record<Command, { usage: string; summary: string; extra?: string }> = {
  deploy: {
    usage: 'deploy <env> [--image-tag TAG] [--skip-migrations] [--skip-backup] [--force] [--no-rollback]',
    summary:
      "Resolve <repository>:<tag> in ECR and pin it by digest, snapshot the env's RDS instance (when configured),\nrun the migration Job, set the image and wait for the rollout. A failed rollout is rolled back to the\nprevious revision automatically.",
    extra:
      'The default tag is <env>-latest (e.g. staging-latest): build-push tags every image with <env>-latest, so\nthis is "the newest build for this environment". The old script\'s "latest" is never pushed by the pipeline.',
  },
  rollback: {
    usage: 'rollback <env> [--to-revision N]',
    summary: 'kubectl rollout undo: back to the previous revision (or N), then wait for it.',
  },
  status: {
    usage: 'status <env>',
    summary:
      'Deployment, ReplicaSets, pods (state, restarts, reason), recent events, current image and revision.',
  },
  history: { usage: 'history <env>', summary: 'The revisions of the Deployment with their images.' },
  logs: {
    usage: 'logs <env> [pod] [--follow] [--since 10m] [--tail N]',
    summary: 'Logs of one pod, or of every pod of the Deployment with each line prefixed by the pod name.',
  },
  migrate: {
    usage: 'migrate <env> [--image-tag TAG]',
    summary:
      "Run the migration Job (default command: alembic upgrade head) with the given tag's image, or the\nDeployment's current image, and stream its logs.",
  },
  scale: { usage: 'scale <env> <replicas>', summary: 'Scale the Deployment, then wait until it is ready.' },
};

function optionLines(command: Command | undefined): string {
  const rows = OPTIONS.filter((o) => command === undefined || !o.commands || o.commands.includes(command))
    .filter((o) => command !== undefined || !o.commands)
    .map((o) => {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`;
      return `  ${flag.padEnd(30)} ${o.description}`;
    });
  return rows.join('\n');
}

export function programHelp(): string {
  const commands = COMMANDS.map((c) => `  ${COMMAND_HELP[c].usage}`).join('\n');
  return `planner-deploy: deploy the Planner app to EKS (no aws CLI, kubectl or jq needed)

Usage: planner-deploy <command> <env> [options]

Commands:
${commands}

Options of every command:
${optionLines(undefined)}
      --version                  print the version

Settings: flag > environment variable > config file > default.
Connection: --kubeconfig FILE (or the config's kubeconfig), otherwise the EKS cluster by name
(DescribeCluster + an STS token, with the usual AWS credentials).

${EXIT_CODES_HELP}

Run "planner-deploy <command> --help" for a command's options.
`;
}

export function commandHelp(command: Command): string {
  const help = COMMAND_HELP[command];
  return `Usage: planner-deploy ${help.usage} [options]

${help.summary}
${help.extra ? `\n${help.extra}\n` : ''}
Options:
${optionLines(command)}

Settings: flag > environment variable > config file > default.

${EXIT_CODES_HELP}
`;
}

export interface ParsedArgs {
  command?: Command;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  help: boolean;
  version: boolean;
}

/** Parses argv (without node and the script). Throws UsageError naming the flag. */
export function parseCommandLine(argv: string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    version: { type: 'boolean' },
  };
  for (const o of OPTIONS) options[o.name] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
  const first = argv.find((a) => !a.startsWith('-'));
  const guessed = COMMANDS.find((c) => c === first);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(explainParseError(error), guessed);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const [name, ...positionals] = parsed.positionals;
  const help = values.help === true;
  const version = values.version === true;
  if (name === undefined) {
    if (help || version) return { positionals: [], values, help, version };
    throw new UsageError('missing command: one of deploy, rollback, status, history, logs, migrate, scale.');
  }
  const command = COMMANDS.find((c) => c === name);
  if (!command) {
    throw new UsageError(`unknown command "${name}": expected one of ${COMMANDS.join(', ')}.`);
  }
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || key === 'version') continue;
    const spec = OPTIONS.find((o) => o.name === key);
    if (spec?.commands && !spec.commands.includes(command)) {
      throw new UsageError(
        `--${key} is not an option of "${command}" (it belongs to ${spec.commands.join(', ')}).`,
        command,
      );
    }
  }
  return { command, positionals, values, help, version };
}

function explainParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const flag = /'(-[^']*)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) return `unknown option ${flag}.`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    const name = flag.split(/[ ,]/)[0] ?? flag;
    if (message.includes('ambiguous'))
      return `option ${name} needs a value (write ${name}=VALUE for a value that starts with "-").`;
    return message.includes('does not take')
      ? `option ${name} takes no value.`
      : `option ${name} needs a value.`;
  }
  return message.split('\n')[0] ?? message;
}
