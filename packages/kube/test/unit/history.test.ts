import { describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/core';
import { planUndo, replicaSetForRevision, revisionsOf, UndoError, undoRollout } from '../../src/history.js';
import type { Deployment, PodTemplateSpec, ReplicaSet } from '../../src/types.js';
import { FakeConn } from './fake-conn.js';

const podTemplate = (image: string, hash?: string): PodTemplateSpec => ({
  metadata: {
    creationTimestamp: null,
    labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) },
  },
  spec: {
    containers: [{ name: 'app', image, resources: {}, terminationMessagePath: '/dev/termination-log' }],
    restartPolicy: 'Always',
  },
});

function deployment(
  image: string,
  extra: Partial<Deployment['spec']> = {},
  annotations: Record<string, string> = {},
): Deployment {
  return {
    metadata: {
      name: 'web',
      namespace: 'prod',
      uid: 'd-uid',
      annotations: {
        'deployment.kubernetes.io/revision': '3',
        'kubectl.kubernetes.io/last-applied-configuration': '{"applied":true}',
        'kubernetes.io/change-cause': 'deploy v3',
        ...annotations,
      },
    },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate(image), ...extra },
  };
}

function rs(
  name: string,
  revision: string | undefined,
  image: string,
  created: string,
  owner = 'd-uid',
  annotations: Record<string, string> = {},
): ReplicaSet {
  return {
    metadata: {
      name,
      creationTimestamp: created,
      annotations: { ...(revision ? { 'deployment.kubernetes.io/revision': revision } : {}), ...annotations },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner, controller: true },
      ],
    },
    spec: { selector: { matchLabels: { app: 'web' } }, template: podTemplate(image, name.slice(4)) },
  };
}

const owned = [
  rs('web-aaa', '1', 'web:1', '2026-01-01T00:00:00Z', 'd-uid', {
    'kubernetes.io/change-cause': 'deploy v1',
    'deployment.kubernetes.io/revision-history': '',
  }),
  rs('web-bbb', '2', 'web:2', '2026-01-02T00:00:00Z', 'd-uid', {
    'kubernetes.io/change-cause': 'deploy v2',
    'deployment.kubernetes.io/desired-replicas': '2',
  }),
  rs('web-ccc', '3', 'web:3', '2026-01-03T00:00:00Z'),
];

describe('replicaSetForRevision (kubectl deploymentRevision)', () => {
  it.each<[number, string]>([
    [0, 'web-bbb'],
    [1, 'web-aaa'],
    [3, 'web-ccc'],
  ])('to revision %d → %s', (to, expected) => {
    expect(replicaSetForRevision(deployment('web:3'), owned, to).metadata.name).toBe(expected);
  });

  it.each<[string, ReplicaSet[], number, string]>([
    ['a missing revision', owned, 7, 'unable to find specified revision 7 in history'],
    ['a negative revision', owned, -1, 'unable to find specified revision -1 in history'],
    ['no previous revision', [owned[2] as ReplicaSet], 0, 'no rollout history found for deployment "web"'],
  ])('refuses %s', (_name, list, to, message) => {
    expect(() => replicaSetForRevision(deployment('web:3'), list, to)).toThrow(message);
  });
});

