/**
 * The subset of apiserver validation that deploy tooling runs into (pkg/apis/{apps,batch,core}/validation):
 * missing selector/containers/images, a selector that does not match the template, bad names,
 * restartPolicy per kind, immutable fields. Each failure becomes a `causes[]` entry of the 422 Status.
 */
import type { KubeObject, Resource } from './store.js';
import { labelSelectorMatches } from './selectors.js';

export interface Cause {
  reason:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueForbidden'
    | 'FieldValueDuplicate';
  message: string;
  field: string;
}

type Obj = Record<string, any>;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

function goValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>).map(
      ([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`,
    );
    return `map[string]string{${entries.join(', ')}}`;
  }
  return JSON.stringify(v);
}

const required = (field: string, detail?: string): Cause => ({
  reason: 'FieldValueRequired',
  message: detail ? `Required value: ${detail}` : 'Required value',
  field,
});
const invalid = (field: string, value: unknown, detail: string): Cause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${goValue(value)}: ${detail}`,
  field,
});
const notSupported = (field: string, value: unknown, supported: string[]): Cause => ({
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  field,
});

export function validateObject(resource: Resource, obj: KubeObject, old?: KubeObject): Cause[] {
  const causes: Cause[] = [];
  const name = obj.metadata.name;
  if (!name) causes.push(required('metadata.name', 'name or generateName is required'));
  else if (resource === 'namespaces') {
    if (!DNS1123_LABEL.test(name) || name.length > 63) causes.push(invalid('metadata.name', name, LABEL_MSG));
  } else if (resource !== 'events' && (!DNS1123_SUBDOMAIN.test(name) || name.length > 253)) {
    causes.push(invalid('metadata.name', name, SUBDOMAIN_MSG));
  }
  const spec: Obj = (obj.spec ?? {}) as Obj;
  switch (resource) {
    case 'deployments':
    case 'replicasets':
      validateReplicated(resource, spec, causes);
      break;
    case 'jobs':
      validateJob(spec, causes);
      break;
    case 'pods':
      validatePodSpec(spec, 'spec', causes, ['Always', 'OnFailure', 'Never']);
      break;
    case 'namespaces':
    case 'events':
    case 'nodes':
    case 'configmaps':
      break;
  }
  if (old) validateImmutable(resource, obj, old, causes);
  return causes;
}

function validateReplicated(resource: Resource, spec: Obj, causes: Cause[]): void {
  if (typeof spec.replicas === 'number' && spec.replicas < 0) {
    causes.push(invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  }
  const selector = spec.selector as Obj | undefined;
  const templateLabels = spec.template?.metadata?.labels as Record<string, string> | undefined;
  if (!selector) causes.push(required('spec.selector'));
  else if (
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  ) {
    causes.push(
      invalid(
        'spec.selector',
        selector,
        `empty selector is invalid for ${resource === 'deployments' ? 'deployment' : 'replicaset'}`,
      ),
    );
  } else if (!labelSelectorMatches(selector, templateLabels)) {
    causes.push(
      invalid(
        'spec.template.metadata.labels',
        templateLabels ?? {},
        '`selector` does not match template `labels`',
      ),
    );
  }
  if (resource === 'deployments') {
    const strategy = spec.strategy as Obj | undefined;
    if (strategy?.type === 'Recreate' && strategy.rollingUpdate) {
      causes.push({
        reason: 'FieldValueForbidden',
        message: "Forbidden: may not be specified when strategy `type` is 'Recreate'",
        field: 'spec.strategy.rollingUpdate',
      });
    } else if (strategy?.type && !['Recreate', 'RollingUpdate'].includes(strategy.type)) {
      causes.push(notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
    }
    if (
      typeof spec.progressDeadlineSeconds === 'number' &&
      typeof spec.minReadySeconds === 'number' &&
      spec.progressDeadlineSeconds <= spec.minReadySeconds
    ) {
      causes.push(
        invalid(
          'spec.progressDeadlineSeconds',
          spec.progressDeadlineSeconds,
          'must be greater than minReadySeconds',
        ),
      );
    }
  }
  if (!spec.template) causes.push(required('spec.template'));
  else validatePodSpec((spec.template.spec ?? {}) as Obj, 'spec.template.spec', causes, ['Always']);
}

function validateJob(spec: Obj, causes: Cause[]): void {
  for (const f of [
    'parallelism',
    'completions',
    'backoffLimit',
    'activeDeadlineSeconds',
    'ttlSecondsAfterFinished',
  ] as const) {
    if (typeof spec[f] === 'number' && spec[f] < 0)
      causes.push(invalid(`spec.${f}`, spec[f], 'must be greater than or equal to 0'));
  }
  if (!spec.template) causes.push(required('spec.template'));
  else
    validatePodSpec((spec.template.spec ?? {}) as Obj, 'spec.template.spec', causes, ['OnFailure', 'Never']);
  if (
    spec.selector &&
    spec.template &&
    !labelSelectorMatches(spec.selector, spec.template.metadata?.labels)
  ) {
    causes.push(
      invalid(
        'spec.template.metadata.labels',
        spec.template.metadata?.labels ?? {},
        '`selector` does not match template `labels`',
      ),
    );
  }
}

function validatePodSpec(spec: Obj, path: string, causes: Cause[], restartPolicies: string[]): void {
  const containers = spec.containers as Obj[] | undefined;
  if (!Array.isArray(containers) || containers.length === 0) causes.push(required(`${path}.containers`));
  for (const list of ['initContainers', 'containers'] as const) {
    const seen = new Set<string>();
    const items = spec[list] as Obj[] | undefined;
    if (!Array.isArray(items)) continue;
    items.forEach((c, i) => {
      const p = `${path}.${list}[${i}]`;
      if (!c || typeof c !== 'object') {
        causes.push(required(p));
        return;
      }
      if (!c.name) causes.push(required(`${p}.name`));
      else if (!DNS1123_LABEL.test(String(c.name)) || String(c.name).length > 63) {
        causes.push(invalid(`${p}.name`, c.name, LABEL_MSG));
      } else if (seen.has(c.name)) {
        causes.push({
          reason: 'FieldValueDuplicate',
          message: `Duplicate value: ${JSON.stringify(c.name)}`,
          field: `${p}.name`,
        });
      }
      if (c.name) seen.add(String(c.name));
      if (!c.image || typeof c.image !== 'string' || c.image.trim() === '')
        causes.push(required(`${p}.image`));
      if (c.imagePullPolicy && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
        causes.push(
          notSupported(`${p}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']),
        );
      }
    });
  }
  if (spec.restartPolicy !== undefined && !restartPolicies.includes(spec.restartPolicy)) {
    causes.push(notSupported(`${path}.restartPolicy`, spec.restartPolicy, restartPolicies));
  }
}

function validateImmutable(resource: Resource, obj: KubeObject, old: KubeObject, causes: Cause[]): void {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  if (['deployments', 'replicasets', 'jobs'].includes(resource)) {
    if (!same(obj.spec?.selector, old.spec?.selector)) {
      causes.push(invalid('spec.selector', obj.spec?.selector, 'field is immutable'));
    }
  }
  if (resource === 'jobs') {
    for (const f of ['completions', 'completionMode']) {
      if (!same(obj.spec?.[f], old.spec?.[f]))
        causes.push(invalid(`spec.${f}`, obj.spec?.[f], 'field is immutable'));
    }
    if (!same(obj.spec?.template, old.spec?.template)) {
      causes.push(invalid('spec.template', '…', 'field is immutable'));
    }
  }
}
