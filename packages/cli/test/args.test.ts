/**
 * Argument and settings validation, in-process and table-driven: every bad value is refused with a message
 * naming the flag (or config key), the value and what is allowed; the precedence of each setting.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine, UsageError } from '../src/args.js';
import { loadConfig, resolveSettings, type ConfigFile } from '../src/settings.js';
import { logsRequest } from '../src/commands/logs.js';
import { replicasArgument } from '../src/commands/scale.js';
import { colourEnabled } from '../src/ui.js';

function settingsOf(argv: string[], processEnv: Record<string, string> = {}, config?: ConfigFile) {
  const parsed = parseCommandLine(argv);
  return resolveSettings({
    command: parsed.command!,
    env: parsed.positionals[0]!,
    flags: parsed.values,
    processEnv,
    config,
    cwd: '/',
  });
}

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('no UsageError');
}

describe('command line', () => {
  const rows: [string[], RegExp][] = [
    [['deploy'], /./],
    [['frobnicate', 'staging'], /unknown command "frobnicate": expected one of deploy, rollback/],
    [['deploy', 'staging', '--bogus'], /unknown option --bogus/],
    [['deploy', 'staging', '--image-tag'], /option --image-tag needs a value/],
    [['deploy', 'staging', '--force=yes'], /option --force takes no value/],
    [['logs', 'staging', '--tail', '-3'], /option --tail needs a value \(write --tail=VALUE/],
    [
      ['status', 'staging', '--image-tag', 'v1'],
      /--image-tag is not an option of "status" \(it belongs to deploy, migrate\)/,
    ],
    [['rollback', 'staging', '--force'], /--force is not an option of "rollback"/],
    [[], /missing command/],
  ];
  it.each(rows)('%j is refused: %s', (argv, says) => {
    if (argv.length === 1) {
      // A command without <env> parses; the program refuses it before connecting (see commands.test.ts).
      expect(parseCommandLine(argv).positionals).toEqual([]);
      return;
    }
    expect(usageMessage(() => parseCommandLine(argv))).toMatch(says);
  });

  it('takes global flags before the command, short flags and --flag=value', () => {
    const parsed = parseCommandLine(['--json', 'logs', 'staging', 'pod-1', '-f', '--tail=20']);
    expect(parsed).toMatchObject({ command: 'logs', positionals: ['staging', 'pod-1'] });
    expect(parsed.values).toMatchObject({ json: true, follow: true, tail: '20' });
  });
});

describe('values', () => {
  const rows: [string[], RegExp][] = [
    [['deploy', 'Staging'], /environment "Staging" is not valid: expected a DNS label/],
    [['deploy', 'a'.repeat(55)], /is not valid: expected a DNS label/],
    [['deploy', 'staging', '--image-tag', '.hidden'], /--image-tag "\.hidden": a tag has letters/],
    [
      ['status', 'staging', '--timeout', '5'],
      /--timeout "5" is not a duration: use e\.g\. 90s, 10m or 1h30m/,
    ],
    [['status', 'staging', '--timeout', '0'], /--timeout "0" is not a duration/],
    [['status', 'staging', '--region', 'moon-1'], /--region "moon-1" is not an AWS region/],
    [['status', 'staging', '--cluster-name=-x'], /--cluster-name "-x" is not an EKS cluster name/],
    [
      ['status', 'staging', '--namespace', 'Not_A_Namespace'],
      /--namespace "Not_A_Namespace" is not a namespace name/,
    ],
    [['status', 'staging', '--deployment', 'UPPER'], /--deployment "UPPER" is not a Deployment name/],
    [
      ['deploy', 'staging', '--repository', 'Planner'],
      /--repository "Planner": ECR repository names are lower case/,
    ],
    [
      ['status', 'staging', '--kubeconfig', '/nonexistent/kubeconfig'],
      /--kubeconfig "\/nonexistent\/kubeconfig": no such file/,
    ],
  ];
  it.each(rows)('%j is refused: %s', (argv, says) => {
    expect(usageMessage(() => settingsOf(argv))).toMatch(says);
  });

  it('names the environment variable when the bad value came from one', () => {
    expect(usageMessage(() => settingsOf(['status', 'staging'], { AWS_REGION: 'nowhere' }))).toMatch(
      /^AWS_REGION "nowhere" is not an AWS region/,
    );
  });

  const positionals: [() => unknown, RegExp][] = [
    [() => replicasArgument(['staging']), /scale needs the number of replicas/],
    [
      () => replicasArgument(['staging', '1001']),
      /replicas "1001" is not valid: expected a whole number from 0 to 1000/,
    ],
    [() => replicasArgument(['staging', '2.5']), /replicas "2\.5"/],
    [() => replicasArgument(['staging', '2', '3']), /unexpected argument "3"/],
    [
      () => logsRequest({ positionals: ['staging', 'Pod_1'], flags: {}, ui: { json: false } as never }),
      /pod "Pod_1" is not a pod name/,
    ],
    [
      () => logsRequest({ positionals: ['staging'], flags: { since: 'ten' }, ui: { json: false } as never }),
      /--since "ten" is not a duration/,
    ],
    [
      () => logsRequest({ positionals: ['staging'], flags: { tail: 'x' }, ui: { json: false } as never }),
      /--tail "x" is not valid/,
    ],
    [
      () => logsRequest({ positionals: ['staging'], flags: { follow: true }, ui: { json: true } as never }),
      /--json cannot be combined with --follow/,
    ],
  ];
  it.each(positionals)('positional arguments: %#', (fn, says) => {
    expect(usageMessage(fn)).toMatch(says);
  });
});

describe('precedence', () => {
  it('flag > environment variable > config file > default, per setting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'planner-deploy-args-'));
    await writeFile(
      join(dir, 'planner-deploy.config.yaml'),
      [
        'defaults:',
        '  region: eu-west-1',
        '  cluster: config-cluster',
        '  repository: config-repo',
        'environments:',
        '  staging:',
        '    namespace: web-staging',
        '    dbInstance: planner-staging-db',
        '    migrationCommand: python manage.py migrate',
        '    timeout: 2m',
        '    url: https://staging.example.com',
        '  production: {}',
      ].join('\n'),
    );
    const config = loadConfig(undefined, dir);
    const fromConfig = settingsOf(['deploy', 'staging'], {}, config);
    expect(fromConfig).toMatchObject({
      region: 'eu-west-1',
      cluster: 'config-cluster',
      repository: 'config-repo',
      namespace: 'web-staging',
      deployment: 'planner-app',
      dbInstance: 'planner-staging-db',
      migrationCommand: ['python', 'manage.py', 'migrate'],
      timeoutMs: 120_000,
      url: 'https://staging.example.com',
      sources: { region: 'config', cluster: 'config', namespace: 'config', deployment: 'default' },
    });
    const env = { AWS_REGION: 'us-west-2', EKS_CLUSTER_NAME: 'env-cluster', ECR_REPOSITORY: 'env-repo' };
    expect(settingsOf(['deploy', 'staging'], env, config)).toMatchObject({
      region: 'us-west-2',
      cluster: 'env-cluster',
      repository: 'env-repo',
      sources: { region: 'env', cluster: 'env', repository: 'env' },
    });
    expect(
      settingsOf(
        [
          'deploy',
          'staging',
          '--region',
          'ap-south-1',
          '--cluster-name',
          'flag-cluster',
          '--namespace',
          'ns-flag',
        ],
        env,
        config,
      ),
    ).toMatchObject({
      region: 'ap-south-1',
      cluster: 'flag-cluster',
      namespace: 'ns-flag',
      repository: 'env-repo',
    });
    expect(settingsOf(['status', 'production'], {}, undefined)).toMatchObject({
      region: 'us-east-1',
      cluster: 'planner-production-cluster',
      repository: 'planner-app',
      namespace: 'planner-production',
      deployment: 'planner-app',
      migrationCommand: ['alembic', 'upgrade', 'head'],
      timeoutMs: 600_000,
      sources: { region: 'default', cluster: 'default', namespace: 'default' },
    });
    expect(usageMessage(() => settingsOf(['status', 'qa'], {}, config))).toMatch(
      /environment "qa" is not in .*planner-deploy\.config\.yaml; it has: staging, production/,
    );
  });

  it('refuses a config file with an unknown key or a bad value, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'planner-deploy-args-'));
    const rows: [string, RegExp][] = [
      [
        'environments:\n  staging:\n    namespce: x\n',
        /unknown key "environments\.staging\.namespce"; allowed: namespace/,
      ],
      ['enviroments: {}\n', /unknown key "enviroments"; allowed: defaults, environments/],
      [
        'environments:\n  staging:\n    migrationCommand: [1]\n',
        /migrationCommand must be a string or a list of strings/,
      ],
      ['environments: [staging]\n', /"environments" must be a mapping/],
      ['environments:\n  Bad_Env: {}\n', /environment "Bad_Env" is not a valid name/],
      ['environments: {staging: {\n', /is not valid YAML/],
    ];
    for (const [i, [text, says]] of rows.entries()) {
      await writeFile(join(dir, `c${i}.yaml`), text);
      expect(usageMessage(() => loadConfig(`c${i}.yaml`, dir))).toMatch(says);
    }
  });
});

describe('colours', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ FORCE_COLOR: '1', NO_COLOR: '1' }, false, true],
    [{ TERM: 'dumb' }, true, false],
  ])('env %j on a terminal=%s → colours %s', (env, tty, expected) => {
    expect(colourEnabled(env, tty)).toBe(expected);
  });
});