describe('planUndo', () => {
  it('builds the json patch kubectl sends', () => {
    const plan = planUndo(deployment('web:3'), owned, 0);
    expect(plan).toEqual({
      kind: 'patch',
      revision: 2,
      replicaSet: 'web-bbb',
      patch: [
        { op: 'replace', path: '/spec/template', value: podTemplate('web:2') },
        {
          op: 'replace',
          path: '/metadata/annotations',
          value: {
            'deployment.kubernetes.io/revision': '3',
            'kubectl.kubernetes.io/last-applied-configuration': '{"applied":true}',
            'kubernetes.io/change-cause': 'deploy v2',
          },
        },
      ],
    });
    const body = JSON.stringify(plan.kind === 'patch' ? plan.patch : []);
    expect(body).toContain('"metadata":{"creationTimestamp":null,"labels":{"app":"web"}}');
    expect(body).not.toContain('pod-template-hash');
  });

  it('skips when the template already matches', () => {
    expect(planUndo(deployment('web:1'), owned, 1)).toEqual({
      kind: 'skip',
      revision: 1,
      replicaSet: 'web-aaa',
      message: 'deployment.apps/web skipped rollback (current template already matches revision 1)',
    });
  });

  it('refuses a paused deployment before the skip check', () => {
    const paused = deployment('web:1', { paused: true });
    const error = (() => {
      try {
        planUndo(paused, owned, 1);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UndoError);
    expect((error as UndoError).code).toBe('paused');
    expect((error as UndoError).message).toBe(
      "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    );
  });
});

describe('planUndo on a re-run, after the revision was renumbered', () => {
  // Revision 2 was rolled back to: its ReplicaSet is now revision 4 with revision-history "2".
  const renumbered = [
    owned[0] as ReplicaSet,
    rs('web-bbb', '4', 'web:2', '2026-01-02T00:00:00Z', 'd-uid', {
      'deployment.kubernetes.io/revision-history': '2',
    }),
    owned[2] as ReplicaSet,
  ];
  it('skips when the deployment is already at that template', () => {
    expect(planUndo(deployment('web:2'), renumbered, 2)).toMatchObject({
      kind: 'skip',
      revision: 4,
      message:
        'deployment.apps/web skipped rollback (current template already matches revision 2) (now revision 4)',
    });
  });
  it('goes back to that template otherwise', () => {
    expect(planUndo(deployment('web:3'), renumbered, 2)).toMatchObject({
      kind: 'patch',
      revision: 4,
      replicaSet: 'web-bbb',
    });
  });
  it("keeps kubectl's error when asked to", () => {
    expect(() => planUndo(deployment('web:2'), renumbered, 2, { followRevisionHistory: false })).toThrow(
      'unable to find specified revision 2 in history',
    );
  });
});

describe('revisionsOf', () => {
  it('lists owned revisions in order and marks the current one', () => {
    const foreign = rs('web-zzz', '9', 'web:9', '2026-01-04T00:00:00Z', 'other');
    const list = [owned[2], owned[0], owned[1]].filter((x): x is ReplicaSet => x !== undefined);
    const entries = revisionsOf(
      deployment('web:3'),
      list.concat(foreign).filter((r) => r.metadata.ownerReferences?.[0]?.uid === 'd-uid'),
    );
    expect(entries.map((e) => [e.revision, e.replicaSet, e.changeCause, e.current, e.images])).toEqual([
      [1, 'web-aaa', 'deploy v1', false, ['app=web:1']],
      [2, 'web-bbb', 'deploy v2', false, ['app=web:2']],
      [3, 'web-ccc', undefined, true, ['app=web:3']],
    ]);
  });
});

describe('undoRollout', () => {
  const serve = (current: Deployment) =>
    new FakeConn((method, path, options) => {
      if (method === 'GET' && path.endsWith('/deployments/web')) return current;
      if (method === 'GET' && path.endsWith('/replicasets')) {
        expect(options.query?.labelSelector).toBe('app=web');
        return {
          metadata: {},
          items: [...owned, rs('web-zzz', '9', 'web:2', '2026-01-01T00:00:00Z', 'someone-else')],
        };
      }
      if (method === 'PATCH')
        return { ...current, spec: { ...current.spec, template: podTemplate('web:2') } };
      throw new Error(`${method} ${path}`);
    });

  it('patches with json-patch and reports from → to', async () => {
    const conn = serve(deployment('web:3'));
    const result = await undoRollout({
      conn,
      namespace: 'prod',
      name: 'web',
      toRevision: 2,
      logger: new MemoryLogger(),
    });
    expect(result).toMatchObject({
      outcome: 'rolled-back',
      message: 'deployment.apps/web rolled back',
      fromRevision: 3,
      toRevision: 2,
      imagesBefore: ['app=web:3'],
      imagesAfter: ['app=web:2'],
    });
    const patch = conn.calls.find((c) => c.method === 'PATCH');
    expect(patch?.options.contentType).toBe('application/json-patch+json');
    expect(patch?.options.query).toEqual({});
  });

  it('sends dryRun=All on a server dry run', async () => {
    const conn = serve(deployment('web:3'));
    const result = await undoRollout({ conn, namespace: 'prod', name: 'web', dryRun: true });
    expect(result.message).toBe('deployment.apps/web rolled back (server dry run)');
    expect(conn.calls.find((c) => c.method === 'PATCH')?.options.query).toEqual({ dryRun: 'All' });
  });

  it('does not patch when skipped', async () => {
    const conn = serve(deployment('web:2'));
    const result = await undoRollout({ conn, namespace: 'prod', name: 'web', toRevision: 2 });
    expect(result.outcome).toBe('skipped');
    expect(conn.count('PATCH', '')).toBe(0);
  });

  it('refuses when the deployment moved past the expected revision', async () => {
    const conn = serve(deployment('web:3', {}, { 'deployment.kubernetes.io/revision': '4' }));
    await expect(
      undoRollout({ conn, namespace: 'prod', name: 'web', toRevision: 2, expectCurrentRevision: 3 }),
    ).rejects.toThrow(/is at revision 4, not 3/);
  });
});
