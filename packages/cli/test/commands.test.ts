/**
 * planner-deploy's read and day-2 commands against the sandbox (EKS by cluster name, or --kubeconfig):
 * help and version, bad input (exit 2 with nothing changed), status/history/logs/scale/rollback with their
 * --json documents, and the settings' precedence (flag > environment variable > config file > default).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentImage, startHarness, waitReady, writeConfig, type Harness } from './helpers.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ environments: ['staging', 'production', 'qa'], moreTags: ['v1.1.0'] });
  h.cloud.kube.images.set(`${h.cloud.aws.ecr.registryHost}/planner-app`, {
    kind: 'ready',
    after: 2000,
    lines: ['planner listening on :8000', 'GET /health 200'],
  });
  await Promise.all(
    ['planner-staging', 'planner-production', 'planner-qa'].map((ns) => waitReady(h.cloud, ns)),
  );
});
afterAll(async () => {
  await h.stop();
});

describe('help and version', () => {
  it.concurrent('documents every command, the precedence and the exit codes; exits 0', async () => {
    const [program, deploy, logs, version] = await Promise.all([
      h.cli(['--help']),
      h.cli(['deploy', '--help']),
      h.cli(['logs', '-h']),
      h.cli(['--version']),
    ]);
    for (const r of [program, deploy, logs, version]) expect(r.code).toBe(0);
    for (const command of ['deploy', 'rollback', 'status', 'history', 'logs', 'migrate', 'scale']) {
      expect(program.stdout).toContain(`  ${command} <env>`);
    }
    expect(program.stdout).toContain('flag > environment variable > config file > default');
    expect(program.stdout).toMatch(/\n\s+3\s+deploy: the rollout failed AND the automatic rollback/);
    expect(program.stdout).toMatch(/\n\s+130\s+interrupted/);
    for (const flag of ['--image-tag', '--skip-migrations', '--skip-backup', '--force', '--no-rollback']) {
      expect(deploy.stdout).toContain(flag);
    }
    expect(deploy.stdout).toContain('<env>-latest');
    expect(logs.stdout).toContain('--follow');
    expect(logs.stdout).not.toContain('--image-tag');
    expect(version.stdout).toMatch(/^planner-deploy \d+\.\d+\.\d+\n$/);
  });
});

describe('bad input', () => {
  // Every validation message is checked in-process by args.test.ts; these run the whole process: exit code,
  // stderr, and no change on the cluster. The last two are found by a request (ECR, the API server).
  const cases: { args: string[]; says: RegExp; remote?: boolean }[] = [
    { args: ['deploy', 'Staging!'], says: /environment "Staging!" is not valid.*DNS label/ },
    { args: ['deploy', 'staging', '--bogus'], says: /unknown option --bogus/ },
    { args: ['deploy', 'staging', '--image-tag', 'bad tag'], says: /--image-tag "bad tag": a tag has/ },
    {
      args: ['scale', 'staging', 'many'],
      says: /replicas "many" is not valid: expected a whole number from 0 to 1000/,
    },
    {
      args: ['status', 'staging', '--kubeconfig', '/nonexistent/kubeconfig'],
      says: /--kubeconfig "\/nonexistent\/kubeconfig": no such file/,
    },
    {
      args: ['deploy', 'staging', '--image-tag', 'v9.9.9'],
      says: /image tag "v9.9.9" is not in ECR repository .*planner-app: nothing was changed/,
      remote: true,
    },
    {
      args: ['status', 'staging', '--deployment', 'nope'],
      says: /deployment\/nope in namespace planner-staging was not found/,
      remote: true,
    },
  ];

  it.concurrent('exits 2 naming the flag, the value and what is allowed, and changes nothing', async () => {
    const from = h.cloud.kube.requests.length;
    const runs = await Promise.all(cases.map((c) => h.cli(c.args)));
    runs.forEach((r, i) => {
      const c = cases[i]!;
      expect({ args: c.args, code: r.code }).toEqual({ args: c.args, code: 2 });
      expect(r.stderr).toMatch(c.says);
      expect(r.stderr).toContain('--help');
      if (!c.remote) expect(r.stdout).toBe('');
    });
    expect(h.mutations(from, 'planner-staging')).toEqual([]);
  });

  it.concurrent(
    'a token the cluster refuses (401) exits 2 naming the kubeconfig user and what to check',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cli-401-'));
      const path = join(dir, 'kubeconfig');
      const text = await readFile(h.cloud.kube.kubeconfigPath, 'utf8');
      await writeFile(path, text.replace(/token: .*/, 'token: "refused-token-0123456789"'));
      const r = await h.cli(['status', 'staging', '--kubeconfig', path]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('refused the credentials of user "sandbox"');
      expect(r.stderr).toContain('401 Unauthorized');
      expect(r.stderr).not.toMatch(/internal error/i);
    },
  );

  it.concurrent('with --json, prints the error as the one JSON document on stdout', async () => {
    const r = await h.cli(['status', 'BAD', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      command: 'status',
      exitCode: 2,
      error: expect.stringContaining('"BAD"'),
    });
  });
});

