import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createEksToken } from '../../aws/src/eks-token.js';
import { checkEksToken, startAwsSandbox, type AwsCredentials, type AwsSandbox } from '../src/aws/index.js';

/** The known-answer vector of aws-iam-authenticator (TestGetWithSTS), as in specs/aws-and-runner.md. */
const VECTOR = {
  cluster: 'test-cluster',
  region: 'us-west-2',
  date: new Date(1682640000 * 1000),
  credentials: {
    accessKeyId: 'ASIAR2TG44V6AS3ZZE7C',
    secretAccessKey: '4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q',
  },
  token:
    'k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BU0lBUjJURzQ0VjZBUzNaWkU3QyUyRjIwMjMwNDI4JTJGdXMtd2VzdC0yJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyMzA0MjhUMDAwMDAwWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9ZTIxMWRiYTc3YWJhOWRjNDRiMGI2YmUzOGI4ZWFhZDA5MjU5OWM1MTU3ZjYzMTQ0NDRjNWI5ZDg1NzQ3ZjVjZQ',
};

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

interface TokenOptions {
  /** e.g. https://sts.us-west-2.amazonaws.com or http://127.0.0.1:1234 */
  endpoint: string;
  region: string;
  credentials: AwsCredentials;
  clusterName: string;
  date?: Date;
  action?: string;
  /** Leave x-k8s-aws-id out of the signed headers. */
  unsignedClusterId?: boolean;
}

/** A small EKS token presigner, as the spec describes (the real one is packages/aws/src/eks-token.ts). */
async function presignEksToken(options: TokenOptions): Promise<string> {
  const endpoint = new URL(options.endpoint);
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Hash.bind(null, 'sha256'),
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port !== '' ? { port: Number(endpoint.port) } : {}),
    path: '/',
    query: { Action: options.action ?? 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: endpoint.host, 'x-k8s-aws-id': options.clusterName },
  });
  const signed = await signer.presign(request, {
    expiresIn: 60,
    signingDate: options.date ?? new Date(),
    ...(options.unsignedClusterId === true ? { unsignableHeaders: new Set(['x-k8s-aws-id']) } : {}),
  });
  const query = signed.query as Record<string, string>;
  const keys = Object.keys(query)
    .filter((k) => k !== 'X-Amz-Signature')
    .sort();
  keys.push('X-Amz-Signature');
  const url = `${endpoint.protocol}//${endpoint.host}/?${keys.map((k) => `${rfc3986(k)}=${rfc3986(query[k]!)}`).join('&')}`;
  return `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`;
}

const KUBE = {
  endpoint: 'https://127.0.0.1:6443',
  caData: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n').toString(
    'base64',
  ),
};

let sandbox: AwsSandbox;
beforeAll(async () => {
  sandbox = await startAwsSandbox({ kube: KUBE });
});
afterAll(async () => {
  await sandbox.stop();
});

describe('the environment a shell or a step gets', () => {
  it('lists endpoints, region and the test credentials, quoted for a shell', () => {
    const lines = sandbox.envExports().split('\n');
    expect(lines).toContain(`export AWS_ENDPOINT_URL_STS='${sandbox.url}'`);
    expect(lines).toContain(`export AWS_SECRET_ACCESS_KEY='${sandbox.credentials.secretAccessKey}'`);
    expect(lines).toContain(`export AWS_EC2_METADATA_DISABLED='true'`);
    expect(lines).toHaveLength(Object.keys(sandbox.env()).length);
  });
});

describe('the EKS token presigner used by these tests', () => {
  it('reproduces the known-answer vector byte for byte', async () => {
    const token = await presignEksToken({
      endpoint: 'https://sts.us-west-2.amazonaws.com',
      region: VECTOR.region,
      credentials: VECTOR.credentials,
      clusterName: VECTOR.cluster,
      date: VECTOR.date,
    });
    expect(token).toBe(VECTOR.token);
  });
});

describe('checkEksToken against the known-answer vector', () => {
  const check = (token: string, overrides: Partial<Parameters<typeof checkEksToken>[1]> = {}) =>
    checkEksToken(token, {
      credentials: VECTOR.credentials,
      region: VECTOR.region,
      clusterName: VECTOR.cluster,
      localHosts: [],
      now: new Date(VECTOR.date.getTime() + 60_000),
      ...overrides,
    });

  it.each([
    ['valid a minute after signing', {}, true],
    [
      'valid 14 minutes after signing (X-Amz-Expires=60 is ignored)',
      { now: new Date(VECTOR.date.getTime() + 14 * 60_000) },
      true,
    ],
    ['expired 16 minutes after signing', { now: new Date(VECTOR.date.getTime() + 16 * 60_000) }, false],
    ['refused for another cluster', { clusterName: 'other-cluster' }, false],
    [
      'refused with another secret key',
      {
        credentials: {
          ...VECTOR.credentials,
          secretAccessKey: 'x' + VECTOR.credentials.secretAccessKey.slice(1),
        },
      },
      false,
    ],
    [
      'refused for another access key',
      { credentials: { ...VECTOR.credentials, accessKeyId: 'AKIAOTHER' } },
      false,
    ],
    ['refused in another region', { region: 'eu-west-1' }, false],
  ])('%s', async (_what, overrides, ok) => {
    expect((await check(VECTOR.token, overrides)).ok).toBe(ok);
  });

  it('says why a token is refused', async () => {
    expect(await check('Bearer abc')).toEqual({ ok: false, reason: expect.stringContaining('k8s-aws-v1.') });
    const tampered = VECTOR.token.slice(0, -4) + 'AAAA';
    expect((await check(tampered)).ok).toBe(false);
    const otherHost = `k8s-aws-v1.${Buffer.from(Buffer.from(VECTOR.token.slice(11), 'base64url').toString().replace('sts.us-west-2.amazonaws.com', 'sts.evil.example')).toString('base64url')}`;
    expect(await check(otherHost)).toEqual({
      ok: false,
      reason: expect.stringContaining('sts.evil.example'),
    });
  });
});

