// rollout() against the sandbox over real HTTP, when something happens between the first PATCH and the next:
// a Deployment deleted mid-run, a cancel while a PATCH is in flight. The connection is the real one; the
// test only acts at the moment the second PATCH is sent.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CancelledError, MemoryLogger } from '@planner-deploy/action-kit';
import { connect, type KubeConnection } from '@planner-deploy/kube';
import {
  createDeployment,
  startSandbox,
  waitForDeploymentReady,
  type Sandbox,
} from '@planner-deploy/sandbox';
import type { Inputs } from '../../src/inputs.js';
import { rollout } from '../../src/run.js';

let sandbox: Sandbox;
let seq = 0;
beforeAll(async () => {
  sandbox = await startSandbox({ timeScale: 0.05 });
});
afterAll(async () => {
  await sandbox.stop();
});

async function deployment(): Promise<string> {
  const name = `mid-${++seq}`;
  createDeployment(sandbox, { name, image: 'registry.local/planner-app:v1', replicas: 1 });
  await waitForDeploymentReady(sandbox, name);
  return name;
}

function inputs(deployments: string[]): Inputs {
  return {
    connection: {},
    namespace: 'default',
    deployments,
    image: 'registry.local/planner-app:v2',
    images: undefined,
    container: undefined,
    restart: false,
    replicas: undefined,
    'change-cause': undefined,
    wait: true,
    timeout: 30_000,
    'fail-fast': true,
    'ready-grace': 3000,
  };
}

/** The real connection, with `before` run when the PATCH of `name` is about to be sent. */
function connectWithHook(name: string, before: () => Promise<void> | void): typeof connect {
  return async (options) => {
    const conn = await connect({ ...options, env: { KUBECONFIG: sandbox.kubeconfigPath } });
    const request = conn.request.bind(conn);
    const hooked: KubeConnection = Object.assign(Object.create(conn) as KubeConnection, {
      async request<T>(method: string, path: string, opts?: Parameters<KubeConnection['request']>[2]) {
        if (method === 'PATCH' && path.endsWith(`/deployments/${name}`)) await before();
        return request<T>(method, path, opts);
      },
    });
    return hooked;
  };
}

const image = (name: string) =>
  sandbox.store.get('deployments', 'default', name)?.spec.template.spec.containers[0].image as string;

describe('rollout when a change fails part-way', () => {
  it('a Deployment deleted mid-run: the report keeps the other change, and says which changed', async () => {
    const a = await deployment();
    const b = await deployment();
    const logger = new MemoryLogger();
    const report = await rollout(
      inputs([a, b]),
      {},
      logger,
      new AbortController().signal,
      connectWithHook(b, async () => {
        // a's PATCH goes first; b is deleted just before its own.
        await new Promise((resolve) => setTimeout(resolve, 200));
        sandbox.store.delete('deployments', 'default', b);
      }),
    );
    expect(image(a)).toBe('registry.local/planner-app:v2');
    expect(report.deployments.map((d) => [d.name, d.changed, d.previousRevision])).toEqual([
      [a, true, 1],
      [b, false, 1],
    ]);
    expect(report.failure?.message).toContain(`Deployment "${b}" was not found in namespace "default"`);
    expect(report.failure?.message).toContain(`Changed: ${a} (was revision 1). Not changed: ${b}.`);
    expect(logger.entries.some((e) => e.message.startsWith(`Changed: ${a}`))).toBe(true);
  });

  it('a cancel while a PATCH is in flight: says it may or may not have applied and how to check', async () => {
    const a = await deployment();
    const b = await deployment();
    const controller = new AbortController();
    const report = await rollout(
      inputs([a, b]),
      {},
      new MemoryLogger(),
      controller.signal,
      connectWithHook(b, async () => {
        // a's PATCH has applied; the cancel comes as b's is sent.
        while (image(a) !== 'registry.local/planner-app:v2') await new Promise((r) => setTimeout(r, 20));
        setTimeout(() => controller.abort(new CancelledError('Cancelled by SIGINT.')), 0);
      }),
    );
    expect(report.failure).toBeInstanceOf(CancelledError);
    expect(report.deployments.find((d) => d.name === a)?.changed).toBe(true);
    const b1 = report.deployments.find((d) => d.name === b);
    expect(b1?.uncertain).toBe(true);
    expect(b1?.previousRevision).toBe(1);
    expect(report.failure?.message).toContain(
      `Cancelled during the PATCH of ${b}: the change may or may not have applied; check with kubectl rollout history deployment/${b} -n default`,
    );
  });
});
