/**
 * kubectl (the pinned v1.32 of the sandbox package) as the oracle of what our library does: after our
 * rollout kubectl agrees it is rolled out, and our undo leaves the same history and template as
 * `kubectl rollout undo --to-revision` on a twin deployment.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/core';
import { startSandbox, type Sandbox } from '@planner-deploy/sandbox';
// The oracle runner is not re-exported by the sandbox package.
import { runKubectl } from '../../../sandbox/src/kubectl.js';
import type { KubeConnection } from '../../src/connection.js';
import { setImages } from '../../src/deployments.js';
import { undoRollout } from '../../src/history.js';
import { waitForRollouts } from '../../src/rollout-watcher.js';
import type { Deployment } from '../../src/types.js';
import { createDeployment, newNamespace, sandboxConnection } from './helpers.js';

let sandbox: Sandbox;
let conn: KubeConnection;

beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.05 });
  ({ conn } = await sandboxConnection(sandbox));
});
afterAll(async () => {
  conn?.close();
  await sandbox?.stop();
});

const kubectl = (args: string[]) =>
  runKubectl(args, { kubeconfig: sandbox.kubeconfigPath, timeoutMs: 60_000 });

async function settle(ns: string, names: string[]): Promise<void> {
  const results = await waitForRollouts({
    conn,
    namespace: ns,
    deployments: names,
    deadline: Date.now() + 20_000,
    failFast: false,
    readyGraceMs: 60_000,
    logger: new MemoryLogger(),
  });
  for (const r of results) expect(r.outcome).toBe('succeeded');
}

/** The parts of a deployment that must match between the twins (names differ, so labels are mapped). */
function comparable(d: Deployment, name: string) {
  const text = JSON.stringify({ template: d.spec.template, annotations: d.metadata.annotations });
  return JSON.parse(text.split(`"${name}"`).join('"NAME"')) as unknown;
}

describe('kubectl agrees with our library', () => {
  it('after our rollout, kubectl rollout status says it is rolled out', async () => {
    const ns = await newNamespace(conn, 'oracle');
    await createDeployment(conn, ns, 'web', 'registry.local/web:1');
    await setImages({ conn, namespace: ns, name: 'web', image: 'registry.local/web:2' });
    await settle(ns, ['web']);
    const status = await kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=10s']);
    expect(status).toMatchObject({ code: 0, stdout: 'deployment "web" successfully rolled out\n' });
  });

  it('our undo leaves the same history and template as kubectl rollout undo on a twin', async () => {
    const ns = await newNamespace(conn, 'oracle');
    const twins = ['ours', 'theirs'];
    for (const name of twins) {
      await createDeployment(conn, ns, name, 'registry.local/web:1', {
        annotations: { 'kubernetes.io/change-cause': 'v1' },
      });
    }
    for (const version of [2, 3]) {
      for (const name of twins) {
        await setImages({
          conn,
          namespace: ns,
          name,
          image: `registry.local/web:${version}`,
          changeCause: `v${version}`,
        });
      }
      await settle(ns, twins);
    }

    const ours = await undoRollout({ conn, namespace: ns, name: 'ours', toRevision: 1 });
    expect(ours.outcome).toBe('rolled-back');
    const theirs = await kubectl(['rollout', 'undo', 'deployment/theirs', '--to-revision=1', '-n', ns]);
    expect(theirs).toMatchObject({ code: 0, stdout: 'deployment.apps/theirs rolled back\n' });
    await settle(ns, twins);

    const history = async (name: string) =>
      (await kubectl(['rollout', 'history', `deployment/${name}`, '-n', ns])).stdout;
    expect((await history('ours')).replace('ours', 'NAME')).toBe(
      (await history('theirs')).replace('theirs', 'NAME'),
    );
    expect(await history('ours')).toMatch(/4\s+v1/);

    const get = (name: string) =>
      conn.request<Deployment>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
    expect(comparable(await get('ours'), 'ours')).toEqual(comparable(await get('theirs'), 'theirs'));

    // And both skip the same way when asked again.
    const again = await kubectl(['rollout', 'undo', 'deployment/theirs', '--to-revision=4', '-n', ns]);
    const ourAgain = await undoRollout({ conn, namespace: ns, name: 'ours', toRevision: 4 });
    expect(`${ourAgain.message}\n`.replace('ours', 'theirs')).toBe(again.stdout);
  });
});
