/** Parses a Kubernetes API path (`/apis/apps/v1/namespaces/ns/deployments/web/scale`) into its parts. */
import { ALL_RESOURCES, RESOURCES, type ResourceInfo } from './resources.js';
import type { Resource } from './store.js';

export interface ResourcePath {
  info: ResourceInfo;
  resource: Resource;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Legacy `/api/v1/watch/...` form. */
  watchPrefix: boolean;
}

export type ParsedPath =
  | { kind: 'resource'; path: ResourcePath }
  | { kind: 'group-version'; group: string; version: string }
  | { kind: 'unknown' };

export function parseApiPath(pathname: string): ParsedPath {
  const segs = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else {
    return { kind: 'unknown' };
  }
  if (rest.length === 0) return { kind: 'group-version', group, version };
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  const inGroup = (name: string | undefined): ResourceInfo | undefined => {
    const r = ALL_RESOURCES.find((x) => x === name);
    if (!r) return undefined;
    const info = RESOURCES[r];
    return info.group === group && info.version === version ? info : undefined;
  };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && inGroup(rest[2])?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const info = inGroup(rest[0]);
  if (!info || rest.length > 3) return { kind: 'unknown' };
  if (namespace !== undefined && !info.namespaced) return { kind: 'unknown' };
  const name = rest[1];
  const subresource = rest[2];
  if (subresource !== undefined && !info.subresources.includes(subresource)) return { kind: 'unknown' };
  return {
    kind: 'resource',
    path: {
      info,
      resource: info.resource,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(subresource !== undefined ? { subresource } : {}),
      watchPrefix,
    },
  };
}
