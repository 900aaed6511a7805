import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultCredentials } from '../src/credentials.js';

const names = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_PROFILE',
];
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  for (const name of names) saved[name] = process.env[name];
  process.env.AWS_ACCESS_KEY_ID = 'AKIAENVEXAMPLE000001';
  process.env.AWS_SECRET_ACCESS_KEY = 'env/secret';
  process.env.AWS_SESSION_TOKEN = 'env-session';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
});
afterAll(() => {
  for (const name of names) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('defaultCredentials', () => {
  it('resolves the environment credentials through the SDK default chain, once', async () => {
    const provider = await defaultCredentials();
    expect(await provider()).toMatchObject({
      accessKeyId: 'AKIAENVEXAMPLE000001',
      secretAccessKey: 'env/secret',
      sessionToken: 'env-session',
    });
    expect(await defaultCredentials()).toBe(provider);
  });
});
