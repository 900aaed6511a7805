/**
 * The three PATCH flavours the API server accepts: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and
 * strategic merge patch (the minimum in kubernetes-api.md §6: lists merged by key, directives honoured).
 */

export class PatchError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 7386. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v) as Json;
  }
  return out;
}

/** RFC 6902. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops))
    throw new PatchError(400, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc: unknown = structuredClone(target);
  for (const raw of ops) {
    if (!isObject(raw)) throw new PatchError(400, 'invalid JSON patch operation');
    const op = typeof raw.op === 'string' ? raw.op : JSON.stringify(raw.op ?? null);
    const path = raw.path;
    if (typeof path !== 'string')
      throw new PatchError(422, `missing path in operation ${JSON.stringify(raw)}`);
    switch (op) {
      case 'add':
        doc = addAt(doc, path, structuredClone(raw.value ?? null));
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace':
        getAt(doc, path); // must exist
        doc = removeAt(doc, path);
        doc = addAt(doc, path, structuredClone(raw.value ?? null));
        break;
      case 'move': {
        if (typeof raw.from !== 'string') throw new PatchError(422, 'missing from in move operation');
        const v = getAt(doc, raw.from);
        doc = removeAt(doc, raw.from);
        doc = addAt(doc, path, v);
        break;
      }
      case 'copy': {
        if (typeof raw.from !== 'string') throw new PatchError(422, 'missing from in copy operation');
        doc = addAt(doc, path, structuredClone(getAt(doc, raw.from)));
        break;
      }
      case 'test': {
        const v = getAt(doc, path);
        if (JSON.stringify(sortKeys(v)) !== JSON.stringify(sortKeys(raw.value))) {
          throw new PatchError(422, `testing value ${path} failed: test failed`);
        }
        break;
      }
      default:
        throw new PatchError(422, `Unexpected kind: ${op}`);
    }
  }
  return doc;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(422, `JSON pointer must start with '/': ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of parsePointer(path)) {
    if (Array.isArray(cur)) {
      const i = Number(part);
      if (!/^\d+$/.test(part) || i >= cur.length)
        throw new PatchError(
          422,
          `replace operation does not apply: doc is missing path: "${path}": missing value`,
        );
      cur = cur[i];
    } else if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, part)) {
      cur = cur[part];
    } else {
      throw new PatchError(
        422,
        `replace operation does not apply: doc is missing path: "${path}": missing value`,
      );
    }
  }
  return cur;
}

function parentOf(doc: unknown, path: string): { parent: unknown; last: string } {
  const parts = parsePointer(path);
  if (parts.length === 0) return { parent: undefined, last: '' };
  const last = parts.pop()!;
  let cur: unknown = doc;
  for (const part of parts) {
    if (Array.isArray(cur) && /^\d+$/.test(part) && Number(part) < cur.length) cur = cur[Number(part)];
    else if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, part)) cur = cur[part];
    else
      throw new PatchError(
        422,
        `add operation does not apply: doc is missing path: "${path}": missing value`,
      );
  }
  return { parent: cur, last };
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  if (path === '') return value;
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    if (last === '-') parent.push(value);
    else {
      const i = Number(last);
      if (!/^\d+$/.test(last) || i > parent.length)
        throw new PatchError(422, `add operation does not apply: index out of bounds: ${path}`);
      parent.splice(i, 0, value as Json);
    }
  } else if (isObject(parent)) {
    parent[last] = value as Json;
  } else {
    throw new PatchError(422, `add operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!/^\d+$/.test(last) || i >= parent.length)
      throw new PatchError(
        422,
        `remove operation does not apply: doc is missing path: "${path}": missing value`,
      );
    parent.splice(i, 1);
  } else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) {
    delete parent[last];
  } else {
    throw new PatchError(
      422,
      `remove operation does not apply: doc is missing path: "${path}": missing value`,
    );
  }
  return doc;
}

/** patchMergeKey by field name, as the Go struct tags of the core/apps/batch types declare them. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  imagePullSecrets: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
};

/** Lists with patchStrategy merge whose items are primitives (union, not replace). */
const PRIMITIVE_MERGE_LISTS = new Set(['finalizers']);

/** Strategic merge patch (kubernetes-api.md §6). */
export function strategicMergePatch(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw new PatchError(400, 'strategic merge patch must be a JSON object');
  return stripDirectives(smpMap(isObject(original) ? structuredClone(original) : {}, patch));
}

function smpMap(orig: JsonObject, patch: JsonObject): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return rest;
  }
  const out: JsonObject = orig;
  const retain = patch.$retainKeys;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const list = out[field];
      if (Array.isArray(list) && Array.isArray(v)) {
        out[field] = list.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
      }
      continue;
    }
    if (v === null) {
      delete out[k];
    } else if (isObject(v)) {
      const merged = smpMap(isObject(out[k]) ? out[k] : {}, v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) {
      const key = MERGE_KEYS[k];
      const cur = out[k];
      if (key && v.every((x) => isObject(x))) {
        out[k] = mergeList(Array.isArray(cur) ? cur : [], v, key);
      } else if (PRIMITIVE_MERGE_LISTS.has(k) && Array.isArray(cur)) {
        const union = [...cur];
        for (const x of v) if (!union.some((y) => JSON.stringify(y) === JSON.stringify(x))) union.push(x);
        out[k] = union;
      } else {
        out[k] = v;
      }
    } else {
      out[k] = v;
    }
  }
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/') || !Array.isArray(order)) continue;
    const field = k.slice('$setElementOrder/'.length);
    const list = out[field];
    if (Array.isArray(list)) out[field] = applyOrder(list, order, MERGE_KEYS[field]);
  }
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

function mergeList(orig: Json[], patch: JsonObject[], key: string): Json[] {
  if (patch.some((p) => p.$patch === 'replace')) {
    return patch.filter((p) => p.$patch !== 'replace');
  }
  const out = [...orig];
  for (const item of patch) {
    const k = item[key];
    const idx = out.findIndex((o) => isObject(o) && JSON.stringify(o[key]) === JSON.stringify(k));
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) {
      const merged = smpMap(structuredClone(out[idx]) as JsonObject, item);
      if (merged === undefined) out.splice(idx, 1);
      else out[idx] = merged;
    } else {
      out.push(item);
    }
  }
  return out;
}

function applyOrder(list: Json[], order: Json[], key: string | undefined): Json[] {
  const keyOf = (x: Json): string => JSON.stringify(key && isObject(x) ? x[key] : x);
  const wanted = order.map((o) => (key && isObject(o) ? JSON.stringify(o[key]) : JSON.stringify(o)));
  const listed: Json[] = [];
  for (const w of wanted) {
    const found = list.find((x) => keyOf(x) === w);
    if (found !== undefined) listed.push(found);
  }
  const rest = list.filter((x) => !wanted.includes(keyOf(x)));
  return [...listed, ...rest];
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x) as Json;
    return out;
  }
  return v;
}

export type PatchType = 'json' | 'merge' | 'strategic';

export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/json-patch+json') return 'json';
  if (ct === 'application/merge-patch+json') return 'merge';
  if (ct === 'application/strategic-merge-patch+json') return 'strategic';
  return undefined;
}

export function applyPatch(type: PatchType, original: unknown, patch: unknown): unknown {
  if (type === 'json') return jsonPatch(original, patch);
  if (type === 'merge') return mergePatch(original, patch);
  return strategicMergePatch(original, patch);
}
