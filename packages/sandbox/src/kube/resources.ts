import type { Resource } from './store.js';

/** What the API server knows about each resource it serves. */
export interface ResourceInfo {
  resource: Resource;
  group: string; // '' for the core group
  version: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: string[];
}

export const RESOURCES: Record<Resource, ResourceInfo> = {
  namespaces: {
    resource: 'namespaces',
    group: '',
    version: 'v1',
    kind: 'Namespace',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    categories: [],
    subresources: ['status'],
  },
  pods: {
    resource: 'pods',
    group: '',
    version: 'v1',
    kind: 'Pod',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['log', 'status'],
  },
  events: {
    resource: 'events',
    group: '',
    version: 'v1',
    kind: 'Event',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    categories: [],
    subresources: [],
  },
  deployments: {
    resource: 'deployments',
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['scale', 'status'],
  },
  replicasets: {
    resource: 'replicasets',
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    singular: 'replicaset',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['scale', 'status'],
  },
  jobs: {
    resource: 'jobs',
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    singular: 'job',
    namespaced: true,
    shortNames: [],
    categories: ['all'],
    subresources: ['status'],
  },
  nodes: {
    resource: 'nodes',
    group: '',
    version: 'v1',
    kind: 'Node',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    categories: [],
    subresources: ['status'],
  },
  configmaps: {
    resource: 'configmaps',
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
    categories: [],
    subresources: [],
  },
};

export const ALL_RESOURCES = Object.keys(RESOURCES) as Resource[];

export function apiVersionOf(info: ResourceInfo): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** `deployments.apps`, `pods` — how Status messages name a resource. */
export function qualifiedName(info: ResourceInfo): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

/** `Deployment.apps`, `Pod` — how 422 messages name a kind. */
export function qualifiedKind(info: ResourceInfo): string {
  return info.group ? `${info.kind}.${info.group}` : info.kind;
}
