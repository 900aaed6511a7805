import { ValidationFailed, type ReleaseFields, type ReleasesStore } from './releases-store.js';
import { generateNotes } from './release-notes.js';

/** The routes of the sandbox's GitHub API: pure functions of the store and the request. */

export const DOCS = 'https://docs.github.com/rest';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const notFound: Reply = {
  status: 404,
  body: { message: 'Not Found', documentation_url: DOCS, status: '404' },
};

export function route(store: ReleasesStore, method: string, url: URL, text: string): Reply {
  const prefix = `/repos/${store.owner}/${store.repo}`;
  const path = url.pathname;
  if (!path.startsWith(`${prefix}/`)) return notFound;
  const rest = path.slice(prefix.length);
  const parts = rest.split('/').slice(1).map(decodeURIComponent);

  if (method === 'GET' && parts[0] === 'tags' && parts.length === 1) {
    const tags = store
      .tags()
      .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
      .map((name) => tagJson(store, url.origin, name));
    return paginate(url, tags);
  }
  if (parts[0] !== 'releases') return notFound;

  if (parts.length === 1) {
    if (method === 'GET') return paginate(url, store.all().reverse());
    if (method === 'POST') {
      const fields = parseFields(text);
      if ('reply' in fields) return fields.reply;
      return withValidation(() => ({ status: 201, body: store.create(fields.value) }));
    }
  }
  if (parts.length === 2 && parts[1] === 'generate-notes' && method === 'POST') {
    const input = parseJson(text);
    if (input === undefined) return problemsParsingJson();
    const tag = typeof input.tag_name === 'string' ? input.tag_name : '';
    if (tag === '') return validationReply(new ValidationFailed('missing_field', 'tag_name'));
    const previous = typeof input.previous_tag_name === 'string' ? input.previous_tag_name : undefined;
    if (previous !== undefined && !store.tags().includes(previous)) return notFound;
    return { status: 200, body: generateNotes(store, tag, previous) };
  }
  if (parts.length === 2 && parts[1] === 'latest' && method === 'GET') {
    const latest = store.latest();
    return latest ? { status: 200, body: latest } : notFound;
  }
  if (parts.length === 3 && parts[1] === 'tags' && method === 'GET') {
    const release = store.byTag(parts[2] as string);
    return release ? { status: 200, body: release } : notFound;
  }
  if (parts.length === 2 && /^\d+$/.test(parts[1] as string)) {
    const id = Number(parts[1]);
    if (method === 'GET') {
      const release = store.get(id);
      return release ? { status: 200, body: release } : notFound;
    }
    if (method === 'PATCH') {
      const fields = parseFields(text);
      if ('reply' in fields) return fields.reply;
      return withValidation(() => {
        const release = store.update(id, fields.value);
        return release ? { status: 200, body: release } : notFound;
      });
    }
    if (method === 'DELETE') return store.delete(id) ? { status: 204 } : notFound;
  }
  return notFound;
}

function tagJson(store: ReleasesStore, origin: string, name: string): unknown {
  const api = `${origin}/repos/${store.owner}/${store.repo}`;
  const sha = Buffer.from(name).toString('hex').padEnd(40, '0').slice(0, 40);
  return {
    name,
    zipball_url: `${api}/zipball/refs/tags/${encodeURIComponent(name)}`,
    tarball_url: `${api}/tarball/refs/tags/${encodeURIComponent(name)}`,
    commit: { sha, url: `${api}/commits/${sha}` },
    node_id: `REF_sandbox_${name}`,
  };
}

/** `per_page` (default 30, at most 100) and `page`, with a Link header as GitHub sends it. */
function paginate(url: URL, items: unknown[]): Reply {
  const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? '30') || 30));
  const page = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number): string => {
    const next = new URL(url);
    next.searchParams.set('per_page', String(perPage));
    next.searchParams.set('page', String(n));
    return `<${next.href}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${link(page - 1)}; rel="prev"`, `${link(1)}; rel="first"`);
  if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    ...(links.length > 0 ? { headers: { link: links.join(', ') } } : {}),
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function problemsParsingJson(): Reply {
  return { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS } };
}

function parseFields(text: string): { value: ReleaseFields } | { reply: Reply } {
  const input = parseJson(text);
  if (input === undefined) return { reply: problemsParsingJson() };
  const fields: ReleaseFields = {};
  const strings = ['tag_name', 'target_commitish', 'name', 'body', 'make_latest'] as const;
  for (const key of strings) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' && !(value === null && (key === 'name' || key === 'body'))) {
      return { reply: validationReply(new ValidationFailed('invalid', key)) };
    }
    (fields as Record<string, unknown>)[key] = value;
  }
  for (const key of ['draft', 'prerelease'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') return { reply: validationReply(new ValidationFailed('invalid', key)) };
    fields[key] = value;
  }
  return { value: fields };
}

function withValidation(fn: () => Reply): Reply {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ValidationFailed) return validationReply(error);
    throw error;
  }
}

function validationReply(error: ValidationFailed): Reply {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [
        {
          resource: 'Release',
          code: error.code,
          field: error.field,
          ...(error.detail !== undefined ? { message: error.detail } : {}),
        },
      ],
      documentation_url: `${DOCS}/releases/releases`,
      status: '422',
    },
  };
}