describe('sandbox.verifyEksToken', () => {
  const token = (overrides: Partial<TokenOptions> = {}) =>
    presignEksToken({
      endpoint: sandbox.endpoints.sts,
      region: 'us-east-1',
      credentials: sandbox.credentials,
      clusterName: 'planner-production-cluster',
      ...overrides,
    });

  it('accepts a token presigned for the sandbox STS endpoint and returns the caller ARN', async () => {
    expect(await sandbox.verifyEksToken(await token())).toEqual({
      arn: 'arn:aws:iam::123456789012:user/planner-deployer',
    });
  });

  it('accepts a token presigned for the regional STS host', async () => {
    expect(
      await sandbox.verifyEksToken(await token({ endpoint: 'https://sts.us-east-1.amazonaws.com' })),
    ).toBeDefined();
  });

  it.each<[string, Partial<TokenOptions>]>([
    [
      'forged: signed with the wrong secret',
      { credentials: { accessKeyId: 'AKIASANDBOX000000001', secretAccessKey: 'not-the-secret' } },
    ],
    [
      'signed with another access key',
      { credentials: { accessKeyId: 'AKIAOTHERKEY00000000', secretAccessKey: 'not-the-secret' } },
    ],
    ['for another cluster', { clusterName: 'someone-elses-cluster' }],
    ['expired: signed 16 minutes ago', { date: new Date(Date.now() - 16 * 60_000) }],
    ['signed 20 minutes in the future', { date: new Date(Date.now() + 20 * 60_000) }],
    ['for another STS action', { action: 'GetSessionToken' }],
    ['for another host', { endpoint: 'https://sts.example.com' }],
    ['without x-k8s-aws-id signed', { unsignedClusterId: true }],
  ])('refuses a token %s', async (_what, overrides) => {
    expect(await sandbox.verifyEksToken(await token(overrides))).toBeUndefined();
  });

  it("accepts the token of the actions' own signer (packages/aws createEksToken), honouring AWS_ENDPOINT_URL_STS", async () => {
    const { token } = await createEksToken({
      clusterName: 'planner-production-cluster',
      region: 'us-east-1',
      credentials: sandbox.credentials,
      env: sandbox.env(),
    });
    expect(Buffer.from(token.slice(11), 'base64url').toString()).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/\?Action=GetCallerIdentity/,
    );
    expect(await sandbox.verifyEksToken(token)).toEqual({
      arn: 'arn:aws:iam::123456789012:user/planner-deployer',
    });
    const auth = sandbox.authenticator();
    expect(await auth(token)).toEqual({ user: 'arn:aws:iam::123456789012:user/planner-deployer' });
    expect(await auth('static-token')).toBe(false);
    const { token: wrongCluster } = await createEksToken({
      clusterName: 'other',
      region: 'us-east-1',
      credentials: sandbox.credentials,
      env: sandbox.env(),
    });
    expect(await auth(wrongCluster)).toBe(false);
  });

  it('refuses garbage', async () => {
    expect(await sandbox.verifyEksToken('')).toBeUndefined();
    expect(await sandbox.verifyEksToken('k8s-aws-v1.')).toBeUndefined();
    expect(await sandbox.verifyEksToken('k8s-aws-v1.!!!')).toBeUndefined();
  });

  it('serves the presigned GetCallerIdentity GET itself, as STS does', async () => {
    const t = await token();
    const url = Buffer.from(t.slice('k8s-aws-v1.'.length), 'base64url').toString();
    const ok = await fetch(url, { headers: { 'x-k8s-aws-id': 'planner-production-cluster' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<Arn>arn:aws:iam::123456789012:user/planner-deployer</Arn>');
    const wrongCluster = await fetch(url, { headers: { 'x-k8s-aws-id': 'other' } });
    expect(wrongCluster.status).toBe(403);
    expect(await wrongCluster.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });
});

describe('STS GetCallerIdentity through the real @aws-sdk/client-sts', () => {
  it('answers with the caller identity', async () => {
    const sts = new STSClient({
      region: 'us-east-1',
      endpoint: sandbox.endpoints.sts,
      credentials: sandbox.credentials,
    });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({
      Account: '123456789012',
      Arn: 'arn:aws:iam::123456789012:user/planner-deployer',
      UserId: 'AIDASANDBOXDEPLOYER01',
    });
    expect(identity.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    sts.destroy();
  });

  it('refuses wrong credentials with InvalidClientTokenId / SignatureDoesNotMatch', async () => {
    for (const [credentials, name] of [
      [{ accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: 'x' }, 'InvalidClientTokenId'],
      [{ accessKeyId: sandbox.credentials.accessKeyId, secretAccessKey: 'x' }, 'SignatureDoesNotMatch'],
    ] as const) {
      const sts = new STSClient({
        region: 'us-east-1',
        endpoint: sandbox.endpoints.sts,
        credentials,
        maxAttempts: 1,
      });
      await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name });
      sts.destroy();
    }
  });
});

describe('temporary credentials (with a session token)', () => {
  const temporary = {
    accessKeyId: 'ASIASANDBOXTEMP00001',
    secretAccessKey: 'temporary/secret/key/for/the/sandbox/tests00',
    sessionToken: 'IQoJb3JpZ2luX2VjEsandbox//session+token=',
  };
  let temp: AwsSandbox;
  beforeAll(async () => {
    temp = await startAwsSandbox({ credentials: temporary, kube: KUBE });
  });
  afterAll(async () => {
    await temp.stop();
  });

  it('accepts requests that carry the session token, and refuses those without it', async () => {
    const sts = new STSClient({ region: 'us-east-1', endpoint: temp.endpoints.sts, credentials: temporary });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe('123456789012');
    sts.destroy();
    const { sessionToken: _dropped, ...withoutToken } = temporary;
    const bare = new STSClient({
      region: 'us-east-1',
      endpoint: temp.endpoints.sts,
      credentials: withoutToken,
      maxAttempts: 1,
    });
    await expect(bare.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
    bare.destroy();
    expect(temp.env()['AWS_SESSION_TOKEN']).toBe(temporary.sessionToken);
  });

  it('verifies an EKS token presigned with a session token (X-Amz-Security-Token in the URL)', async () => {
    const token = await presignEksToken({
      endpoint: temp.endpoints.sts,
      region: 'us-east-1',
      credentials: temporary,
      clusterName: 'planner-production-cluster',
    });
    expect(Buffer.from(token.slice(11), 'base64url').toString()).toContain('X-Amz-Security-Token=');
    expect(await temp.verifyEksToken(token)).toBeDefined();
    const other = await presignEksToken({
      endpoint: temp.endpoints.sts,
      region: 'us-east-1',
      credentials: { ...temporary, sessionToken: 'another-token' },
      clusterName: 'planner-production-cluster',
    });
    expect(await temp.verifyEksToken(other)).toBeUndefined();
  });
});

describe('EKS DescribeCluster through the real @aws-sdk/client-eks', () => {
  it('describes the sandbox cluster: its endpoint and CA', async () => {
    const eks = new EKSClient({
      region: 'us-east-1',
      endpoint: sandbox.endpoints.eks,
      credentials: sandbox.credentials,
    });
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'planner-production-cluster' }));
    expect(cluster).toMatchObject({
      name: 'planner-production-cluster',
      status: 'ACTIVE',
      endpoint: KUBE.endpoint,
      certificateAuthority: { data: KUBE.caData },
      arn: 'arn:aws:eks:us-east-1:123456789012:cluster/planner-production-cluster',
    });
    expect(cluster?.createdAt).toBeInstanceOf(Date);
    eks.destroy();
  });

  it('answers ResourceNotFoundException for another cluster', async () => {
    const eks = new EKSClient({
      region: 'us-east-1',
      endpoint: sandbox.endpoints.eks,
      credentials: sandbox.credentials,
    });
    await expect(eks.send(new DescribeClusterCommand({ name: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    eks.destroy();
  });

  it('follows setKube: another cluster name and endpoint', async () => {
    const other = await startAwsSandbox();
    const eks = new EKSClient({
      region: 'us-east-1',
      endpoint: other.endpoints.eks,
      credentials: other.credentials,
    });
    await expect(
      eks.send(new DescribeClusterCommand({ name: 'planner-production-cluster' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    other.setKube({ ...KUBE, endpoint: 'https://127.0.0.1:7443', clusterName: 'staging' });
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'staging' }));
    expect(cluster?.endpoint).toBe('https://127.0.0.1:7443');
    eks.destroy();
    await other.stop();
  });

  it('refuses a forged signature', async () => {
    const eks = new EKSClient({
      region: 'us-east-1',
      endpoint: sandbox.endpoints.eks,
      credentials: { accessKeyId: sandbox.credentials.accessKeyId, secretAccessKey: 'forged' },
      maxAttempts: 1,
    });
    await expect(
      eks.send(new DescribeClusterCommand({ name: 'planner-production-cluster' })),
    ).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    });
    eks.destroy();
  });
});
