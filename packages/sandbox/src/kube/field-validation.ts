/**
 * `fieldValidation=Strict|Warn|Ignore` (kubectl create/apply send Strict): unknown fields in a request
 * body are an error (400 `strict decoding error: unknown field "spec.foo"`), a `Warning` header, or
 * nothing. The schema lists the fields of the types deploy manifests use; sub-objects it does not model
 * (probes, affinity, volumes, status…) accept anything.
 */
import type { Resource } from './store.js';

/** A known-fields node: field → sub-schema; ANY accepts any value; MAP is a free-form string map. */
type Schema = { [field: string]: Schema | typeof ANY | typeof MAP } | { items: Schema };
const ANY = 'any' as const;
const MAP = 'map' as const;

const fields = (names: string, extra: Record<string, Schema | typeof ANY | typeof MAP> = {}): Schema => {
  const out: Record<string, Schema | typeof ANY | typeof MAP> = {};
  for (const n of names.split(/\s+/).filter(Boolean)) out[n] = ANY;
  return { ...out, ...extra };
};
const list = (item: Schema): Schema => ({ items: item });

const OWNER_REF = fields('apiVersion kind name uid controller blockOwnerDeletion');
const OBJECT_META = fields(
  'name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp deletionGracePeriodSeconds finalizers managedFields',
  { labels: MAP, annotations: MAP, ownerReferences: list(OWNER_REF) },
);
const LABEL_SELECTOR = fields('', {
  matchLabels: MAP,
  matchExpressions: list(fields('key operator values')),
});
const ENV_VAR = fields('name value valueFrom');
const CONTAINER = fields(
  'name image command args workingDir ports envFrom resources resizePolicy restartPolicy volumeMounts volumeDevices livenessProbe readinessProbe startupProbe lifecycle terminationMessagePath terminationMessagePolicy imagePullPolicy securityContext stdin stdinOnce tty',
  { env: list(ENV_VAR) },
);
const POD_SPEC = fields(
  'volumes ephemeralContainers restartPolicy terminationGracePeriodSeconds activeDeadlineSeconds dnsPolicy serviceAccountName serviceAccount automountServiceAccountToken nodeName hostNetwork hostPID hostIPC shareProcessNamespace securityContext imagePullSecrets hostname subdomain affinity schedulerName tolerations hostAliases priorityClassName priority dnsConfig readinessGates runtimeClassName enableServiceLinks preemptionPolicy overhead topologySpreadConstraints setHostnameAsFQDN os hostUsers schedulingGates resourceClaims resources',
  { containers: list(CONTAINER), initContainers: list(CONTAINER), nodeSelector: MAP },
);
const POD_TEMPLATE = fields('', { metadata: OBJECT_META, spec: POD_SPEC });
const TOP = (spec: Schema): Schema => fields('apiVersion kind status', { metadata: OBJECT_META, spec });

const SCHEMAS: Record<Resource, Schema> = {
  deployments: TOP(
    fields('replicas minReadySeconds revisionHistoryLimit paused progressDeadlineSeconds', {
      selector: LABEL_SELECTOR,
      template: POD_TEMPLATE,
      strategy: fields('type', { rollingUpdate: fields('maxUnavailable maxSurge') }),
    }),
  ),
  replicasets: TOP(fields('replicas minReadySeconds', { selector: LABEL_SELECTOR, template: POD_TEMPLATE })),
  jobs: TOP(
    fields(
      'parallelism completions activeDeadlineSeconds podFailurePolicy successPolicy backoffLimit backoffLimitPerIndex maxFailedIndexes manualSelector ttlSecondsAfterFinished completionMode suspend podReplacementPolicy managedBy',
      { selector: LABEL_SELECTOR, template: POD_TEMPLATE },
    ),
  ),
  pods: TOP(POD_SPEC),
  namespaces: TOP(fields('finalizers')),
  nodes: TOP(fields('podCIDR podCIDRs providerID unschedulable taints configSource externalID')),
  configmaps: fields('apiVersion kind immutable', { metadata: OBJECT_META, data: MAP, binaryData: MAP }),
  events: fields(
    'apiVersion kind involvedObject reason message source firstTimestamp lastTimestamp count type eventTime series action related reportingComponent reportingInstance',
    { metadata: OBJECT_META },
  ),
};

function walk(
  value: unknown,
  schema: Schema | typeof ANY | typeof MAP,
  path: string,
  out: string[],
  prune: boolean,
): void {
  if (schema === ANY || value === null || typeof value !== 'object') return;
  if (schema === MAP) return;
  if ('items' in schema && Object.keys(schema).length === 1) {
    if (Array.isArray(value))
      value.forEach((v, i) => walk(v, (schema as { items: Schema }).items, `${path}[${i}]`, out, prune));
    return;
  }
  if (Array.isArray(value)) return;
  const known = schema as Record<string, Schema | typeof ANY | typeof MAP>;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const sub = known[k];
    const p = path ? `${path}.${k}` : k;
    if (sub === undefined) {
      out.push(p);
      if (prune) delete (value as Record<string, unknown>)[k];
    } else walk(v, sub, p, out, prune);
  }
}

/** Paths of the fields of `body` the resource's schema does not know, e.g. `spec.template.spec.containers[0].imagee`. */
export function unknownFields(resource: Resource, body: unknown, prune = false): string[] {
  const out: string[] = [];
  walk(body, SCHEMAS[resource], '', out, prune);
  return out;
}
