import type { Deployment, KubeList, LabelSelector, PodTemplateSpec, ReplicaSet } from './types.js';
import type { Transport } from './transport.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** `app=web,tier in (a,b),!legacy` — a LabelSelector as the `labelSelector` query parameter. */
export function selectorToString(selector: LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) parts.push(`${key}=${value}`);
  for (const expression of selector?.matchExpressions ?? []) {
    const values = [...(expression.values ?? [])].sort().join(',');
    switch (expression.operator) {
      case 'In':
        parts.push(`${expression.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${expression.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(expression.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${expression.key}`);
        break;
      default:
        throw new Error(`Unknown label selector operator "${expression.operator}".`);
    }
  }
  return parts.join(',');
}

/** Drops what apimachinery's Semantic.DeepEqual treats as absent: null, empty lists and empty maps. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    return items.length === 0 ? undefined : items;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const child = normalize((value as Record<string, unknown>)[key]);
      if (child !== undefined) out[key] = child;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value === null ? undefined : value;
}

/** A template without the `pod-template-hash` label the ReplicaSet controller adds. */
export function withoutHashLabel(template: PodTemplateSpec): PodTemplateSpec {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH];
  }
  return copy;
}

/** kubectl's EqualIgnoreHash: the two pod templates are equal once the hash label is removed. */
export function templatesEqualIgnoringHash(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  return JSON.stringify(normalize(withoutHashLabel(a))) === JSON.stringify(normalize(withoutHashLabel(b)));
}

/** metav1.IsControlledBy: a controller ownerReference carrying the deployment's uid. */
export function isControlledBy(replicaSet: ReplicaSet, deployment: Deployment): boolean {
  const uid = deployment.metadata.uid;
  return (replicaSet.metadata.ownerReferences ?? []).some(
    (ref) => ref.controller === true && ref.uid === uid,
  );
}

/** ReplicaSets of the deployment's selector that it controls (follows `continue`). */
export async function listOwnedReplicaSets(
  conn: Pick<Transport, 'request'>,
  deployment: Deployment,
  signal?: AbortSignal,
): Promise<ReplicaSet[]> {
  const namespace = deployment.metadata.namespace ?? 'default';
  const items: ReplicaSet[] = [];
  let token: string | undefined;
  do {
    const list: KubeList<ReplicaSet> = await conn.request(
      'GET',
      `/apis/apps/v1/namespaces/${namespace}/replicasets`,
      {
        query: { labelSelector: selectorToString(deployment.spec.selector), continue: token },
        signal,
      },
    );
    items.push(...list.items);
    token = list.metadata.continue || undefined;
  } while (token);
  return items.filter((rs) => isControlledBy(rs, deployment));
}

function createdAt(rs: ReplicaSet): string {
  return rs.metadata.creationTimestamp ?? '';
}

/** The deployment's new ReplicaSet: the oldest owned one whose template equals the deployment's. */
export function findNewReplicaSet(deployment: Deployment, owned: ReplicaSet[]): ReplicaSet | undefined {
  const sorted = [...owned].sort(
    (a, b) =>
      createdAt(a).localeCompare(createdAt(b)) ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  return sorted.find((rs) => templatesEqualIgnoringHash(rs.spec.template, deployment.spec.template));
}
