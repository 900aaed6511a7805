/**
 * The oracle: kubectl 1.32 drives Deployments through the sandbox's API and controllers — rollout
 * status, set image, history, undo (plain, --to-revision, skipped, paused), scale, restart, pause/resume.
 * Each test checks kubectl's output and the objects a real cluster would hold afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSandbox, type KubeObject, type Sandbox } from '../src/index.js';
import { deploymentManifest, kubectl, manifestFile, waitFor } from './helpers/kube.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.01 });
});
afterAll(async () => {
  await sandbox?.stop();
});

const REVISION = 'deployment.kubernetes.io/revision';

function ownedReplicaSets(name: string): KubeObject[] {
  const d = sandbox.store.get('deployments', 'default', name)!;
  return sandbox.store
    .list('replicasets', 'default')
    .filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid && r.controller))
    .sort((a, b) => Number(a.metadata.annotations?.[REVISION]) - Number(b.metadata.annotations?.[REVISION]));
}

function image(name: string): string {
  return sandbox.store.get('deployments', 'default', name)!.spec.template.spec.containers[0].image as string;
}

async function rolloutStatus(name: string, extra: string[] = []) {
  return kubectl(sandbox, ['rollout', 'status', `deployment/${name}`, '--timeout=60s', ...extra], {
    timeoutMs: 90000,
  });
}

async function createDeployment(
  name: string,
  img: string,
  replicas = 2,
  patch: (m: Record<string, any>) => void = () => {},
) {
  const manifest = deploymentManifest(name, img, replicas);
  patch(manifest);
  const m = await manifestFile(manifest);
  try {
    const r = await kubectl(sandbox, ['create', '-f', m.path]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`deployment.apps/${name} created`);
  } finally {
    await m.cleanup();
  }
}

function historyRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => /^\d+\s/.test(l))
    .map((l) => l.trim().split(/\s{2,}/));
}

describe('kubectl rollout against the sandbox', () => {
  it('create -f, then rollout status reports success and get deploy shows the counts', async () => {
    await createDeployment('web', 'nginx:1.25', 2);
    const r = await rolloutStatus('web');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('deployment "web" successfully rolled out');

    const get = await kubectl(sandbox, ['get', 'deploy', 'web', '--no-headers']);
    expect(get.stdout.trim().split(/\s+/).slice(0, 4)).toEqual(['web', '2/2', '2', '2']);
    const rs = ownedReplicaSets('web');
    expect(rs).toHaveLength(1);
    expect(rs[0]!.metadata.name).toBe(`web-${rs[0]!.metadata.labels!['pod-template-hash']}`);
    expect(rs[0]!.metadata.annotations?.[REVISION]).toBe('1');
    const pods = await kubectl(sandbox, ['get', 'pods', '-l', 'app=web', '--no-headers']);
    const podRows = pods.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/));
    expect(podRows).toHaveLength(2);
    for (const row of podRows) {
      expect(row[0]).toMatch(new RegExp(`^${rs[0]!.metadata.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(row.slice(1, 4)).toEqual(['1/1', 'Running', '0']);
    }
  });

  it('set image rolls out a new ReplicaSet with revision 2', async () => {
    const set = await kubectl(sandbox, ['set', 'image', 'deployment/web', 'app=nginx:1.26']);
    expect(set.stdout.trim()).toBe('deployment.apps/web image updated');
    const r = await rolloutStatus('web');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('deployment "web" successfully rolled out');
    const rs = ownedReplicaSets('web');
    expect(
      rs.map((x) => [
        x.metadata.annotations?.[REVISION],
        x.spec.replicas,
        x.spec.template.spec.containers[0].image,
      ]),
    ).toEqual([
      ['1', 0, 'nginx:1.25'],
      ['2', 2, 'nginx:1.26'],
    ]);
    expect(sandbox.store.get('deployments', 'default', 'web')!.metadata.annotations?.[REVISION]).toBe('2');
  });

  it('rollout history lists revisions with their change-cause', async () => {
    await kubectl(sandbox, ['set', 'image', 'deployment/web', 'app=nginx:1.27']);
    expect((await rolloutStatus('web')).code).toBe(0);
    // Annotated after the change, as a pipeline records it: the controller copies it onto the new ReplicaSet.
    await kubectl(sandbox, ['annotate', 'deployment/web', 'kubernetes.io/change-cause=nginx 1.27']);
    await waitFor(
      'the change-cause on revision 3',
      () =>
        ownedReplicaSets('web').at(-1)!.metadata.annotations?.['kubernetes.io/change-cause'] === 'nginx 1.27',
    );
    const h = await kubectl(sandbox, ['rollout', 'history', 'deployment/web']);
    expect(h.stderr).toBe('');
    expect(h.stdout).toContain('REVISION  CHANGE-CAUSE');
    expect(historyRows(h.stdout)).toEqual([
      ['1', '<none>'],
      ['2', '<none>'],
      ['3', 'nginx 1.27'],
    ]);
    const one = await kubectl(sandbox, ['rollout', 'history', 'deployment/web', '--revision=1']);
    expect(one.stdout).toMatch(/Image:\s+nginx:1\.25\n/);
  });

  it('rollout undo goes back to the previous revision, which becomes revision 4', async () => {
    const r = await kubectl(sandbox, ['rollout', 'undo', 'deployment/web']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('deployment.apps/web rolled back');
    expect((await rolloutStatus('web')).code).toBe(0);
    expect(image('web')).toBe('nginx:1.26');
    const rs = ownedReplicaSets('web');
    // The revision-2 ReplicaSet is reused and renumbered 4, remembering 2 in revision-history.
    expect(
      rs.map((x) => [x.metadata.annotations?.[REVISION], x.spec.template.spec.containers[0].image]),
    ).toEqual([
      ['1', 'nginx:1.25'],
      ['3', 'nginx:1.27'],
      ['4', 'nginx:1.26'],
    ]);
    expect(rs[2]!.metadata.annotations?.['deployment.kubernetes.io/revision-history']).toBe('2');
    expect(sandbox.store.get('deployments', 'default', 'web')!.metadata.annotations?.[REVISION]).toBe('4');
    const h = await kubectl(sandbox, ['rollout', 'history', 'deployment/web']);
    expect(historyRows(h.stdout).map((x) => x[0])).toEqual(['1', '3', '4']);
  });

  it('rollout undo --to-revision=1, and a second identical undo is skipped', async () => {
    const r = await kubectl(sandbox, ['rollout', 'undo', 'deployment/web', '--to-revision=1']);
    expect(r.stdout.trim()).toBe('deployment.apps/web rolled back');
    expect((await rolloutStatus('web')).code).toBe(0);
    expect(image('web')).toBe('nginx:1.25');
    expect(sandbox.store.get('deployments', 'default', 'web')!.metadata.annotations?.[REVISION]).toBe('5');
    const rvBefore = sandbox.store.get('deployments', 'default', 'web')!.metadata.resourceVersion;
    const skip = await kubectl(sandbox, ['rollout', 'undo', 'deployment/web', '--to-revision=5']);
    expect(skip.code).toBe(0);
    expect(skip.stdout.trim()).toBe(
      'deployment.apps/web skipped rollback (current template already matches revision 5)',
    );
    expect(sandbox.store.get('deployments', 'default', 'web')!.metadata.resourceVersion).toBe(rvBefore);
    const missing = await kubectl(sandbox, ['rollout', 'undo', 'deployment/web', '--to-revision=42']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('error: unable to find specified revision 42 in history');
  });

  it('pause blocks rollouts and undo; resume lets the rollout finish', async () => {
    const pause = await kubectl(sandbox, ['rollout', 'pause', 'deployment/web']);
    expect(pause.stdout.trim()).toBe('deployment.apps/web paused');
    expect(sandbox.store.get('deployments', 'default', 'web')!.spec.paused).toBe(true);
    await kubectl(sandbox, ['set', 'image', 'deployment/web', 'app=nginx:1.28']);
    await waitFor('the paused condition', () => {
      const d = sandbox.store.get('deployments', 'default', 'web')!;
      return (
        d.status?.observedGeneration === d.metadata.generation &&
        d.status?.conditions?.some((c: any) => c.type === 'Progressing' && c.reason === 'DeploymentPaused')
      );
    });
    expect(
      ownedReplicaSets('web').some((rs) => rs.spec.template.spec.containers[0].image === 'nginx:1.28'),
    ).toBe(false);
    const undo = await kubectl(sandbox, ['rollout', 'undo', 'deployment/web']);
    expect(undo.code).toBe(1);
    expect(undo.stderr.trim()).toBe(
      "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    );
    const resume = await kubectl(sandbox, ['rollout', 'resume', 'deployment/web']);
    expect(resume.stdout.trim()).toBe('deployment.apps/web resumed');
    expect(sandbox.store.get('deployments', 'default', 'web')!.spec.paused).toBeUndefined();
    const r = await rolloutStatus('web');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('deployment "web" successfully rolled out');
    expect(ownedReplicaSets('web').at(-1)!.spec.template.spec.containers[0].image).toBe('nginx:1.28');
  });

  it('scale changes the replica count and the pods follow', async () => {
    const r = await kubectl(sandbox, ['scale', 'deployment/web', '--replicas=3']);
    expect(r.stdout.trim()).toBe('deployment.apps/web scaled');
    expect((await rolloutStatus('web')).code).toBe(0);
    const get = await kubectl(sandbox, ['get', 'deploy', 'web', '--no-headers']);
    expect(get.stdout.trim().split(/\s+/).slice(0, 4)).toEqual(['web', '3/3', '3', '3']);
    await waitFor(
      '3 pods',
      () =>
        sandbox.store
          .list('pods', 'default', { labelSelector: 'app=web' })
          .filter((p) => !p.metadata.deletionTimestamp).length === 3,
    );
  });

  it('rollout restart stamps the template and replaces the pods', async () => {
    const before = sandbox.store
      .list('pods', 'default', { labelSelector: 'app=web' })
      .map((p) => p.metadata.name);
    const r = await kubectl(sandbox, ['rollout', 'restart', 'deployment/web']);
    expect(r.stdout.trim()).toBe('deployment.apps/web restarted');
    const tpl = sandbox.store.get('deployments', 'default', 'web')!.spec.template;
    expect(tpl.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/,
    );
    expect((await rolloutStatus('web')).code).toBe(0);
    await waitFor('old pods gone', () => {
      const now = sandbox.store
        .list('pods', 'default', { labelSelector: 'app=web' })
        .map((p) => p.metadata.name);
      return now.length === 3 && now.every((n) => !before.includes(n));
    });
  });

  it('describe and get events show the controller events through field selectors', async () => {
    const rs = ownedReplicaSets('web').at(-1)!;
    const describe = await kubectl(sandbox, ['describe', 'deployment', 'web']);
    expect(describe.stderr).toBe('');
    expect(describe.stdout).toMatch(
      /^Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable$/m,
    );
    expect(describe.stdout).toMatch(
      new RegExp(`^NewReplicaSet:\\s+${rs.metadata.name} \\(3/3 replicas created\\)$`, 'm'),
    );
    expect(describe.stdout).toMatch(
      /ScalingReplicaSet .*deployment-controller\s+Scaled (up|down) replica set web-/,
    );
    const ev = await kubectl(sandbox, [
      'get',
      'events',
      '--field-selector',
      'involvedObject.kind=Deployment,involvedObject.name=web',
    ]);
    const rows = ev.stdout.trim().split('\n');
    expect(rows[0]!.split(/\s{2,}/)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows.slice(1))
      expect(row).toMatch(/Normal\s+ScalingReplicaSet\s+deployment\/web\s+Scaled (up|down) replica set web-/);
  });

  it('rollout status fails with the progress deadline for an image that never gets ready', async () => {
    sandbox.images.set('never:1', { kind: 'never-ready' });
    await createDeployment('stuck', 'never:1', 1, (m) => {
      m.spec.progressDeadlineSeconds = 60;
    });
    const r = await rolloutStatus('stuck');
    expect(r.code).toBe(1);
    // (Whether a "Waiting for …" line comes first depends on how fast kubectl starts: the deadline is 0.6 s real.)
    expect(r.stderr.trim()).toBe('error: deployment "stuck" exceeded its progress deadline');
    const d = sandbox.store.get('deployments', 'default', 'stuck')!;
    expect(d.status.conditions.find((c: any) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
    });
    const health = await fetch(sandbox.appUrl('default', 'stuck'));
    expect(health.status).toBe(503);
  });

  it('serves the app health endpoint with the running tag once the rollout is complete', async () => {
    const res = await fetch(sandbox.appUrl('default', 'web', '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', version: '1.28', image: 'nginx:1.28' });
    await kubectl(sandbox, ['set', 'image', 'deployment/web', 'app=nginx:1.29']);
    expect((await rolloutStatus('web')).code).toBe(0);
    const after = await fetch(sandbox.appUrl('default', 'web', '/anything/below'));
    expect(await after.json()).toMatchObject({ status: 'ok', version: '1.29' });
  });
});