describe('status, history, logs, scale and rollback', () => {
  it.concurrent(
    'status through EKS (cluster name → DescribeCluster + STS token): deployment, ReplicaSets, pods, events',
    async () => {
      const awsFrom = h.cloud.aws.requests.length;
      const [json, human] = await Promise.all([
        h.cli(['status', 'production', '--json']),
        h.cli(['status', 'production']),
      ]);
      expect(json.code).toBe(0);
      const doc = JSON.parse(json.stdout);
      expect(doc).toMatchObject({
        command: 'status',
        environment: 'production',
        namespace: 'planner-production',
        deployment: 'planner-app',
        healthy: true,
        revision: 1,
        images: [`planner-app=${h.seed.image('v1.0.0')}`],
        replicas: { desired: 2, updated: 2, ready: 2, available: 2 },
        exitCode: 0,
      });
      expect(doc.pods).toHaveLength(2);
      for (const pod of doc.pods) expect(pod).toMatchObject({ ready: '1/1', state: 'Running', restarts: 0 });
      expect(doc.replicaSets).toEqual([expect.objectContaining({ current: true, replicas: 2, ready: 2 })]);
      expect(doc.events.length).toBeGreaterThan(0);
      expect(h.cloud.aws.requests.slice(awsFrom).some((r) => r.service === 'eks' && r.status === 200)).toBe(
        true,
      );

      expect(human.code).toBe(0);
      expect(human.stdout).toContain('ReplicaSets');
      expect(human.stdout).toContain('Recent events');
      for (const pod of doc.pods) expect(human.stdout).toContain(pod.name);
      expect(human.stdout).toContain(h.seed.image('v1.0.0'));
    },
  );

  it.concurrent(
    'logs: every pod of the deployment, lines prefixed with the pod name; one pod without prefix',
    async () => {
      const pods = h.cloud.kube.store
        .list('pods', 'planner-staging')
        .map((p) => ({ name: p.metadata.name }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const [all, one] = await Promise.all([
        h.cli(['logs', 'staging', '--tail', '5']),
        h.cli(['logs', 'staging', pods[0]!.name, '--kubeconfig', h.cloud.kube.kubeconfigPath]),
      ]);
      expect(all.code).toBe(0);
      for (const pod of pods)
        expect(all.stdout).toMatch(new RegExp(`^${pod.name} \\| planner listening on :8000$`, 'm'));
      expect(one.code).toBe(0);
      expect(one.stdout).toMatch(/^planner listening on :8000$/m);
      expect(one.stdout).not.toContain(' | ');

      // --follow streams until interrupted; SIGINT ends it with 130, and nothing was left running.
      let interrupted = false;
      const followed = await h.cli(['logs', 'staging', '--follow', '--tail', '1'], {
        onOutput: (output, child) => {
          if (!interrupted && pods.every((p) => output.includes(`${p.name} |`))) {
            interrupted = true;
            child.kill('SIGINT');
          }
        },
      });
      expect(followed.code).toBe(130);
      expect(followed.stderr).toContain('Interrupted: stopped waiting. Nothing was left running.');
    },
  );

  // Not concurrent: the others already share the machine, and this one adds two CLI processes.
  it('logs: a workload’s terminal sequences never reach the terminal; --json keeps the text as it was', async () => {
    const pod = h.cloud.kube.store.list('pods', 'planner-production')[0]!;
    const name = pod.metadata.name;
    const container = pod.spec.containers[0].name;
    const hostile = '\u001b[2J\u001b]0;pwned title\u0007\u001b[31mred\u001b[0m text\rover';
    h.cloud.kube.logs.append('planner-production', name, container, hostile);
    const [human, json] = await Promise.all([
      h.cli(['logs', 'production', name, '--kubeconfig', h.cloud.kube.kubeconfigPath]),
      h.cli(['logs', 'production', name, '--kubeconfig', h.cloud.kube.kubeconfigPath, '--json']),
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^red textover$/m);
    // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
    expect(human.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    const doc = JSON.parse(json.stdout);
    expect(doc.pods[0].lines).toContain(hostile);
  });

  it.concurrent(
    'scale, deploy, history and rollback: each waits for the rollout and reports it',
    async () => {
      const scaled = await h.cli(['scale', 'qa', '3', '--json']);
      expect(scaled.code).toBe(0);
      expect(JSON.parse(scaled.stdout)).toMatchObject({
        previousReplicas: 2,
        replicas: 3,
        outcome: 'succeeded',
      });
      const qa = h.cloud.kube.store.get('deployments', 'planner-qa', 'planner-app') as {
        status: { availableReplicas: number };
      };
      expect(qa.status.availableReplicas).toBe(3);

      const deployed = await h.cli(['deploy', 'qa', '--image-tag', 'v1.1.0', '--skip-migrations', '--json']);
      expect(deployed.code).toBe(0);
      expect(currentImage(h.cloud, 'planner-qa')).toMatch(
        new RegExp(`^${h.seed.image('v1.1.0')}@sha256:[0-9a-f]{64}$`),
      );

      const history = await h.cli(['history', 'qa', '--json']);
      expect(history.code).toBe(0);
      const revisions = JSON.parse(history.stdout).revisions as {
        revision: number;
        images: string[];
        current: boolean;
      }[];
      expect(revisions.map((r) => [r.revision, r.current])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(revisions[1]!.images[0]).toContain(':v1.1.0@sha256:');

      const back = await h.cli(['rollback', 'qa', '--json']);
      expect(back.code).toBe(0);
      expect(JSON.parse(back.stdout)).toMatchObject({
        outcome: 'rolled-back',
        fromRevision: 2,
        toRevision: 1,
      });
      expect(currentImage(h.cloud, 'planner-qa')).toBe(h.seed.image('v1.0.0'));

      const from = h.cloud.kube.requests.length;
      const missing = await h.cli(['rollback', 'qa', '--to-revision', '99']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('unable to find specified revision 99');
      expect(h.mutations(from, 'planner-qa')).toEqual([]);
    },
  );
});

describe('settings precedence: flag > environment variable > config file > default', () => {
  it.concurrent(
    'takes the namespace from the config and the cluster from the env over the config (flags: args.test.ts)',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'planner-deploy-config-'));
      await writeConfig(
        dir,
        [
          'defaults:',
          '  cluster: cluster-from-config',
          'environments:',
          '  prod:',
          '    namespace: planner-production',
          '    timeout: 2m',
          '  staging: {}',
          '',
        ].join('\n'),
      );
      const [configOnly, envWins, unknownEnv] = await Promise.all([
        // No EKS_CLUSTER_NAME: the config's cluster is used (and the sandbox's EKS knows no such cluster).
        h.cli(['status', 'prod'], { cwd: dir, env: { EKS_CLUSTER_NAME: undefined } }),
        // EKS_CLUSTER_NAME beats the config file.
        h.cli(['status', 'prod', '--json', '--verbose'], { cwd: dir }),
        h.cli(['status', 'qa'], { cwd: dir }),
      ]);
      expect(configOnly.code).toBe(2);
      expect(configOnly.stderr).toContain('EKS cluster "cluster-from-config"');
      expect(envWins.code).toBe(0);
      expect(JSON.parse(envWins.stdout)).toMatchObject({
        environment: 'prod',
        namespace: 'planner-production',
      });
      expect(envWins.stderr).toMatch(/cluster from env.*namespace from config.*deployment from default/);
      expect(unknownEnv.code).toBe(2);
      expect(unknownEnv.stderr).toContain('environment "qa" is not in');
      expect(unknownEnv.stderr).toContain('it has: prod, staging');
    },
  );

  it.concurrent('rejects an unknown key in the config file, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'planner-deploy-config-'));
    const path = await writeConfig(
      dir,
      'environments:\n  staging:\n    namespce: planner-staging\n',
      'custom.yaml',
    );
    const r = await h.cli(['status', 'staging', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown key "environments.staging.namespce"');
  });
});
