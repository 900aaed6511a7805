/**
 * Label and field selectors as the API server parses them from `labelSelector=` / `fieldSelector=`.
 * Label syntax: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`.
 * Field syntax: `path=v`, `path==v`, `path!=v`, comma-separated.
 */

export type LabelRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'gt' | 'lt'; value: number };

export class SelectorError extends Error {}

export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  const src = (selector ?? '').trim();
  if (src === '') return [];
  const reqs: LabelRequirement[] = [];
  let i = 0;
  const skipSpaces = (): void => {
    while (i < src.length && src[i] === ' ') i++;
  };
  const readKey = (): string => {
    skipSpaces();
    const start = i;
    while (i < src.length && !' =!,()<>'.includes(src[i]!)) i++;
    return src.slice(start, i);
  };
  const readValue = (): string => {
    skipSpaces();
    const start = i;
    while (i < src.length && !' ,()'.includes(src[i]!)) i++;
    return src.slice(start, i);
  };
  const fail = (what: string): never => {
    throw new SelectorError(`unable to parse requirement: ${what}`);
  };
  while (i < src.length) {
    skipSpaces();
    let negated = false;
    if (src[i] === '!') {
      negated = true;
      i++;
    }
    const key = readKey();
    if (!key) fail(`found '${src[i] ?? ''}', expected: identifier`);
    validateLabelKey(key);
    skipSpaces();
    if (negated) {
      reqs.push({ key, op: 'notexists' });
    } else if (i >= src.length || src[i] === ',') {
      reqs.push({ key, op: 'exists' });
    } else if (src.startsWith('==', i) || src[i] === '=') {
      i += src.startsWith('==', i) ? 2 : 1;
      reqs.push({ key, op: 'eq', value: validateLabelValue(readValue()) });
    } else if (src.startsWith('!=', i)) {
      i += 2;
      reqs.push({ key, op: 'neq', value: validateLabelValue(readValue()) });
    } else if (src[i] === '>' || src[i] === '<') {
      const op = src[i] === '>' ? 'gt' : 'lt';
      i++;
      const raw = readValue();
      const value = Number(raw);
      if (!/^-?\d+$/.test(raw)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
      reqs.push({ key, op, value });
    } else if (src.startsWith('in', i) || src.startsWith('notin', i)) {
      const op = src.startsWith('in', i) ? 'in' : 'notin';
      i += op.length;
      skipSpaces();
      if (src[i] !== '(') fail(`found '${src[i] ?? ''}', expected: '('`);
      i++;
      const values: string[] = [];
      for (;;) {
        const v = readValue();
        values.push(validateLabelValue(v));
        skipSpaces();
        if (src[i] === ',') {
          i++;
          continue;
        }
        if (src[i] === ')') {
          i++;
          break;
        }
        fail(`found '${src[i] ?? ''}', expected: ',', ')'`);
      }
      reqs.push({ key, op, values });
    } else {
      fail(`found '${src[i] ?? ''}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    skipSpaces();
    if (i < src.length) {
      if (src[i] !== ',') fail(`found '${src[i] ?? ''}', expected: ',' or 'end of string'`);
      i++;
    }
  }
  return reqs;
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateLabelKey(key: string): void {
  const slash = key.indexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  if (prefix !== undefined && (!DNS_SUBDOMAIN.test(prefix) || prefix.length > 253)) {
    throw new SelectorError(`invalid label key "${key}": prefix part must be a DNS-1123 subdomain`);
  }
  if (!LABEL_NAME.test(name) || name.length > 63) {
    throw new SelectorError(
      `invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

function validateLabelValue(value: string): string {
  if (value !== '' && (!LABEL_NAME.test(value) || value.length > 63)) {
    throw new SelectorError(
      `invalid label value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
  return value;
}

export function matchesLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq':
        return has && v === r.value;
      case 'neq':
        return !has || v !== r.value;
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        return r.op === 'gt' ? Number(v) > r.value : Number(v) < r.value;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

export function parseFieldSelector(selector: string | undefined): FieldRequirement[] {
  const src = (selector ?? '').trim();
  if (src === '') return [];
  return splitUnescaped(src, ',').map((part) => {
    const m = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(part.trim());
    if (!m) throw new SelectorError(`invalid selector: '${src}'; can't understand '${part}'`);
    return {
      field: m[1]!,
      op: m[2] === '!=' ? 'neq' : 'eq',
      value: m[3]!.replace(/\\(.)/g, '$1'),
    };
  });
}

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1]!;
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Resolves a dotted field path (`metadata.name`, `involvedObject.kind`) to its string form. */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return JSON.stringify(cur);
}

export function matchesFields(reqs: FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === 'eq'));
}

/** Renders a `matchLabels`/`matchExpressions` LabelSelector as the string kubectl and the API use (`app=web`). */
export function formatLabelSelector(
  sel:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
): string {
  if (!sel) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.sort().join(',');
}

/** Whether a metav1.LabelSelector (matchLabels + matchExpressions) selects these labels. */
export function labelSelectorMatches(
  sel:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
