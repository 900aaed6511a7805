/**
 * The verbs on a resource path: get/list (JSON or Table), create, update (PUT), patch, delete,
 * deletecollection, and the `/scale` and `/status` subresources, with `dryRun=All` everywhere.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readBody, readJson, sendJson } from './http-util.js';
import { decodeKubeProtobuf, isProtobuf } from './protobuf.js';
import { unknownFields } from './field-validation.js';
import { applyPatch, PatchError, patchTypeOf } from './patch.js';
import { apiVersionOf, qualifiedName } from './resources.js';
import type { ResourcePath } from './routes.js';
import { formatLabelSelector } from './selectors.js';
import { StoreError, type KubeObject, type ObjectStore } from './store.js';
import { toTable, wantsTable, type IncludeObject } from './tables.js';

export interface HandlerContext {
  store: ObjectStore;
  now: () => Date;
}

type Query = URLSearchParams;

function isDryRun(q: Query, body?: unknown): boolean {
  if (q.getAll('dryRun').includes('All')) return true;
  const d = (body as { dryRun?: unknown } | undefined)?.dryRun;
  return Array.isArray(d) && d.includes('All');
}

function includeObject(q: Query): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function mustGet(ctx: HandlerContext, p: ResourcePath): KubeObject {
  const o = ctx.store.get(p.resource, p.namespace, p.name!);
  if (!o) throw ctx.store.notFound(p.resource, p.name!);
  return o;
}

function requireNamespace(ctx: HandlerContext, p: ResourcePath): void {
  if (!p.info.namespaced) return;
  if (!p.namespace) throw new HttpError(404, 'the server could not find the requested resource', 'NotFound');
  if (!ctx.store.get('namespaces', undefined, p.namespace)) {
    throw new StoreError(404, 'NotFound', `namespaces "${p.namespace}" not found`, {
      name: p.namespace,
      kind: 'namespaces',
    });
  }
}

/** autoscaling/v1 Scale view of a Deployment or ReplicaSet. */
export function toScale(o: KubeObject): KubeObject {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector: formatLabelSelector(o.spec?.selector) },
  };
}

function sendObject(
  ctx: HandlerContext,
  req: IncomingMessage,
  q: Query,
  res: ServerResponse,
  p: ResourcePath,
  o: KubeObject,
  code = 200,
  warnings: string[] = [],
): void {
  if (warnings.length > 0)
    res.setHeader(
      'Warning',
      warnings.map((w) => `299 - ${JSON.stringify(w)}`),
    );
  if (wantsTable(req.headers.accept) && p.subresource === undefined) {
    sendJson(res, code, toTable(p.resource, [o], { now: ctx.now(), includeObject: includeObject(q) }));
  } else {
    sendJson(res, code, o);
  }
}

/**
 * fieldValidation (default Warn): Strict rejects unknown fields with 400, Warn returns them as
 * `Warning` headers, Ignore drops them silently. Returns the warnings.
 */
function checkFields(q: Query, p: ResourcePath, body: unknown): string[] {
  if (p.subresource !== undefined) return [];
  const mode = q.get('fieldValidation') ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(mode)) {
    throw new HttpError(400, `fieldValidation must be one of Ignore, Warn or Strict, got ${mode}`);
  }
  // Decoding drops unknown fields unless Strict refuses them.
  const unknown = unknownFields(p.resource, body, mode !== 'Strict');
  if (mode === 'Ignore') return [];
  if (unknown.length === 0) return [];
  if (mode === 'Strict') {
    const kind = p.info.kind;
    throw new HttpError(
      400,
      `${kind} in version "${p.info.version}" cannot be handled as a ${kind}: strict decoding error: ${unknown.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ')}`,
      'BadRequest',
    );
  }
  return unknown.map((f) => `unknown field ${JSON.stringify(f)}`);
}

export function handleGet(
  ctx: HandlerContext,
  req: IncomingMessage,
  q: Query,
  res: ServerResponse,
  p: ResourcePath,
): void {
  const o = mustGet(ctx, p);
  if (p.subresource === 'scale') sendJson(res, 200, toScale(o));
  else sendObject(ctx, req, q, res, p, o);
}

export function handleList(
  ctx: HandlerContext,
  req: IncomingMessage,
  q: Query,
  res: ServerResponse,
  p: ResourcePath,
): void {
  const rv = ctx.store.currentResourceVersion();
  const items = ctx.store.list(p.resource, p.namespace, {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
  });
  if (wantsTable(req.headers.accept)) {
    sendJson(
      res,
      200,
      toTable(p.resource, items, { now: ctx.now(), resourceVersion: rv, includeObject: includeObject(q) }),
    );
    return;
  }
  sendJson(res, 200, {
    kind: `${p.info.kind}List`,
    apiVersion: apiVersionOf(p.info),
    metadata: { resourceVersion: rv },
    items,
  });
}

