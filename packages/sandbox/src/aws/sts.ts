import { randomBytes } from 'node:crypto';
import { el, raw } from './query.js';
import { parsePairs, type WireRequest } from './http.js';
import { verifySigV4, type AwsCredentials } from './sigv4.js';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** STS accepts a presigned GetCallerIdentity for 15 minutes from X-Amz-Date, whatever X-Amz-Expires says. */
export const EKS_TOKEN_VALIDITY_MS = 15 * 60 * 1000;

export interface CallerIdentity {
  arn: string;
  userId: string;
  account: string;
}

export function callerIdentityXml(identity: CallerIdentity): string {
  return el('Arn', identity.arn) + el('UserId', identity.userId) + el('Account', identity.account);
}

export interface EksTokenCheck {
  credentials: AwsCredentials;
  /** The region the sandbox serves; regional STS hosts of it are accepted. */
  region: string;
  /** The cluster name the token must have been signed for (x-k8s-aws-id). */
  clusterName: string;
  /** host[:port] of the sandbox's own STS endpoint. */
  localHosts: string[];
  now: Date;
  /** Role sessions whose temporary credentials may sign the token too (a role assumed before signing). */
  sessions?: RoleSessions;
}

/** `arn` is the assumed role's when a role session signed the token. */
export type EksTokenResult = { ok: true; accessKeyId: string; arn?: string } | { ok: false; reason: string };

function stsHosts(region: string): string[] {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return [`sts.${region}.${suffix}`, 'sts.amazonaws.com'];
}

/**
 * Checks an EKS bearer token the way the cluster's authenticator does: decode the presigned STS
 * GetCallerIdentity URL, check where it points and what it asks, then check its signature with the
 * cluster name as the x-k8s-aws-id header and the 15-minute validity.
 */
export async function checkEksToken(token: string, check: EksTokenCheck): Promise<EksTokenResult> {
  if (!token.startsWith(EKS_TOKEN_PREFIX))
    return { ok: false, reason: `token does not start with ${EKS_TOKEN_PREFIX}` };
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return { ok: false, reason: 'token is not base64url' };
  const url = Buffer.from(encoded, 'base64url').toString('utf8');
  const m = /^(https?):\/\/([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(url);
  if (!m) return { ok: false, reason: 'token does not hold a URL' };
  const [, scheme, host, path = '/', query = ''] = m as unknown as [string, string, string, string?, string?];
  const remote = stsHosts(check.region).includes(host) && scheme === 'https';
  const local = check.localHosts.includes(host);
  if (!remote && !local) return { ok: false, reason: `token URL host ${host} is not an STS endpoint` };
  if (path !== '/') return { ok: false, reason: `token URL path ${path} is not /` };
  const params = new Map(parsePairs(query, false));
  if (params.get('Action') !== 'GetCallerIdentity')
    return { ok: false, reason: 'token URL does not call GetCallerIdentity' };
  if (params.get('Version') !== '2011-06-15')
    return { ok: false, reason: 'token URL has no Version=2011-06-15' };
  const signed = (params.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signed.includes('x-k8s-aws-id')) return { ok: false, reason: 'x-k8s-aws-id is not a signed header' };
  const req: WireRequest = {
    method: 'GET',
    path,
    query,
    headers: new Map([
      ['host', [host]],
      ['x-k8s-aws-id', [check.clusterName]],
    ]),
    body: Buffer.alloc(0),
  };
  const session = check.sessions?.find(accessKeyOf(query) ?? '', check.now);
  const result = await verifySigV4(req, {
    credentials: session?.credentials ?? check.credentials,
    regions: [check.region, 'us-east-1'],
    now: check.now,
    presignedValidityMs: EKS_TOKEN_VALIDITY_MS,
  });
  if (!result.ok) return { ok: false, reason: `${result.failure}: ${result.message}` };
  if (result.parts.service !== 'sts')
    return { ok: false, reason: `signed for service ${result.parts.service}, not sts` };
  if (!result.parts.presigned) return { ok: false, reason: 'token URL is not presigned' };
  return { ok: true, accessKeyId: result.parts.accessKeyId, ...(session ? { arn: session.arn } : {}) };
}

/** A role session handed out by AssumeRole: its temporary credentials and the ARN it reports. */
export interface RoleSession {
  credentials: Required<AwsCredentials>;
  arn: string;
  expiration: Date;
}

const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::(\d{12}):role\/([\w+=,.@/-]{1,512})$/;

/**
 * STS AssumeRole as the sandbox serves it: any role of the sandbox's account may be assumed by the test
 * credentials (a role of another account is AccessDenied, as without a trust policy allowing us); the
 * temporary credentials are then accepted like the test credentials, for an hour, as `assumed-role/<role>/<session>`.
 */
export class RoleSessions {
  private readonly sessions = new Map<string, RoleSession>();
  private counter = 0;

  constructor(private readonly accountId: string) {}

  assume(
    roleArn: string,
    sessionName: string,
    callerArn: string,
    now: Date,
  ): RoleSession | { code: string; status: number; message: string } {
    const m = ROLE_ARN.exec(roleArn);
    if (!m || !/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      return { code: 'ValidationError', status: 400, message: `Invalid RoleArn or RoleSessionName` };
    }
    if (m[2] !== this.accountId) {
      return {
        code: 'AccessDenied',
        status: 403,
        message: `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      };
    }
    this.counter++;
    const id = String(this.counter).padStart(8, '0');
    const roleName = m[3]!.split('/').pop()!;
    const session: RoleSession = {
      credentials: {
        accessKeyId: `ASIASANDBOX${id}X`,
        secretAccessKey: `sandbox/assumed/${id}/${randomBytes(12).toString('base64url')}`,
        sessionToken: `sandbox-session-${id}-${randomBytes(24).toString('base64url')}`,
      },
      arn: `arn:aws:sts::${this.accountId}:assumed-role/${roleName}/${sessionName}`,
      expiration: new Date(now.getTime() + 3600_000),
    };
    this.sessions.set(session.credentials.accessKeyId, session);
    return session;
  }

  /** The live session of these temporary credentials, if any. */
  find(accessKeyId: string, now: Date): RoleSession | undefined {
    const session = this.sessions.get(accessKeyId);
    return session && now < session.expiration ? session : undefined;
  }
}

export function assumeRoleXml(session: RoleSession): string {
  return (
    raw(
      'Credentials',
      el('AccessKeyId', session.credentials.accessKeyId) +
        el('SecretAccessKey', session.credentials.secretAccessKey) +
        el('SessionToken', session.credentials.sessionToken) +
        el('Expiration', session.expiration),
    ) +
    raw(
      'AssumedRoleUser',
      el('Arn', session.arn) + el('AssumedRoleId', `AROASANDBOX:${session.arn.split('/').pop() ?? ''}`),
    )
  );
}

/** The access key id a presigned or header-signed request names, to pick the credentials to check it with. */
export function accessKeyOf(query: string): string | undefined {
  const credential = new Map(parsePairs(query, false)).get('X-Amz-Credential');
  return credential?.split('/')[0];
}
