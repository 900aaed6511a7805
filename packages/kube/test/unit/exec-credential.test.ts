import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '@planner-deploy/core';
import { eksExecAuthOf, type EksExecAuth } from '../../src/exec-credential.js';

const V1BETA1 = 'client.authentication.k8s.io/v1beta1';
const ARN = 'arn:aws:eks:eu-west-1:123456789012:cluster/planner-prod';
const ROLE = 'arn:aws:iam::123456789012:role/planner-deploy';

function execUser(exec: Record<string, unknown>) {
  return { name: ARN, exec: { apiVersion: V1BETA1, ...exec } };
}

describe('eksExecAuthOf: the exec entries it takes', () => {
  it.each<[string, Record<string, unknown>, Record<string, string | undefined>, EksExecAuth]>([
    [
      'aws eks update-kubeconfig (cluster name, --output json)',
      {
        command: 'aws',
        args: [
          '--region',
          'eu-west-1',
          'eks',
          'get-token',
          '--cluster-name',
          'planner-prod',
          '--output',
          'json',
        ],
      },
      {},
      {
        plugin: 'aws eks get-token',
        clusterId: 'planner-prod',
        region: 'eu-west-1',
        sessionName: 'EKSGetTokenAuth',
      },
    ],
    [
      'update-kubeconfig --role-arn (written as --role) and --profile (AWS_PROFILE in env)',
      {
        command: 'aws',
        args: [
          '--region',
          'eu-west-1',
          'eks',
          'get-token',
          '--cluster-name',
          'planner-prod',
          '--output',
          'json',
          '--role',
          ROLE,
        ],
        env: [{ name: 'AWS_PROFILE', value: 'planner' }],
      },
      {},
      {
        plugin: 'aws eks get-token',
        clusterId: 'planner-prod',
        region: 'eu-west-1',
        roleArn: ROLE,
        sessionName: 'EKSGetTokenAuth',
        profile: 'planner',
      },
    ],
    [
      'an Outposts cluster: --cluster-id, --role-arn=, --session-name',
      {
        command: '/usr/local/bin/aws',
        args: [
          'eks',
          'get-token',
          '--cluster-id',
          '0a1b2c3d-4e5f-6789-abcd-ef0123456789',
          `--role-arn=${ROLE}`,
          '--session-name',
          'ci-deploy',
          '--region=us-west-2',
        ],
      },
      {},
      {
        plugin: 'aws eks get-token',
        clusterId: '0a1b2c3d-4e5f-6789-abcd-ef0123456789',
        region: 'us-west-2',
        roleArn: ROLE,
        sessionName: 'ci-deploy',
      },
    ],
    [
      'no --region: AWS_REGION of the exec env wins over the process',
      {
        command: 'aws',
        args: ['eks', 'get-token', '--cluster-name', 'planner-prod', '--profile', 'ops'],
        env: [{ name: 'AWS_REGION', value: 'ap-south-1' }],
      },
      { AWS_REGION: 'us-east-1' },
      {
        plugin: 'aws eks get-token',
        clusterId: 'planner-prod',
        region: 'ap-south-1',
        sessionName: 'EKSGetTokenAuth',
        profile: 'ops',
      },
    ],
    [
      'no --region anywhere in the kubeconfig: the runner’s AWS_REGION',
      { command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'planner-prod'] },
      { AWS_DEFAULT_REGION: 'eu-central-1' },
      {
        plugin: 'aws eks get-token',
        clusterId: 'planner-prod',
        region: 'eu-central-1',
        sessionName: 'EKSGetTokenAuth',
      },
    ],
    [
      'aws-iam-authenticator token -i',
      { command: 'aws-iam-authenticator', args: ['token', '-i', 'planner-prod'] },
      { AWS_REGION: 'eu-west-1' },
      {
        plugin: 'aws-iam-authenticator token',
        clusterId: 'planner-prod',
        region: 'eu-west-1',
        sessionName: 'planner-deploy',
      },
    ],
    [
      'aws-iam-authenticator token -i -r, with AWS_PROFILE, no region (global STS)',
      {
        command: 'aws-iam-authenticator',
        args: ['token', '-i', 'planner-prod', '-r', ROLE, '--external-id', 'x-123'],
        env: [{ name: 'AWS_PROFILE', value: 'ops' }],
      },
      {},
      {
        plugin: 'aws-iam-authenticator token',
        clusterId: 'planner-prod',
        region: 'us-east-1',
        roleArn: ROLE,
        externalId: 'x-123',
        sessionName: 'planner-deploy',
        profile: 'ops',
      },
    ],
  ])('%s', (_name, exec, processEnv, expected) => {
    expect(eksExecAuthOf(execUser(exec), processEnv)).toEqual(expected);
  });

  it('returns undefined for a user with a token or certificate', () => {
    expect(eksExecAuthOf({ name: 'admin' }, {})).toBeUndefined();
    expect(eksExecAuthOf({ name: 'admin', exec: null, authProvider: null }, {})).toBeUndefined();
  });
});

