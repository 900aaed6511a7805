// assumeRoleCredentials with the real STS client against the sandbox's STS (found through
// AWS_ENDPOINT_URL_STS, as on a runner pointed at LocalStack).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ConfigurationError } from '@planner-deploy/core';
import { startAwsSandbox, type AwsSandbox } from '../../sandbox/src/aws/index.js';
import { assumeRoleCredentials } from '../src/assume-role.js';

let aws: AwsSandbox;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  aws = await startAwsSandbox({ region: 'eu-west-1' });
  for (const [name, value] of Object.entries(aws.env())) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await aws.stop();
});

const source = () => Promise.resolve({ ...aws.credentials });
const ROLE = 'arn:aws:iam::123456789012:role/planner-deploy';

describe('assumeRoleCredentials', () => {
  it('assumes the role once, masks the secrets, and the credentials act as the role session', async () => {
    const masked: string[] = [];
    let clock = Date.now();
    const provider = assumeRoleCredentials({
      roleArn: ROLE,
      sessionName: 'EKSGetTokenAuth',
      region: 'eu-west-1',
      source,
      mask: (v) => masked.push(v),
      now: () => new Date(clock),
    });
    const from = aws.requests.length;
    const first = await provider();
    expect(first.accessKeyId).toMatch(/^ASIA/);
    expect(masked).toEqual([first.secretAccessKey, first.sessionToken]);
    expect(await provider()).toBe(first);
    expect(aws.requests.slice(from).filter((r) => r.action === 'AssumeRole')).toHaveLength(1);

    const sts = new STSClient({ region: 'eu-west-1', credentials: first });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    expect(me.Arn).toBe('arn:aws:sts::123456789012:assumed-role/planner-deploy/EKSGetTokenAuth');

    // 56 minutes on, the hour-long credentials are within five minutes of expiring: renewed.
    clock += 56 * 60_000;
    const renewed = await provider();
    expect(renewed.accessKeyId).not.toBe(first.accessKeyId);
    expect(aws.requests.slice(from).filter((r) => r.action === 'AssumeRole')).toHaveLength(2);
  });

  it('a role the identity may not assume is a ConfigurationError naming the role and the permission', async () => {
    const provider = assumeRoleCredentials({
      roleArn: 'arn:aws:iam::999999999999:role/elsewhere',
      sessionName: 'EKSGetTokenAuth',
      region: 'eu-west-1',
      source,
    });
    const error = await provider().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /Not allowed to assume the role arn:aws:iam::999999999999:role\/elsewhere: .*not authorized to perform: sts:AssumeRole.*trust policy/,
    );
  });

  it('source credentials STS does not know are a ConfigurationError too', async () => {
    const provider = assumeRoleCredentials({
      roleArn: ROLE,
      sessionName: 'EKSGetTokenAuth',
      region: 'eu-west-1',
      source: () => Promise.resolve({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'nope' }),
    });
    const error = await provider().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/No valid AWS credentials to assume the role/);
  });
});
