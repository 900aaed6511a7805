import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { header, parsePairs, type WireRequest } from './http.js';

/** Credentials the sandbox accepts (the "test credentials"). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The parts of a SigV4 signature, from the Authorization header or a presigned query. */
export interface SigV4Parts {
  presigned: boolean;
  accessKeyId: string;
  /** yyyymmdd from the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** yyyymmddThhmmssZ */
  amzDate: string;
  /** X-Amz-Expires of a presigned request, in seconds. */
  expires?: number;
  securityToken?: string;
}

export type SigV4Failure =
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'UnknownAccessKey'
  | 'InvalidSecurityToken'
  | 'SignatureDoesNotMatch'
  | 'SignatureExpired'
  | 'RequestExpired';

export type SigV4Result =
  { ok: true; parts: SigV4Parts } | { ok: false; failure: SigV4Failure; message: string; parts?: SigV4Parts };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;

/** Reads the signature parts, or undefined when the request carries no SigV4 signature at all. */
export function parseSigV4(req: WireRequest): SigV4Parts | 'incomplete' | undefined {
  const auth = header(req, 'authorization');
  if (auth !== undefined) {
    if (!auth.startsWith(`${ALGORITHM} `)) return 'incomplete';
    const fields = new Map<string, string>();
    for (const piece of auth.slice(ALGORITHM.length + 1).split(',')) {
      const eq = piece.indexOf('=');
      if (eq > 0) fields.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
    }
    const credential = fields.get('Credential');
    const signedHeaders = fields.get('SignedHeaders');
    const signature = fields.get('Signature');
    const amzDate = header(req, 'x-amz-date');
    if (
      credential === undefined ||
      signedHeaders === undefined ||
      signature === undefined ||
      amzDate === undefined
    ) {
      return 'incomplete';
    }
    const scope = parseCredential(credential);
    if (scope === undefined) return 'incomplete';
    const token = header(req, 'x-amz-security-token');
    return {
      presigned: false,
      ...scope,
      signedHeaders: signedHeaders.split(';'),
      signature,
      amzDate,
      ...(token !== undefined ? { securityToken: token } : {}),
    };
  }
  const query = new Map(parsePairs(req.query, false));
  if (!query.has('X-Amz-Signature') && !query.has('X-Amz-Credential')) return undefined;
  const credential = query.get('X-Amz-Credential');
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  const amzDate = query.get('X-Amz-Date');
  if (
    query.get('X-Amz-Algorithm') !== ALGORITHM ||
    credential === undefined ||
    signedHeaders === undefined ||
    signature === undefined ||
    amzDate === undefined
  ) {
    return 'incomplete';
  }
  const scope = parseCredential(credential);
  if (scope === undefined) return 'incomplete';
  const expires = Number(query.get('X-Amz-Expires') ?? '900');
  const token = query.get('X-Amz-Security-Token');
  return {
    presigned: true,
    ...scope,
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate,
    expires: Number.isFinite(expires) ? expires : 900,
    ...(token !== undefined ? { securityToken: token } : {}),
  };
}

function parseCredential(
  credential: string,
): Pick<SigV4Parts, 'accessKeyId' | 'scopeDate' | 'region' | 'service'> | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, scopeDate, region, service] = parts as [string, string, string, string];
  return { accessKeyId, scopeDate, region, service };
}

/** Parses `yyyymmddThhmmssZ`. */
export function parseAmzDate(amzDate: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

export interface VerifyOptions {
  credentials: AwsCredentials;
  /** Regions a credential scope may name. */
  regions: string[];
  now: Date;
  /**
   * How long a presigned request stays valid after X-Amz-Date, overriding X-Amz-Expires
   * (STS treats presigned GetCallerIdentity as valid for 15 minutes whatever X-Amz-Expires says).
   */
  presignedValidityMs?: number;
}

/**
 * Recomputes the SigV4 signature of a request from the test credentials and compares. The signature itself
 * comes from @smithy/signature-v4 (what the AWS SDK signs with), given the request as it arrived; what is
 * ours is reading the signature's parts and AWS's answers (errors, expiry, scope checks).
 */
export async function verifySigV4(req: WireRequest, options: VerifyOptions): Promise<SigV4Result> {
  const parsed = parseSigV4(req);
  if (parsed === undefined) {
    return { ok: false, failure: 'MissingAuthenticationToken', message: 'Missing Authentication Token' };
  }
  if (parsed === 'incomplete') {
    return {
      ok: false,
      failure: 'IncompleteSignature',
      message:
        'Authorization header requires Credential, SignedHeaders and Signature, and the request an X-Amz-Date.',
    };
  }
  const parts = parsed;
  const { credentials } = options;
  if (parts.accessKeyId !== credentials.accessKeyId) {
    return {
      ok: false,
      failure: 'UnknownAccessKey',
      message: 'The security token included in the request is invalid.',
      parts,
    };
  }
  if ((credentials.sessionToken ?? undefined) !== parts.securityToken) {
    return {
      ok: false,
      failure: 'InvalidSecurityToken',
      message: 'The security token included in the request is invalid.',
      parts,
    };
  }
  const date = parseAmzDate(parts.amzDate);
  if (date === undefined || parts.amzDate.slice(0, 8) !== parts.scopeDate) {
    return {
      ok: false,
      failure: 'SignatureDoesNotMatch',
      message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parts.scopeDate}' != '${parts.amzDate.slice(0, 8)}'`,
      parts,
    };
  }
  if (!options.regions.includes(parts.region)) {
    return {
      ok: false,
      failure: 'SignatureDoesNotMatch',
      message: `Credential should be scoped to a valid region, not '${parts.region}'.`,
      parts,
    };
  }
  if (!parts.signedHeaders.includes('host')) {
    return { ok: false, failure: 'SignatureDoesNotMatch', message: "'Host' must be a signed header.", parts };
  }
  const expected = await computeSignatures(req, parts, credentials, date);
  if (!expected.some((candidate) => safeEqual(candidate, parts.signature))) {
    return {
      ok: false,
      failure: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      parts,
    };
  }
  const nowMs = options.now.getTime();
  if (parts.presigned) {
    const validity = options.presignedValidityMs ?? (parts.expires ?? 900) * 1000;
    if (nowMs > date.getTime() + validity || date.getTime() > nowMs + FIFTEEN_MINUTES_MS) {
      return { ok: false, failure: 'RequestExpired', message: 'Request has expired.', parts };
    }
  } else if (Math.abs(nowMs - date.getTime()) > FIFTEEN_MINUTES_MS) {
    return {
      ok: false,
      failure: 'SignatureExpired',
      message: `Signature expired: ${parts.amzDate} is now earlier than ${toAmzDate(new Date(nowMs - FIFTEEN_MINUTES_MS))} (${toAmzDate(options.now)} - 15 min.)`,
      parts,
    };
  }
  return { ok: true, parts };
}