describe('eksExecAuthOf: what it refuses, and the message', () => {
  const getToken = ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'planner-prod'];
  it.each<[string, { exec?: Record<string, unknown>; authProvider?: unknown }, RegExp]>([
    [
      'GKE’s plugin',
      { exec: { command: 'gke-gcloud-auth-plugin' } },
      /exec plugin "gke-gcloud-auth-plugin", which cannot run here.*`aws eks get-token` and `aws-iam-authenticator token`.*cluster-name and region/,
    ],
    [
      'kubelogin (OIDC)',
      { exec: { command: 'kubectl', args: ['oidc-login', 'get-token'] } },
      /exec plugin "kubectl".*cluster-name and region instead of a kubeconfig.*token or a client certificate/,
    ],
    [
      'another aws command',
      { exec: { command: 'aws', args: ['sts', 'get-session-token'] } },
      /exec plugin "aws sts get-session-token", which cannot run here/,
    ],
    [
      'an auth-provider',
      { authProvider: { name: 'gcp', config: {} } },
      /auth-provider "gcp", which planner-deploy does not support.*cluster-name and region/,
    ],
    [
      'an unknown option of aws eks get-token',
      { exec: { command: 'aws', args: [...getToken, '--endpoint-url', 'https://sts.example'] } },
      /passes "--endpoint-url" to `aws eks get-token`, which planner-deploy does not understand.*--cluster-name/,
    ],
    [
      'neither --cluster-name nor --cluster-id',
      { exec: { command: 'aws', args: ['--region', 'eu-west-1', 'eks', 'get-token'] } },
      /without --cluster-name or --cluster-id/,
    ],
    [
      'both --cluster-name and --cluster-id',
      { exec: { command: 'aws', args: [...getToken, '--cluster-id', 'abc'] } },
      /both --cluster-name and --cluster-id/,
    ],
    [
      'an option without its value',
      { exec: { command: 'aws', args: ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name'] } },
      /passes --cluster-name to `aws eks get-token` without a value/,
    ],
    [
      'no region anywhere',
      { exec: { command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'planner-prod'] } },
      /without --region, and AWS_REGION is not set/,
    ],
    [
      'a bad region',
      { exec: { command: 'aws', args: ['--region', 'Mars-1', 'eks', 'get-token', '--cluster-name', 'p'] } },
      /region "Mars-1"; expected an AWS region/,
    ],
    [
      'a role that is not a role ARN',
      { exec: { command: 'aws', args: [...getToken, '--role', 'arn:aws:iam::123:user/me'] } },
      /assume "arn:aws:iam::123:user\/me", which is not an IAM role ARN/,
    ],
    [
      '--output text',
      { exec: { command: 'aws', args: [...getToken, '--output', 'text'] } },
      /--output "text".*needs json/,
    ],
    [
      'an env entry we cannot honour',
      {
        exec: {
          command: 'aws',
          args: getToken,
          env: [{ name: 'AWS_CONFIG_FILE', value: '/home/me/.aws/config' }],
        },
      },
      /sets "AWS_CONFIG_FILE" in its env, which planner-deploy does not honour/,
    ],
    [
      'aws-iam-authenticator without -i',
      { exec: { command: 'aws-iam-authenticator', args: ['token'] } },
      /runs `aws-iam-authenticator token` without -i \(--cluster-id\)/,
    ],
    [
      'aws-iam-authenticator --forward-session-name',
      { exec: { command: 'aws-iam-authenticator', args: ['token', '-i', 'p', '--forward-session-name'] } },
      /passes "--forward-session-name" to `aws-iam-authenticator token`/,
    ],
    [
      'a cluster name with shell characters',
      {
        exec: {
          command: 'aws',
          args: ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'a;rm -rf'],
        },
      },
      /names the cluster "a;rm -rf".*expected an EKS cluster name or id/,
    ],
  ])('%s', (_name, user, message) => {
    let error: unknown;
    try {
      eksExecAuthOf({ name: 'deployer', ...user }, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('"deployer"');
  });
});
