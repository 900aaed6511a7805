import { describe, expect, it } from '@jest/globals';
import { createEksToken, stsEndpointFor } from '../src/eks-token.js';

// aws-iam-authenticator pkg/token/token_test.go TestGetWithSTS (see shared/specs/aws-and-runner.md).
const KNOWN_ANSWER =
  'k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BU0lBUjJURzQ0VjZBUzNaWkU3QyUyRjIwMjMwNDI4JTJGdXMtd2VzdC0yJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyMzA0MjhUMDAwMDAwWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9ZTIxMWRiYTc3YWJhOWRjNDRiMGI2YmUzOGI4ZWFhZDA5MjU5OWM1MTU3ZjYzMTQ0NDRjNWI5ZDg1NzQ3ZjVjZQ';

const credentials = {
  accessKeyId: 'ASIAR2TG44V6AS3ZZE7C',
  secretAccessKey: '4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q',
};
const now = new Date(1682640000 * 1000);

function decode(token: string): URL {
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}

describe('createEksToken', () => {
  it('reproduces the aws-iam-authenticator known-answer vector byte for byte', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: 'test-cluster',
      region: 'us-west-2',
      credentials,
      now,
      env: {},
    });
    expect(token).toBe(KNOWN_ANSWER);
    expect(token).not.toMatch(/=/);
    expect(expiresAt.toISOString()).toBe('2023-04-28T00:14:00.000Z');
  });

  it('signs the session token when there is one', async () => {
    const { token } = await createEksToken({
      clusterName: 'c',
      region: 'eu-west-1',
      credentials: { ...credentials, sessionToken: 'SESSION/TOKEN+1' },
      now,
      env: {},
    });
    const url = decode(token);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('SESSION/TOKEN+1');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect([...url.searchParams.keys()].at(-1)).toBe('X-Amz-Signature');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
  });

  it('presigns for an endpoint override with a port', async () => {
    const { token } = await createEksToken({
      clusterName: 'c',
      region: 'us-east-1',
      credentials,
      now,
      env: { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566' },
    });
    const url = decode(token);
    expect(url.origin).toBe('http://127.0.0.1:4566');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
  });
});

describe('stsEndpointFor', () => {
  it.each([
    ['us-west-2', {}, 'https://sts.us-west-2.amazonaws.com'],
    ['cn-north-1', {}, 'https://sts.cn-north-1.amazonaws.com.cn'],
    ['us-east-1', { AWS_ENDPOINT_URL: 'http://localhost:1' }, 'http://localhost:1'],
    ['us-east-1', { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_STS: 'http://b:2' }, 'http://b:2'],
    ['us-east-1', { AWS_ENDPOINT_URL_STS: '  ' }, 'https://sts.us-east-1.amazonaws.com'],
  ])('%s with %j → %s', (region, env, expected) => {
    expect(stsEndpointFor(region, env)).toBe(expected);
  });
});