export function toAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const AUTH_QUERY = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);
const CONTENT_SHA256 = 'x-amz-content-sha256';

/**
 * Every signature a correct signer could have produced for this request: the request rebuilt from the wire
 * (the raw path, the decoded query, exactly the headers it says it signed), signed again by
 * @smithy/signature-v4 at its X-Amz-Date. Presigned requests may or may not sign the payload, so both are
 * tried. A declared payload hash must be the body's, unless the payload is declared unsigned or streamed:
 * a body changed on the way fails.
 */
async function computeSignatures(
  req: WireRequest,
  parts: SigV4Parts,
  credentials: AwsCredentials,
  signingDate: Date,
): Promise<string[]> {
  const declared = parts.presigned
    ? new Map(parsePairs(req.query, false)).get('X-Amz-Content-Sha256')
    : header(req, CONTENT_SHA256);
  const unsigned =
    declared !== undefined && (declared === 'UNSIGNED-PAYLOAD' || declared.startsWith('STREAMING-'));
  if (declared !== undefined && !unsigned && declared !== sha256Hex(req.body)) return [];

  const query: Record<string, string | string[]> = {};
  for (const [name, value] of parsePairs(req.query, false)) {
    if (parts.presigned && AUTH_QUERY.has(name)) continue;
    const previous = query[name];
    query[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const headers: Record<string, string> = {};
  for (const name of parts.signedHeaders) {
    const values = req.headers.get(name);
    if (values !== undefined) headers[name] = values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
  }
  const url = new URL(`http://${headers.host ?? 'localhost'}`);
  const signer = new SignatureV4({
    service: parts.service,
    region: parts.region,
    credentials: {
      accessKeyId: parts.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}),
    },
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
    applyChecksum: false,
  });
  const signableHeaders = new Set(parts.signedHeaders);
  // The payload hash the signer uses, as a header it neither signs nor hoists unless the request signed it.
  const payloadHashes = unsigned
    ? [declared]
    : parts.presigned && declared === undefined
      ? [sha256Hex(req.body), 'UNSIGNED-PAYLOAD']
      : [sha256Hex(req.body)];
  const signatures: string[] = [];
  for (const payloadHash of payloadHashes) {
    const request = new HttpRequest({
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      path: req.path,
      query: { ...query },
      headers: { ...headers, [CONTENT_SHA256]: headers[CONTENT_SHA256] ?? payloadHash },
    });
    const unsignableHeaders = new Set(signableHeaders.has(CONTENT_SHA256) ? [] : [CONTENT_SHA256]);
    if (parts.presigned) {
      const signed = await signer.presign(request, {
        signingDate,
        expiresIn: parts.expires ?? 900,
        signableHeaders,
        unsignableHeaders,
        unhoistableHeaders: new Set([CONTENT_SHA256]),
      });
      const signature = signed.query?.['X-Amz-Signature'];
      if (typeof signature === 'string') signatures.push(signature);
    } else {
      for (const generated of ['x-amz-date', 'x-amz-security-token']) {
        if (!signableHeaders.has(generated)) unsignableHeaders.add(generated);
      }
      const signed = await signer.sign(request, { signingDate, signableHeaders, unsignableHeaders });
      const signature = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? ''))?.[1];
      if (signature !== undefined) signatures.push(signature);
    }
  }
  return signatures;
}
