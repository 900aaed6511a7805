/**
 * Every input of every action, given an invalid value, fails the step (exit 1) with an error naming the
 * input and showing the value, before any request that changes anything — run on the built dists against
 * the in-process sandbox. The rows are in bad-inputs.table.ts; an action.yml input without a row fails.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runStep, type RunResult } from '@planner-deploy/runner-harness';
import { MUTATING_VERBS, seedPlanner, startCloud, type Cloud } from '@planner-deploy/sandbox';
import { BAD_INPUTS, type BadValue } from './bad-inputs.table.js';

const root = new URL('..', import.meta.url).pathname;
const CONCURRENCY = 3;
/** Free-text rows must stay the exception. */
const MAX_FREE_TEXT_ROWS = 3;
/** AWS actions that change something (the sandbox records the action name of every request). */
const MUTATING_AWS =
  /^(Create|Delete|BatchDelete|Put|Modify|Add|Remove|Start|Stop|Restore|Copy|Tag|Untag|Upload|Complete|Initiate|Set|Reboot|Update|Promote|Failover|Reset)/;
const MUTATING_HTTP = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const actionNames = readdirSync(join(root, 'actions'))
  .filter((name) => existsSync(join(root, 'actions', name, 'action.yml')))
  .sort();

async function declaredInputs(action: string): Promise<string[]> {
  const manifest = parseYaml(await readFile(join(root, 'actions', action, 'action.yml'), 'utf8')) as {
    inputs?: Record<string, unknown>;
  };
  return Object.keys(manifest.inputs ?? {});
}

interface Row extends BadValue {
  action: string;
  input: string;
  label: string;
}

const rows: Row[] = Object.entries(BAD_INPUTS).flatMap(([action, table]) =>
  Object.entries(table.inputs).flatMap(([input, values]) =>
    typeof values === 'string'
      ? []
      : values.map((bad) => ({
          ...bad,
          action,
          input,
          label: `${action} ${input}=${JSON.stringify(bad.value.length > 40 ? `${bad.value.slice(0, 37)}...` : bad.value)}`,
        })),
  ),
);

describe('the bad-input table', () => {
  it('has a row for every input of every action.yml, and none for inputs that do not exist', async () => {
    const problems: string[] = [];
    for (const action of actionNames) {
      const table = BAD_INPUTS[action];
      const declared = await declaredInputs(action);
      if (!table) {
        problems.push(`actions/${action} has no table`);
        continue;
      }
      for (const input of declared)
        if (!(input in table.inputs)) problems.push(`${action}: input "${input}" has no row`);
      for (const input of Object.keys(table.inputs))
        if (!declared.includes(input))
          problems.push(`${action}: row "${input}" names no input of action.yml`);
      for (const input of Object.keys(table.base))
        if (!declared.includes(input)) problems.push(`${action}: base input "${input}" is not in action.yml`);
    }
    for (const action of Object.keys(BAD_INPUTS))
      if (!actionNames.includes(action)) problems.push(`table for "${action}", which is not an action`);
    expect(problems).toEqual([]);
  });

  it('says why for every free-text input, and those are few', () => {
    const free = Object.entries(BAD_INPUTS).flatMap(([action, table]) =>
      Object.entries(table.inputs).flatMap(([input, why]) =>
        typeof why === 'string' ? [{ action, input, why }] : [],
      ),
    );
    expect(free.length).toBeLessThanOrEqual(MAX_FREE_TEXT_ROWS);
    for (const { why } of free) expect(why).toMatch(/^free text: \S.{30,}$/);
    for (const [, table] of Object.entries(BAD_INPUTS))
      for (const values of Object.values(table.inputs))
        if (typeof values !== 'string') expect(values.length).toBeGreaterThan(0);
  });
});

describe('an invalid value of any input', () => {
  let cloud: Cloud;
  let workspace: string;
  const results = new Map<string, { result?: RunResult; error?: Error; mutating: string[] }>();

  beforeAll(async () => {
    cloud = await startCloud({ registry: 'none', timeScale: 0.05 });
    await seedPlanner(cloud);
    // build-push reads its context and Dockerfile from the workspace.
    workspace = await mkdtemp(join(tmpdir(), 'bad-inputs-'));
    await writeFile(join(workspace, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
    const env = { ...cloud.env(), GITHUB_TOKEN: cloud.github?.token ?? '' };
    const github = { token: cloud.github?.token ?? '' };
    const secrets = { 'the ECR password': cloud.aws.ecr.password };

    // Every mutating request, with the rows in flight when it arrived.
    const inFlight = new Set<string>();
    const kubeSeen = { n: cloud.kube.requests.length };
    const awsSeen = { n: cloud.aws.requests.length };
    const githubSeen = { n: cloud.github?.requests().length ?? 0 };
    const sweep = (): string[] => {
      const found: string[] = [];
      for (const r of cloud.kube.requests.slice(kubeSeen.n))
        if (MUTATING_VERBS.has(r.verb) && !r.dryRun)
          found.push(`kube ${r.verb} ${r.resource} ${r.name ?? ''}`);
      kubeSeen.n = cloud.kube.requests.length;
      for (const r of cloud.aws.requests.slice(awsSeen.n))
        if (MUTATING_AWS.test(r.action)) found.push(`aws ${r.service} ${r.action}`);
      awsSeen.n = cloud.aws.requests.length;
      const gh = cloud.github?.requests() ?? [];
      for (const r of gh.slice(githubSeen.n))
        if (MUTATING_HTTP.has(r.method)) found.push(`github ${r.method} ${r.url}`);
      githubSeen.n = gh.length;
      return found;
    };

    const queue = [...rows];
    const worker = async (): Promise<void> => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        const entry: { result?: RunResult; error?: Error; mutating: string[] } = { mutating: [] };
        results.set(row.label, entry);
        inFlight.add(row.label);
        try {
          entry.result = await runStep({
            action: `actions/${row.action}`,
            inputs: { ...BAD_INPUTS[row.action]?.base, ...row.with, [row.input]: row.value },
            env,
            github,
            workspace,
            secrets,
            post: false,
            limitMs: 30_000,
          });
        } catch (error) {
          entry.error = error instanceof Error ? error : new Error(String(error));
        }
        const mutating = sweep();
        // Requests are seen after the fact: blame every row that was running.
        for (const label of inFlight) results.get(label)?.mutating.push(...mutating);
        inFlight.delete(row.label);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    // ~180 rows, three at a time, each a whole step on a shared machine.
  }, 300_000);

  afterAll(async () => {
    await cloud?.stop();
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  it.each(rows.map((row) => [row.label, row] as const))('%s', (_label, row) => {
    const entry = results.get(row.label);
    if (entry?.error) throw entry.error; // e.g. the secret scan found a leak
    const result = entry?.result as RunResult;
    expect(result.exitCode).toBe(1);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    const error = `${errors[0]?.title ?? ''}\n${errors[0]?.message ?? ''}`;
    expect(error).toContain(`"${row.input}"`);
    expect(result.log).toMatch(/^::error /m);
    const whole = row.shows ?? row.value;
    expect(row.value).toContain(whole);
    const shown = whole.length > 80 ? whole.slice(0, 77) : whole;
    if (row.hidden === undefined) {
      expect([shown, JSON.stringify(shown).slice(1, -1)].some((text) => error.includes(text))).toBe(true);
    } else {
      for (const text of [result.log, result.summary, error]) expect(text).not.toContain(row.value);
    }
    expect(entry?.mutating).toEqual([]);
  });
});