function checkBodyIdentity(p: ResourcePath, body: unknown, forName?: string): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'the request body must be a JSON object');
  const o = body as KubeObject;
  const expectKind = p.subresource === 'scale' ? 'Scale' : p.info.kind;
  if (o.kind !== undefined && o.kind !== expectKind) {
    throw new HttpError(
      400,
      `the object provided is unrecognized (must be of type ${expectKind}): ${String(o.kind)}`,
    );
  }
  o.metadata ??= {} as KubeObject['metadata'];
  if (p.info.namespaced && o.metadata.namespace && o.metadata.namespace !== p.namespace) {
    throw new HttpError(
      400,
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
  if (forName !== undefined && o.metadata.name && o.metadata.name !== forName) {
    throw new HttpError(
      400,
      `the name of the object (${o.metadata.name}) does not match the name on the URL (${forName})`,
    );
  }
  if (p.info.namespaced) o.metadata.namespace = p.namespace;
  if (forName !== undefined) o.metadata.name = forName;
  return o;
}

/** A create/update body: JSON, or the protobuf kubectl's typed clients send. */
async function readObject(req: IncomingMessage): Promise<unknown> {
  if (isProtobuf(req.headers['content-type'])) return decodeKubeProtobuf(await readBody(req, true));
  return readJson(req);
}

export async function handleCreate(
  ctx: HandlerContext,
  req: IncomingMessage,
  q: Query,
  res: ServerResponse,
  p: ResourcePath,
): Promise<void> {
  const body = await readObject(req);
  requireNamespace(ctx, p);
  const warnings = checkFields(q, p, body);
  const o = checkBodyIdentity(p, body);
  const created = ctx.store.create(p.resource, o, { dryRun: isDryRun(q) });
  sendObject(ctx, req, q, res, p, created, 201, warnings);
}

/** Writes `next` (the whole new object) the way PUT on the resource or a subresource does. */
function write(
  ctx: HandlerContext,
  p: ResourcePath,
  current: KubeObject,
  next: KubeObject,
  dryRun: boolean,
): KubeObject {
  if (p.subresource === 'scale') {
    const replicas = next.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new StoreError(
        422,
        'Invalid',
        `Scale.autoscaling "${p.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        {
          name: p.name,
          group: 'autoscaling',
          kind: 'Scale',
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
              field: 'spec.replicas',
            },
          ],
        },
      );
    }
    const rv = next.metadata?.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) throw ctx.store.conflict(p.resource, p.name!);
    const updated = ctx.store.update(
      p.resource,
      { ...current, spec: { ...current.spec, replicas } },
      { dryRun },
    );
    return toScale(updated);
  }
  if (p.subresource === 'status') {
    return ctx.store.update(p.resource, next, { subresource: 'status', dryRun });
  }
  // A write to the main resource never changes status (the registry strategies reset it).
  const o: KubeObject = { ...next, status: current.status };
  if (o.status === undefined) delete o.status;
  return ctx.store.update(p.resource, o, { dryRun });
}

export async function handleUpdate(
  ctx: HandlerContext,
  req: IncomingMessage,
  q: Query,
  res: ServerResponse,
  p: ResourcePath,
): Promise<void> {
  const body = await readObject(req);
  const current = mustGet(ctx, p);
  const warnings = checkFields(q, p, body);
  const o = checkBodyIdentity(p, body, p.name);
  const result = write(ctx, p, current, o, isDryRun(q));
  sendObject(ctx, req, q, res, p, result, 200, warnings);
}

export async function handlePatch(
  ctx: HandlerContext,
  req: IncomingMessage,
  q: Query,
  res: ServerResponse,
  p: ResourcePath,
): Promise<void> {
  const type = patchTypeOf(req.headers['content-type']);
  if (!type) {
    throw new HttpError(
      415,
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      'UnsupportedMediaType',
    );
  }
  const body = await readJson(req);
  const current = mustGet(ctx, p);
  const original = p.subresource === 'scale' ? toScale(current) : current;
  let patched: unknown;
  try {
    patched = applyPatch(type, original, body);
  } catch (e) {
    if (e instanceof PatchError) throw new HttpError(e.code, e.message);
    throw e;
  }
  const warnings = checkFields(q, p, patched);
  const o = checkBodyIdentity(p, patched, p.name);
  const result = write(ctx, p, current, o, isDryRun(q));
  sendObject(ctx, req, q, res, p, result, 200, warnings);
}

interface DeleteOptions {
  propagationPolicy?: string;
  dryRun?: string[];
  preconditions?: { uid?: string; resourceVersion?: string };
}

export async function handleDelete(
  ctx: HandlerContext,
  req: IncomingMessage,
  q: Query,
  res: ServerResponse,
  p: ResourcePath,
): Promise<void> {
  const opts = ((await readJson(req, true)) ?? {}) as DeleteOptions;
  const current = mustGet(ctx, p);
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== current.metadata.uid) {
    throw new StoreError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedName(p.info)} "${p.name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`,
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw new StoreError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedName(p.info)} "${p.name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
    );
  }
  const dryRun = isDryRun(q, opts);
  const deleted = ctx.store.delete(p.resource, p.namespace, p.name!, { dryRun });
  if (!deleted) throw ctx.store.notFound(p.resource, p.name!);
  if (p.resource === 'pods') {
    sendJson(res, 200, deleted);
    return;
  }
  sendJson(res, 200, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: p.name, group: p.info.group || undefined, kind: p.resource, uid: deleted.metadata.uid },
  });
}

export async function handleDeleteCollection(
  ctx: HandlerContext,
  req: IncomingMessage,
  q: Query,
  res: ServerResponse,
  p: ResourcePath,
): Promise<void> {
  const opts = ((await readJson(req, true)) ?? {}) as DeleteOptions;
  const dryRun = isDryRun(q, opts);
  const items = ctx.store.list(p.resource, p.namespace, {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
  });
  const deleted = items
    .map((o) => ctx.store.delete(p.resource, o.metadata.namespace, o.metadata.name, { dryRun }))
    .filter((o): o is KubeObject => o !== undefined);
  sendJson(res, 200, {
    kind: `${p.info.kind}List`,
    apiVersion: apiVersionOf(p.info),
    metadata: { resourceVersion: ctx.store.currentResourceVersion() },
    items: deleted,
  });
}
