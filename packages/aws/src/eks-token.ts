import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** Static AWS credentials, as the default chain resolves them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

export interface EksTokenOptions {
  /** The EKS cluster name; signed as the `x-k8s-aws-id` header so the token is only good for that cluster. */
  clusterName: string;
  /** The cluster's region; also picks the regional STS endpoint. */
  region: string;
  credentials: AwsCredentials;
  /** Signing time (tests). Default: now. */
  now?: Date;
  /**
   * STS endpoint to presign for. Default: `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the regional
   * `https://sts.<region>.amazonaws.com` (`.amazonaws.com.cn` in China regions).
   */
  stsEndpoint?: string;
  /** Environment to read the endpoint overrides from. Default: process.env. */
  env?: Record<string, string | undefined>;
}

export interface EksToken {
  /** `k8s-aws-v1.` + base64url (no padding) of the presigned URL. A bearer secret: mask it. */
  token: string;
  /** When to stop using it: STS accepts it 15 minutes after signing; we stop one minute earlier. */
  expiresAt: Date;
}

/** STS accepts a presigned GetCallerIdentity for 15 minutes whatever X-Amz-Expires says; keep a minute spare. */
export const EKS_TOKEN_LIFETIME_MS = 14 * 60_000;

/** The STS endpoint the token is presigned for: explicit, then env overrides, then the regional host. */
export function stsEndpointFor(
  region: string,
  env: Record<string, string | undefined> = process.env,
): string {
  const override = env.AWS_ENDPOINT_URL_STS?.trim() || env.AWS_ENDPOINT_URL?.trim();
  if (override) return override;
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sts.${region}.${suffix}`;
}

/** RFC 3986 percent-encoding, as SigV4 canonicalises query values. */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Builds an EKS bearer token without the aws CLI: a SigV4-presigned `GET` of STS
 * `Action=GetCallerIdentity&Version=2011-06-15` with the cluster name in the signed `x-k8s-aws-id` header
 * (`SignedHeaders=host;x-k8s-aws-id`, `X-Amz-Expires=60`), encoded as `k8s-aws-v1.` + base64url without
 * padding — byte for byte what aws-iam-authenticator and `aws eks get-token` produce.
 */
export async function createEksToken(options: EksTokenOptions): Promise<EksToken> {
  const endpoint = new URL(options.stsEndpoint ?? stsEndpointFor(options.region, options.env));
  const now = options.now ?? new Date();
  const path = endpoint.pathname === '' ? '/' : endpoint.pathname;
  const request = new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path,
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    // The signer signs the headers it is given; host must be present to be signed.
    headers: { host: endpoint.host, 'x-k8s-aws-id': options.clusterName },
  });
  const signer = new SignatureV4({
    service: 'sts',
    region: options.region,
    credentials: {
      accessKeyId: options.credentials.accessKeyId,
      secretAccessKey: options.credentials.secretAccessKey,
      ...(options.credentials.sessionToken ? { sessionToken: options.credentials.sessionToken } : {}),
    },
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
  });
  const signed = await signer.presign(request, { signingDate: now, expiresIn: 60 });

  // Query in canonical (sorted) order with the signature last, as the Go SDK's presigner writes it.
  const query = signed.query as Record<string, string | string[] | null>;
  const names = Object.keys(query)
    .filter((name) => name !== 'X-Amz-Signature')
    .sort();
  names.push('X-Amz-Signature');
  const parts: string[] = [];
  for (const name of names) {
    const value = query[name];
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      parts.push(`${encodeRfc3986(name)}=${encodeRfc3986(item)}`);
    }
  }
  const url = `${endpoint.protocol}//${endpoint.host}${path}?${parts.join('&')}`;
  const token = `k8s-aws-v1.${Buffer.from(url, 'utf8').toString('base64url')}`;
  return { token, expiresAt: new Date(now.getTime() + EKS_TOKEN_LIFETIME_MS) };
}
