import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request as it arrived on the wire: what SigV4 verification and the protocol handlers need. */
export interface WireRequest {
  method: string;
  /** The path exactly as sent (still percent-encoded), without the query. */
  path: string;
  /** The raw query string, without the leading `?`. */
  query: string;
  /** Header values by lower-cased name, in arrival order (a repeated header keeps every value). */
  headers: Map<string, string[]>;
  body: Buffer;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export async function readWireRequest(req: IncomingMessage): Promise<WireRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(req.rawHeaders[i + 1]!);
    headers.set(name, values);
  }
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    headers,
    body: Buffer.concat(chunks),
  };
}

export function header(req: WireRequest, name: string): string | undefined {
  return req.headers.get(name.toLowerCase())?.[0];
}

export function sendWireResponse(res: ServerResponse, out: WireResponse): void {
  const body = typeof out.body === 'string' ? Buffer.from(out.body, 'utf8') : out.body;
  res.writeHead(out.status, { ...out.headers, 'content-length': String(body.length) });
  res.end(body);
}

/** Decodes one form/query component; `+` means a space only in form bodies. */
export function decodeComponent(value: string, plusIsSpace: boolean): string {
  const v = plusIsSpace ? value.replace(/\+/g, ' ') : value;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** Parses `a=1&b=2` into ordered pairs. */
export function parsePairs(raw: string, plusIsSpace: boolean): [string, string][] {
  if (raw === '') return [];
  return raw
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const k = eq < 0 ? part : part.slice(0, eq);
      const v = eq < 0 ? '' : part.slice(eq + 1);
      return [decodeComponent(k, plusIsSpace), decodeComponent(v, plusIsSpace)];
    });
}

export function newRequestId(): string {
  return randomUUID();
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
