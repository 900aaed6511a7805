/**
 * What a run is asked for, checked before anything runs: the ref, the event's payload, inputs against their
 * declarations (`workflow_dispatch` and `workflow_call`), and a job's matrix as its combinations.
 */
import type { InputConfig } from '@actions/workflow-parser/model/workflow-template';
import { isString } from '@actions/workflow-parser';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';
import { asText, evaluateToken, type Contexts, type Value } from './expressions.js';
import { tokenAt } from './load.js';

/** A mistake in how the workflow was asked to run (an unknown input, an event it does not handle …). */
export class WorkflowUsageError extends Error {}

/** `main` → refs/heads/main, `v1.2.0` → refs/tags/v1.2.0; a full ref stays. */
export function fullRef(ref: string): string {
  if (ref.startsWith('refs/')) return ref;
  return /^v\d/.test(ref) ? `refs/tags/${ref}` : `refs/heads/${ref}`;
}

export type InputDefinitions = Record<string, InputConfig & { default?: unknown }> | undefined;

/**
 * Checks given inputs against their declarations and gives each its typed value (boolean, number or
 * string), the default filling what is not given; `where` names how they were given (`--input`, `with:`).
 */
export function resolveInputs(
  definitions: InputDefinitions,
  given: Record<string, Value>,
  where: string,
  file: string,
  contexts: Contexts = {},
  rawInputs?: TemplateToken,
): Record<string, Value> {
  const defs = definitions ?? {};
  for (const name of Object.keys(given))
    if (!(name in defs))
      throw new WorkflowUsageError(
        `${where} ${name}: ${file} declares no input "${name}" (it has: ${Object.keys(defs).join(', ') || 'none'})`,
      );
  const values: Record<string, Value> = {};
  for (const [name, def] of Object.entries(defs)) {
    const rawType = tokenAt(rawInputs, name, 'type');
    const type = rawType && isString(rawType) ? rawType.value : String(def.type ?? 'string');
    let value: Value | undefined = name in given ? (given[name] ?? null) : undefined;
    // The converter keeps boolean and string defaults only; a number's (or an expression's) is read here.
    const d = def.default ?? tokenAt(rawInputs, name, 'default');
    if (value === undefined && d !== undefined) {
      value = typeof d === 'object' && d !== null ? evaluateToken(d, contexts) : d;
    }
    if (value === undefined || value === null) {
      if (def.required)
        throw new WorkflowUsageError(
          `${where} ${name}: input "${name}" of ${file} is required and has no default`,
        );
      values[name] = type === 'boolean' ? false : type === 'number' ? 0 : '';
      continue;
    }
    const text = asText(value);
    if (type === 'boolean') {
      if (text !== 'true' && text !== 'false')
        throw new WorkflowUsageError(`${where} ${name}: "${text}" is not a boolean (true or false)`);
      values[name] = text === 'true';
    } else if (type === 'number') {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n))
        throw new WorkflowUsageError(`${where} ${name}: "${text}" is not a number`);
      values[name] = n;
    } else if (type === 'choice') {
      const options = def.options ?? [];
      if (!options.includes(text))
        throw new WorkflowUsageError(
          `${where} ${name}: "${text}" is not one of the choices (${options.join(', ')})`,
        );
      values[name] = text;
    } else values[name] = text;
  }
  return values;
}

/** The event's payload (`github.event`), as GitHub sends the fields the workflows read. */
export function eventPayload(
  event: string,
  github: Record<string, Value>,
  inputs: Record<string, Value>,
): Record<string, Value> {
  const repository = {
    full_name: github['repository'] ?? '',
    name: asText(github['repository'] ?? null).split('/')[1] ?? '',
    owner: { login: github['repository_owner'] ?? '' },
    default_branch: 'main',
  };
  const base: Record<string, Value> = { repository, sender: { login: github['actor'] ?? '' } };
  switch (event) {
    case 'push':
      return {
        ...base,
        ref: github['ref'] ?? '',
        after: github['sha'] ?? '',
        before: '0'.repeat(40),
        head_commit: { id: github['sha'] ?? '' },
      };
    case 'workflow_dispatch':
      return {
        ...base,
        ref: github['ref'] ?? '',
        inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, asText(v)])),
      };
    case 'workflow_run':
      return {
        ...base,
        action: 'completed',
        workflow_run: {
          conclusion: 'success',
          event: 'push',
          head_sha: github['sha'] ?? '',
          head_branch: github['ref_name'] ?? '',
          name: 'CI',
        },
      };
    case 'pull_request':
      return {
        ...base,
        action: 'synchronize',
        number: 1,
        pull_request: {
          number: 1,
          head: { sha: github['sha'] ?? '', ref: github['ref_name'] ?? '' },
          base: { ref: 'main' },
        },
      };
    default:
      return base;
  }
}

export function deepMerge(a: Record<string, Value>, b: Record<string, Value>): Record<string, Value> {
  const out: Record<string, Value> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      prev &&
      typeof v === 'object' &&
      typeof prev === 'object' &&
      !Array.isArray(v) &&
      !Array.isArray(prev)
        ? deepMerge(prev, v)
        : v;
  }
  return out;
}

/** `strategy.matrix` as its combinations (the product of the lists, then `exclude`, then `include`). */
export function expandMatrix(strategy: Value): Array<Record<string, Value> | undefined> {
  if (strategy === null || typeof strategy !== 'object' || Array.isArray(strategy)) return [undefined];
  const matrix = strategy['matrix'];
  if (matrix === undefined || matrix === null) return [undefined];
  if (typeof matrix !== 'object' || Array.isArray(matrix)) throw new Error('matrix must be a mapping');
  let combos: Array<Record<string, Value>> = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    if (key === 'include' || key === 'exclude') continue;
    if (!Array.isArray(values)) throw new Error(`matrix.${key} must be a list`);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  const matches = (combo: Record<string, Value>, part: Record<string, Value>): boolean =>
    Object.entries(part).every(([k, v]) => JSON.stringify(combo[k]) === JSON.stringify(v));
  const exclude = (Array.isArray(matrix['exclude']) ? matrix['exclude'] : []) as Array<Record<string, Value>>;
  combos = combos.filter((c) => !exclude.some((e) => matches(c, e)));
  const base = Object.keys(matrix).filter((k) => k !== 'include' && k !== 'exclude');
  for (const extra of (Array.isArray(matrix['include']) ? matrix['include'] : []) as Array<
    Record<string, Value>
  >) {
    const original = Object.fromEntries(Object.entries(extra).filter(([k]) => base.includes(k)));
    const targets = combos.filter((c) => Object.keys(c).length > 0 && matches(c, original));
    if (targets.length > 0 && Object.keys(original).length > 0)
      for (const t of targets) Object.assign(t, extra);
    else if (combos.length === 1 && Object.keys(combos[0] ?? {}).length === 0) combos = [{ ...extra }];
    else combos.push({ ...extra });
  }
  return combos.length === 1 && Object.keys(combos[0] ?? {}).length === 0 ? [undefined] : combos;
}
