import { escapeXml, header, parsePairs, type WireRequest } from './http.js';

/** The parameters of an AWS Query request: the query string, plus the form body of a POST. */
export function queryParams(req: WireRequest): Map<string, string> {
  const params = new Map(parsePairs(req.query, false));
  const type = header(req, 'content-type') ?? '';
  if (req.method === 'POST' && (type === '' || type.startsWith('application/x-www-form-urlencoded'))) {
    for (const [k, v] of parsePairs(req.body.toString('utf8'), true)) params.set(k, v);
  }
  return params;
}

/**
 * Reads a Query-protocol list: `Prefix.N...` or `Prefix.Member.N...` (e.g. `Tags.Tag.1.Key`,
 * `Filters.Filter.1.Values.Value.1`). Returns, per index in order, the sub-parameters under it
 * (the empty key holds a scalar member's value).
 */
export function queryList(params: Map<string, string>, prefix: string): Map<string, string>[] {
  const items = new Map<number, Map<string, string>>();
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(?:[A-Za-z]+\\.)?(\\d+)(?:\\.(.+))?$`);
  for (const [k, v] of params) {
    const m = re.exec(k);
    if (!m) continue;
    const index = Number(m[1]);
    const item = items.get(index) ?? new Map<string, string>();
    item.set(m[2] ?? '', v);
    items.set(index, item);
  }
  return [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
}

/** An XML element; `undefined` content leaves the element out (as AWS omits unset members). */
export function el(name: string, content: string | number | boolean | Date | undefined): string {
  if (content === undefined) return '';
  const text =
    content instanceof Date
      ? content.toISOString()
      : typeof content === 'string'
        ? escapeXml(content)
        : String(content);
  return `<${name}>${text}</${name}>`;
}

/** An element whose content is already XML. */
export function raw(name: string, xml: string): string {
  return `<${name}>${xml}</${name}>`;
}

export function xmlList(name: string, member: string, items: string[]): string {
  return `<${name}>${items.map((item) => `<${member}>${item}</${member}>`).join('')}</${name}>`;
}

export function queryResponse(action: string, namespace: string, result: string, requestId: string): string {
  const resultXml = result === '' ? '' : `<${action}Result>${result}</${action}Result>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${namespace}">${resultXml}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function queryError(
  namespace: string,
  code: string,
  message: string,
  requestId: string,
  type: 'Sender' | 'Receiver' = 'Sender',
): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${namespace}"><Error><Type>${type}</Type>` +
    `${el('Code', code)}${el('Message', message)}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
