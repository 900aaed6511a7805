import { describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/core';
import { listWatch } from '../../src/list-watch.js';
import type { KubeObject } from '../../src/types.js';
import { FakeConn } from './fake-conn.js';

const pod = (name: string, rv: string): KubeObject => ({ metadata: { name, resourceVersion: rv } });
const gone = {
  type: 'ERROR' as const,
  object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
};

function run(conn: FakeConn, watchFromZero: boolean) {
  const stop = new AbortController();
  const lists: string[][] = [];
  const events: string[] = [];
  const done = listWatch<KubeObject>({
    conn,
    path: '/api/v1/namespaces/prod/pods',
    query: { labelSelector: 'app=web' },
    onList: (items) => lists.push(items.map((i) => i.metadata.name ?? '')),
    onEvent: (type, object) => events.push(`${type} ${object.metadata.name}`),
    signal: stop.signal,
    deadline: Date.now() + 10_000,
    logger: new MemoryLogger(),
    what: 'pods',
    watchFromZero,
  });
  return { stop, lists, events, done };
}

describe('listWatch', () => {
  it('lists, then watches from the list RV', async () => {
    const conn = new FakeConn(() => ({ metadata: { resourceVersion: '7' }, items: [pod('a', '5')] }));
    const { stop, lists, events, done } = run(conn, false);
    const watch = await conn.nthWatch(0);
    expect(watch.options.query).toMatchObject({ labelSelector: 'app=web', resourceVersion: '7' });
    watch.channel.push({ type: 'ADDED', object: pod('b', '8') });
    await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await done;
    expect(lists).toEqual([['a']]);
    expect(events).toEqual(['ADDED b']);
  });

  it('with watchFromZero skips the LIST, and starts over from "0" after a 410', async () => {
    const conn = new FakeConn(() => {
      throw new Error('no LIST expected');
    });
    const { stop, lists, events, done } = run(conn, true);
    const first = await conn.nthWatch(0);
    expect(first.options.query?.resourceVersion).toBe('0');
    first.channel.push({ type: 'ADDED', object: pod('a', '5') });
    first.channel.push(gone);
    const second = await conn.nthWatch(1);
    expect(second.options.query?.resourceVersion).toBe('0');
    second.channel.push({ type: 'ADDED', object: pod('b', '9') });
    await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await done;
    expect(lists).toEqual([[], []]);
    expect(events).toEqual(['ADDED a', 'ADDED b']);
    expect(conn.count('GET', '/pods')).toBe(0);
  });

  it('falls back to a LIST when the server refuses a watch from "0"', async () => {
    const conn = new FakeConn(() => ({ metadata: { resourceVersion: '20' }, items: [pod('a', '19')] }));
    const { stop, lists, done } = run(conn, true);
    const first = await conn.nthWatch(0);
    first.channel.push(gone);
    const second = await conn.nthWatch(1);
    expect(second.options.query?.resourceVersion).toBe('20');
    stop.abort();
    await done;
    expect(lists).toEqual([[], ['a']]);
  });
});
