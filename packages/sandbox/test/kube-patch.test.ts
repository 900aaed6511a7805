/** The three PATCH flavours (kubernetes-api.md §6): strategic merge directives, merge patch, JSON patch. */
import { describe, expect, it } from '@jest/globals';
import type { PatchError } from '../src/kube/patch.js';
import { jsonPatch, mergePatch, strategicMergePatch } from '../src/kube/patch.js';

const podSpec = () => ({
  containers: [
    {
      name: 'app',
      image: 'app:1',
      args: ['--a', '--b'],
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      ports: [{ containerPort: 80, name: 'http' }],
    },
    { name: 'sidecar', image: 'envoy:1' },
  ],
  finalizers: ['x'],
  nodeSelector: { zone: 'a', disk: 'ssd' },
});

describe('strategic merge patch', () => {
  const cases: [string, unknown, unknown][] = [
    [
      'merges containers by name and keeps the others',
      { containers: [{ name: 'app', image: 'app:2' }] },
      { ...podSpec(), containers: [{ ...podSpec().containers[0], image: 'app:2' }, podSpec().containers[1]] },
    ],
    [
      'orders by $setElementOrder (unlisted server items last)',
      {
        '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }],
        containers: [{ name: 'app', image: 'app:3' }],
      },
      { ...podSpec(), containers: [podSpec().containers[1], { ...podSpec().containers[0], image: 'app:3' }] },
    ],
    [
      'merges env by name, ports by containerPort, replaces primitive lists',
      {
        containers: [
          {
            name: 'app',
            args: ['--c'],
            env: [
              { name: 'B', value: '3' },
              { name: 'C', value: '4' },
            ],
            ports: [{ containerPort: 80, protocol: 'TCP' }],
          },
        ],
      },
      {
        ...podSpec(),
        containers: [
          {
            ...podSpec().containers[0],
            args: ['--c'],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '3' },
              { name: 'C', value: '4' },
            ],
            ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
          },
          podSpec().containers[1],
        ],
      },
    ],
    [
      'deletes a list item with $patch: delete and a key with null',
      { containers: [{ name: 'sidecar', $patch: 'delete' }], nodeSelector: { disk: null } },
      { ...podSpec(), containers: [podSpec().containers[0]], nodeSelector: { zone: 'a' } },
    ],
    [
      'replaces a list with $patch: replace',
      { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x:1' }] },
      { ...podSpec(), containers: [{ name: 'only', image: 'x:1' }] },
    ],
    [
      'replaces a map with $patch: replace',
      { nodeSelector: { $patch: 'replace', zone: 'b' } },
      { ...podSpec(), nodeSelector: { zone: 'b' } },
    ],
    [
      'keeps only $retainKeys',
      { nodeSelector: { $retainKeys: ['zone'], zone: 'c' } },
      { ...podSpec(), nodeSelector: { zone: 'c' } },
    ],
    [
      'removes values with $deleteFromPrimitiveList and unions merge-strategy primitive lists',
      {
        '$deleteFromPrimitiveList/finalizers': ['x'],
        containers: [{ name: 'app', '$deleteFromPrimitiveList/args': ['--a'] }],
      },
      {
        ...podSpec(),
        finalizers: [],
        containers: [{ ...podSpec().containers[0], args: ['--b'] }, podSpec().containers[1]],
      },
    ],
  ];
  it.each(cases)('%s', (_name, patch, expected) => {
    expect(strategicMergePatch(podSpec(), patch)).toEqual(expected);
  });

  it('never stores directive keys', () => {
    const out = JSON.stringify(
      strategicMergePatch(podSpec(), {
        $retainKeys: ['containers'],
        containers: [{ name: 'app', $patch: 'merge' }],
      }),
    );
    expect(out).not.toContain('$');
  });
});

describe('merge patch (RFC 7386)', () => {
  it('merges maps, deletes with null and replaces lists', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({
      a: { c: 2, d: 3 },
      l: [3],
    });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { annotations: { 'a/b': 'x' } }, spec: { list: [1, 2, 3] } };
  it('applies add, remove, replace, move, copy and test', () => {
    expect(
      jsonPatch(doc, [
        { op: 'test', path: '/metadata/annotations/a~1b', value: 'x' },
        { op: 'replace', path: '/metadata/annotations/a~1b', value: 'y' },
        { op: 'add', path: '/spec/list/-', value: 4 },
        { op: 'add', path: '/spec/list/0', value: 0 },
        { op: 'remove', path: '/spec/list/1' },
        { op: 'copy', from: '/spec/list', path: '/spec/copy' },
        { op: 'move', from: '/spec/copy', path: '/spec/moved' },
      ]),
    ).toEqual({
      metadata: { annotations: { 'a/b': 'y' } },
      spec: { list: [0, 2, 3, 4], moved: [0, 2, 3, 4] },
    });
    expect(doc.spec.list).toEqual([1, 2, 3]);
  });

  it('fails replace on a missing path and a failed test with 422', () => {
    const err = (ops: unknown): PatchError => {
      try {
        jsonPatch(doc, ops);
      } catch (e) {
        return e as PatchError;
      }
      throw new Error('expected a PatchError');
    };
    expect(err([{ op: 'replace', path: '/metadata/labels', value: {} }])).toMatchObject({ code: 422 });
    expect(err([{ op: 'test', path: '/spec/list/0', value: 9 }])).toMatchObject({ code: 422 });
    expect(err({ op: 'add' })).toMatchObject({ code: 400 });
  });
});
