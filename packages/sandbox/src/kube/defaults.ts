/**
 * Defaulting as the API server applies it on every write (apps/v1, batch/v1 and core/v1 defaults.go,
 * plus the Job strategy's generated selector). RS templates must carry these, because `rollout undo`
 * sends the fully defaulted template back.
 */
import type { KubeObject, Resource } from './store.js';

type Obj = Record<string, any>;

export function applyDefaults(resource: Resource, obj: KubeObject): void {
  switch (resource) {
    case 'namespaces':
      obj.metadata.labels = {
        ...(obj.metadata.labels ?? {}),
        'kubernetes.io/metadata.name': obj.metadata.name,
      };
      obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) };
      obj.status = { phase: 'Active', ...(obj.status ?? {}) };
      return;
    case 'deployments':
      defaultDeployment(obj);
      return;
    case 'replicasets': {
      const spec: Obj = (obj.spec ??= {});
      spec.replicas ??= 1;
      defaultTemplate((spec.template ??= {}));
      obj.status ??= { replicas: 0 };
      return;
    }
    case 'jobs':
      defaultJob(obj);
      return;
    case 'pods': {
      const spec: Obj = (obj.spec ??= {});
      defaultPodSpec(spec);
      spec.serviceAccountName ??= 'default';
      spec.serviceAccount ??= spec.serviceAccountName;
      spec.enableServiceLinks ??= true;
      spec.priority ??= 0;
      spec.preemptionPolicy ??= 'PreemptLowerPriority';
      obj.status ??= {};
      obj.status.phase ??= 'Pending';
      obj.status.qosClass ??= 'BestEffort';
      return;
    }
    case 'events':
    case 'nodes':
    case 'configmaps':
      return;
  }
}

function defaultDeployment(obj: KubeObject): void {
  const spec: Obj = (obj.spec ??= {});
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ??= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultTemplate((spec.template ??= {}));
  obj.status ??= {};
}

function defaultJob(obj: KubeObject): void {
  const spec: Obj = (obj.spec ??= {});
  spec.parallelism ??= 1;
  spec.completions ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  spec.manualSelector ??= false;
  const template: Obj = (spec.template ??= {});
  template.metadata ??= {};
  if (!spec.manualSelector && obj.metadata.uid) {
    // pkg/registry/batch/job/strategy.go generateSelector: the template gets the controller-uid and
    // job-name labels (both spellings), and the selector matches the uid.
    template.metadata.labels = {
      ...(template.metadata.labels ?? {}),
      'batch.kubernetes.io/controller-uid': obj.metadata.uid,
      'batch.kubernetes.io/job-name': obj.metadata.name,
      'controller-uid': obj.metadata.uid,
      'job-name': obj.metadata.name,
    };
    spec.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': obj.metadata.uid } };
  }
  if (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0) {
    if (template.metadata.labels) obj.metadata.labels = { ...template.metadata.labels };
  }
  defaultTemplate(template);
  obj.status ??= {};
}

export function defaultTemplate(template: Obj): void {
  template.metadata ??= {};
  if (template.metadata.creationTimestamp === undefined) template.metadata.creationTimestamp = null;
  defaultPodSpec((template.spec ??= {}));
}

export function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const list of ['initContainers', 'containers'] as const) {
    if (Array.isArray(spec[list]))
      for (const c of spec[list] as Obj[]) if (c && typeof c === 'object') defaultContainer(c);
  }
}

function defaultContainer(c: Obj): void {
  c.resources ??= {};
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.imagePullPolicy === undefined && typeof c.image === 'string')
    c.imagePullPolicy = defaultPullPolicy(c.image);
  if (Array.isArray(c.ports))
    for (const p of c.ports as Obj[]) if (p && typeof p === 'object') p.protocol ??= 'TCP';
}

/** Always for `:latest` or an untagged image, else IfNotPresent (a digest counts as pinned). */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return 'Always';
  return image.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}
