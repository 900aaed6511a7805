import { afterEach, describe, expect, it } from '@jest/globals';
import { DescribeClusterCommand, EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { ConfigurationError } from '@planner-deploy/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describeEksCluster } from '../src/eks-cluster.js';

const eks = mockClient(EKSClient);
const credentials = () => Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

afterEach(() => {
  eks.reset();
});

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe('describeEksCluster', () => {
  it('returns the endpoint and CA data of an active cluster', async () => {
    eks.on(DescribeClusterCommand, { name: 'prod' }).resolves({
      cluster: {
        name: 'prod',
        endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
        certificateAuthority: { data: 'LS0tLS1CRUdJTg==' },
        status: 'ACTIVE',
        version: '1.32',
      },
    });
    const info = await describeEksCluster({ clusterName: 'prod', region: 'eu-west-1', credentials });
    expect(info).toEqual({
      name: 'prod',
      region: 'eu-west-1',
      endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
      caData: 'LS0tLS1CRUdJTg==',
      status: 'ACTIVE',
      version: '1.32',
    });
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
  });

  it.each([
    [
      'a missing cluster',
      new ResourceNotFoundException({ message: 'No cluster found for name: prod.', $metadata: {} }),
      /EKS cluster "prod" in region eu-west-1 was not found/,
      'EKS cluster not found',
    ],
    [
      'access denied',
      namedError('AccessDeniedException', 'User: arn:aws:sts::1:assumed-role/x is not authorized'),
      /Not allowed to describe the EKS cluster "prod" in region eu-west-1: .*eks:DescribeCluster/,
      'EKS access denied',
    ],
    [
      'bad credentials',
      namedError('UnrecognizedClientException', 'The security token included in the request is invalid.'),
      /No valid AWS credentials/,
      'AWS credentials',
    ],
  ])('explains %s', async (_what, error, message, title) => {
    eks.on(DescribeClusterCommand).rejects(error);
    const failure = await describeEksCluster({ clusterName: 'prod', region: 'eu-west-1', credentials }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as ConfigurationError).message).toMatch(message);
    expect((failure as ConfigurationError).title).toBe(title);
  });

  it('refuses a cluster that has no endpoint yet', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'prod', status: 'CREATING' } });
    await expect(
      describeEksCluster({ clusterName: 'prod', region: 'us-east-1', credentials }),
    ).rejects.toThrow(/status CREATING/);
  });

  it('passes other errors through unchanged', async () => {
    const boom = namedError('InternalFailure', 'boom');
    eks.on(DescribeClusterCommand).rejects(boom);
    await expect(describeEksCluster({ clusterName: 'prod', region: 'us-east-1', credentials })).rejects.toBe(
      boom,
    );
  });
});
