/**
 * /version, discovery (aggregated apidiscovery.k8s.io/v2 and the legacy lists) and the OpenAPI v3 stub
 * that lets `kubectl create -f` validate server-side (kubernetes-api.md §5).
 */
import { createHash } from 'node:crypto';
import { ALL_RESOURCES, RESOURCES, type ResourceInfo } from './resources.js';

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:03:42Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function subresourceKind(info: ResourceInfo, sub: string): { group: string; version: string; kind: string } {
  if (sub === 'scale') return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  return { group: info.group, version: info.version, kind: info.kind };
}

function subresourceVerbs(sub: string): string[] {
  if (sub === 'log') return ['get'];
  return ['get', 'patch', 'update'];
}

function groupsInOrder(): string[] {
  const groups: string[] = [];
  for (const r of ALL_RESOURCES) if (!groups.includes(RESOURCES[r].group)) groups.push(RESOURCES[r].group);
  return groups;
}

function resourcesOf(group: string): ResourceInfo[] {
  return ALL_RESOURCES.map((r) => RESOURCES[r]).filter((i) => i.group === group);
}

/** Which discovery form the Accept header asks for. */
export function discoveryFlavour(accept: string | undefined): 'v2' | 'v2beta1' | 'legacy' {
  const first = (accept ?? '').split(',')[0] ?? '';
  if (first.includes('as=APIGroupDiscoveryList')) return first.includes('v=v2beta1') ? 'v2beta1' : 'v2';
  return 'legacy';
}

/** GET /api (core=true) or /apis in the aggregated form. */
export function aggregatedDiscovery(core: boolean, apiVersion: 'v2' | 'v2beta1'): Record<string, unknown> {
  const groups = groupsInOrder().filter((g) => (core ? g === '' : g !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${apiVersion}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g, creationTimestamp: null },
      versions: [
        {
          version: 'v1',
          freshness: 'Current',
          resources: resourcesOf(g).map((info) => ({
            resource: info.resource,
            responseKind: { group: info.group, version: info.version, kind: info.kind },
            scope: info.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: info.singular,
            verbs: VERBS,
            ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
            ...(info.categories.length ? { categories: info.categories } : {}),
            ...(info.subresources.length
              ? {
                  subresources: info.subresources.map((sub) => ({
                    subresource: sub,
                    responseKind: subresourceKind(info, sub),
                    verbs: subresourceVerbs(sub),
                  })),
                }
              : {}),
          })),
        },
      ],
    })),
  };
}

export function legacyApiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(g: string): Record<string, unknown> {
  const gv = { groupVersion: `${g}/v1`, version: 'v1' };
  return { name: g, versions: [gv], preferredVersion: gv };
}

export function legacyApiGroupList(): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupsInOrder()
      .filter((g) => g !== '')
      .map(groupEntry),
  };
}

export function legacyApiGroup(group: string): Record<string, unknown> | undefined {
  if (!groupsInOrder().includes(group) || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group) };
}

/** GET /api/v1, /apis/apps/v1, /apis/batch/v1. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  if (version !== 'v1' || !groupsInOrder().includes(group)) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const info of resourcesOf(group)) {
    resources.push({
      name: info.resource,
      singularName: info.singular,
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: VERBS,
      ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
      ...(info.categories.length ? { categories: info.categories } : {}),
    });
    for (const sub of info.subresources) {
      const k = subresourceKind(info, sub);
      resources.push({
        name: `${info.resource}/${sub}`,
        singularName: '',
        namespaced: info.namespaced,
        ...(sub === 'scale' ? { group: k.group, version: k.version } : {}),
        kind: k.kind,
        verbs: subresourceVerbs(sub),
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/v1` : 'v1', resources };
}

function gvPath(group: string): string {
  return group ? `apis/${group}/v1` : 'api/v1';
}

/** One OpenAPI v3 document per group version: patch operations carrying the GVK and `fieldValidation`. */
export function openApiGroupVersion(path: string): Record<string, unknown> | undefined {
  const group = groupsInOrder().find((g) => gvPath(g) === path);
  if (group === undefined) return undefined;
  const paths: Record<string, unknown> = {};
  const queryParam = (name: string, description: string) => ({
    name,
    in: 'query',
    description,
    schema: { type: 'string', uniqueItems: true },
  });
  const params = [
    queryParam('dryRun', 'When present, indicates that modifications should not be persisted.'),
    queryParam(
      'fieldManager',
      'fieldManager is a name associated with the actor or entity that is making these changes.',
    ),
    queryParam(
      'fieldValidation',
      'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
    ),
  ];
  for (const info of resourcesOf(group)) {
    const gvk = { group: info.group, version: info.version, kind: info.kind };
    const base = info.namespaced
      ? `/${path}/namespaces/{namespace}/${info.resource}`
      : `/${path}/${info.resource}`;
    const op = (action: string, verb: string) => ({
      operationId: `${verb}${info.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: action === 'patch' || action === 'post' || action === 'put' ? params : [],
      responses: { '200': { description: 'OK' } },
    });
    paths[base] = { get: op('list', 'list'), post: op('post', 'create') };
    paths[`${base}/{name}`] = {
      get: op('get', 'read'),
      put: op('put', 'replace'),
      patch: op('patch', 'patch'),
      delete: op('delete', 'delete'),
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: VERSION_INFO.gitVersion },
    paths,
    components: { schemas: {} },
  };
}

export function openApiRoot(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const g of groupsInOrder()) {
    const p = gvPath(g);
    const hash = createHash('sha512')
      .update(JSON.stringify(openApiGroupVersion(p)))
      .digest('hex')
      .slice(0, 128)
      .toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}
