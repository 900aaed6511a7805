/**
 * `planner-deploy deploy` and `migrate` against the sandbox: the whole happy path (ECR digest, RDS snapshot,
 * migration Job, rollout, app health), a broken image (fails fast with the reason, rolled back, exit 3), a
 * failing migration (exit 1, deployment untouched), and the guide's `scripts/deploy-eks.sh` command.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import {
  childEnv,
  currentImage,
  ROOT,
  run,
  startHarness,
  waitReady,
  writeConfig,
  type Harness,
} from './helpers.js';

let h: Harness;

interface JobObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { template: { spec: { containers: { image: string; command?: string[]; env?: unknown[] }[] } } };
  status?: { conditions?: { type: string; status: string }[] };
}

function jobs(namespace: string): JobObject[] {
  return h.cloud.kube.store.list('jobs', namespace) as unknown as JobObject[];
}

const complete = (job: JobObject): boolean =>
  (job.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True');

beforeAll(async () => {
  h = await startHarness({
    environments: ['staging', 'production', 'broken', 'migfail'],
    moreTags: ['staging-latest', 'v1.2.3', 'bad', 'v2.0.0'],
  });
  await writeConfig(
    h.cwd,
    [
      'environments:',
      '  staging:',
      '    dbInstance: planner-staging-db',
      '    url: https://staging.planner.example.com',
      '  production: {}',
      '  broken: {}',
      '  migfail:',
      '    migrationCommand: alembic upgrade head',
      '',
    ].join('\n'),
  );
  await Promise.all(
    ['staging', 'production', 'broken', 'migfail'].map((env) => waitReady(h.cloud, `planner-${env}`)),
  );
});
afterAll(async () => {
  await h.stop();
});

describe('deploy', () => {
  it.concurrent(
    'resolves <env>-latest in ECR, pins it by digest, snapshots RDS, migrates, rolls out; then deploy-eks.sh deploy staging --image-tag v1.2.3',
    async () => {
      const r = await h.cli(['deploy', 'staging', '--json']);
      expect(r.stderr).not.toContain('error:');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      const image = currentImage(h.cloud, 'planner-staging');
      expect(image).toMatch(new RegExp(`^${h.seed.image('staging-latest')}@sha256:[0-9a-f]{64}$`));
      expect(doc).toMatchObject({
        command: 'deploy',
        environment: 'staging',
        tag: 'staging-latest',
        image,
        outcome: 'deployed',
        previousRevision: 1,
        revision: 2,
        snapshot: { status: 'available', origin: 'created' },
        migration: { status: 'succeeded', exitCode: 0, command: ['alembic', 'upgrade', 'head'] },
        rollout: { outcome: 'succeeded' },
        exitCode: 0,
      });
      // The snapshot exists in RDS, of the configured instance.
      const snapshot = h.cloud.aws.rds.snapshots.find((s) => s.id === doc.snapshot.id);
      expect(snapshot).toMatchObject({ sourceId: 'planner-staging-db', type: 'manual' });
      // The migration Job ran the new image with the app's environment, and completed.
      const job = jobs('planner-staging').find((j) => j.metadata.name === doc.migration.job)!;
      expect(job.spec.template.spec.containers[0]).toMatchObject({
        image,
        command: ['alembic', 'upgrade', 'head'],
        env: [{ name: 'ENVIRONMENT', value: 'staging' }],
      });
      expect(complete(job)).toBe(true);
      // The app answers with the new version.
      const health = await fetch(h.seed.appUrl('staging'));
      expect(health.status).toBe(200);

      // Deploying the same image again changes nothing; --force restarts it (a new revision, same image).
      const again = await h.cli(['deploy', 'staging', '--skip-backup', '--skip-migrations']);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('nothing to deploy');
      const forced = await h.cli([
        'deploy',
        'staging',
        '--skip-backup',
        '--skip-migrations',
        '--force',
        '--json',
      ]);
      expect(forced.code).toBe(0);
      expect(JSON.parse(forced.stdout)).toMatchObject({
        outcome: 'deployed',
        previousRevision: 2,
        revision: 3,
      });
      expect(currentImage(h.cloud, 'planner-staging')).toBe(image);

      // The guide's documented command, through the wrapper: v1.2.3 to staging, with its snapshot and migration.
      const jobsBefore = jobs('planner-staging').length;
      const snapshotsBefore = h.cloud.aws.rds.snapshots.length;
      const guide = await run(
        join(ROOT, 'scripts/deploy-eks.sh'),
        ['deploy', 'staging', '--image-tag', 'v1.2.3'],
        { env: childEnv(h.cloud.env()), cwd: h.cwd },
      );
      expect({ code: guide.code, stderr: guide.stderr }).toMatchObject({ code: 0 });
      expect(currentImage(h.cloud, 'planner-staging')).toMatch(
        new RegExp(`^${h.seed.image('v1.2.3')}@sha256:[0-9a-f]{64}$`),
      );
      const migrated = jobs('planner-staging').slice(jobsBefore);
      expect(migrated).toHaveLength(1);
      expect(complete(migrated[0]!)).toBe(true);
      expect(h.cloud.aws.rds.snapshots.length).toBe(snapshotsBefore + 1);
      expect(guide.stdout).toContain('rolled out');
    },
  );

  it.concurrent(
    'a broken image fails fast with the reason, is rolled back automatically, and exits 3',
    async () => {
      h.cloud.kube.images.set(h.seed.image('bad'), {
        kind: 'missing',
        message: 'manifest unknown: planner-app:bad',
      });
      const r = await h.cli(['deploy', 'broken', '--image-tag', 'bad', '--skip-migrations', '--json']);
      expect(r.code).toBe(3);
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({
        outcome: 'rolled-back',
        previousRevision: 1,
        rollout: {
          outcome: 'failed',
          diagnosis: { reason: expect.stringMatching(/ErrImagePull|ImagePullBackOff/) },
        },
        rollback: { outcome: 'succeeded', toRevision: 1 },
        exitCode: 3,
      });
      expect(r.stderr).toMatch(/ErrImagePull|ImagePullBackOff/);
      expect(r.stderr).toContain('manifest unknown');
      expect(r.stderr).toContain('Rolled back');
      expect(currentImage(h.cloud, 'planner-broken')).toBe(h.seed.image('v1.0.0'));

      // --no-rollback leaves it broken and exits 1.
      const left = await h.cli([
        'deploy',
        'broken',
        '--image-tag',
        'bad',
        '--skip-migrations',
        '--no-rollback',
      ]);
      expect(left.code).toBe(1);
      expect(left.stderr).toContain('--no-rollback');
      expect(currentImage(h.cloud, 'planner-broken')).toContain(':bad@sha256:');

      // status shows the broken pod with its reason, and exits 1.
      const status = await h.cli(['status', 'broken', '--json']);
      expect(status.code).toBe(1);
      const doc2 = JSON.parse(status.stdout);
      expect(doc2).toMatchObject({ healthy: false, exitCode: 1 });
      expect(doc2.pods).toContainEqual(
        expect.objectContaining({
          ready: '0/1',
          reason: expect.stringMatching(/ErrImagePull|ImagePullBackOff/),
        }),
      );
    },
  );

  it.concurrent(
    'a failing migration stops the deploy before the image changes, with its log and exit code',
    async () => {
      h.cloud.kube.images.setCommand(
        'alembic upgrade head',
        {
          kind: 'exit',
          exitCode: 1,
          lines: ['INFO  [alembic] Running upgrade 1a2b -> 3c4d', 'ERROR relation "plans" already exists'],
          after: 2000,
        },
        `${h.seed.image('v2.0.0')}*`,
      );
      const from = h.cloud.kube.requests.length;
      const r = await h.cli(['deploy', 'migfail', '--image-tag', 'v2.0.0']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('ERROR relation "plans" already exists');
      expect(r.stderr).toMatch(/migration job planner-app-migrate-\S+ failed, exit code 1/);
      expect(r.stderr).toContain('The deployment was not changed');
      expect(currentImage(h.cloud, 'planner-migfail')).toBe(h.seed.image('v1.0.0'));
      expect(h.mutations(from, 'planner-migfail').filter((m) => m.includes('deployments'))).toEqual([]);

      const migrate = await h.cli(['migrate', 'migfail', '--image-tag', 'v2.0.0', '--json']);
      expect(migrate.code).toBe(1);
      expect(JSON.parse(migrate.stdout)).toMatchObject({
        command: 'migrate',
        status: 'failed',
        exitCode: 1,
        logTail: expect.arrayContaining(['ERROR relation "plans" already exists']),
      });
    },
  );
});

describe('scripts/deploy-eks.sh', () => {
  it.concurrent(
    'deploy production --image-tag v1.2.3: sets the image, runs the migration, completes the rollout',
    async () => {
      const before = jobs('planner-production').length;
      const r = await run(
        join(ROOT, 'scripts/deploy-eks.sh'),
        ['deploy', 'production', '--image-tag', 'v1.2.3'],
        {
          env: childEnv(h.cloud.env()),
          cwd: h.cwd,
        },
      );
      expect(r.code).toBe(0);
      expect(currentImage(h.cloud, 'planner-production')).toMatch(
        new RegExp(`^${h.seed.image('v1.2.3')}@sha256:[0-9a-f]{64}$`),
      );
      const ran = jobs('planner-production').slice(before);
      expect(ran).toHaveLength(1);
      expect(complete(ran[0]!)).toBe(true);
      expect(ran[0]!.spec.template.spec.containers[0]!.command).toEqual(['alembic', 'upgrade', 'head']);
      const deployment = h.cloud.kube.store.get('deployments', 'planner-production', 'planner-app') as {
        spec: { replicas: number };
        status: { updatedReplicas: number; availableReplicas: number; replicas: number };
      };
      expect(deployment.status).toMatchObject({ updatedReplicas: 2, availableReplicas: 2, replicas: 2 });
      expect(r.stdout).toContain('rolled out');
    },
  );
});
