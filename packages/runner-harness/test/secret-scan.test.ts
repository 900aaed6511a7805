import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CAPTURED_SECRETS_FILE,
  CAPTURE_DIR_ENV,
  collectSecrets,
  kubeconfigSecrets,
  runStep,
  type KnownSecret,
} from '../src/index.js';

const leaky = 'packages/runner-harness/test/fixtures/leaky-action';
const PASSWORD = 'pl4nted-deploy-password-0001';
const TOKEN = 'planted-bearer-token-abcdef0123456789';
const KEY_DATA = Buffer.from(
  '-----BEGIN PRIVATE KEY-----\nMIIplantedKEYbodyLine0001\n-----END PRIVATE KEY-----\n',
).toString('base64');

const kubeconfig = (user: string): string =>
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
    'contexts: [{name: c, context: {cluster: c, user: u}}]',
    'current-context: c',
    `users: [{name: u, user: ${user}}]`,
    '',
  ].join('\n');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secret-scan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('collectSecrets', () => {
  it('takes env and inputs whose names look secret, kubeconfig credentials, secret headers and URL passwords', () => {
    const secrets = collectSecrets(
      {
        AWS_SECRET_ACCESS_KEY: 'aws-secret-value-1',
        AWS_REGION: 'us-east-1',
        ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x/y',
      },
      {
        'github-token': 'ghs_inputTokenValue',
        kubeconfig: Buffer.from(kubeconfig(`{token: ${TOKEN}}`)).toString('base64'),
        secrets: 'npm=npm-secret-value\nshort=abc',
        headers:
          'Authorization: Bearer header-bearer-value\nX-Deploy-Token: deploy-header-value\nAccept: application/json-ish',
        'secret-headers': 'X-Deploy-Token',
        urls: 'https://user:url-password-1@example.com/health',
        namespace: 'planner-production',
      },
    );
    const byValue = Object.fromEntries(secrets.map((s: KnownSecret) => [s.value, s.source]));
    expect(byValue).toMatchObject({
      'aws-secret-value-1': 'env AWS_SECRET_ACCESS_KEY',
      ghs_inputTokenValue: 'input "github-token"',
      [TOKEN]: 'a credential in input "kubeconfig"',
      'npm-secret-value': 'a value in input "secrets"',
      'header-bearer-value': 'a secret header value in input "headers"',
      'deploy-header-value': 'a secret header value in input "headers"',
      'url-password-1': 'a URL password in input "urls"',
    });
    const values = secrets.map((s) => s.value);
    expect(values).not.toContain('planner-production');
    expect(values).not.toContain('application/json-ish');
    expect(values).not.toContain('X-Deploy-Token');
    expect(values).not.toContain('https://x/y');
    expect(values).not.toContain('abc');
  });

  it('finds the token, password and client key (and its PEM body) of every kubeconfig user', () => {
    expect(
      kubeconfigSecrets(kubeconfig(`{password: kube-password-1, client-key-data: ${KEY_DATA}}`)),
    ).toEqual(expect.arrayContaining(['kube-password-1', KEY_DATA, 'MIIplantedKEYbodyLine0001']));
    expect(kubeconfigSecrets('not: [yaml')).toEqual([]);
  });
});

describe('runStep secret scan', () => {
  it('fails the run that prints a secret env value, naming the source and never the value', async () => {
    const run = runStep({
      action: leaky,
      inputs: { mode: 'env-in-log' },
      env: { DEPLOY_PASSWORD: PASSWORD },
    });
    await expect(run).rejects.toThrow(/Secret leak in .*leaky-action: env DEPLOY_PASSWORD in the log/);
    await expect(run).rejects.not.toThrow(PASSWORD);
  });

  it('with allowLeaks returns the leaks instead', async () => {
    const result = await runStep({
      action: leaky,
      inputs: { mode: 'env-in-log' },
      env: { DEPLOY_PASSWORD: PASSWORD },
      allowLeaks: true,
    });
    expect(result.leaks).toEqual(['env DEPLOY_PASSWORD in the log']);
    expect(result.leaks.join()).not.toContain(PASSWORD);
  });

  it('catches a kubeconfig token (plain or base64 input) in the job summary', async () => {
    for (const value of [
      kubeconfig(`{token: ${TOKEN}}`),
      Buffer.from(kubeconfig(`{token: ${TOKEN}}`)).toString('base64'),
    ]) {
      const result = await runStep({
        action: leaky,
        inputs: { mode: 'kubeconfig-token', kubeconfig: value },
        allowLeaks: true,
      });
      expect(result.summary).toContain(TOKEN);
      expect(result.leaks).toEqual(['a credential in input "kubeconfig" in the job summary']);
    }
  });

  it('catches the client key of the KUBECONFIG file in an annotation', async () => {
    const file = join(dir, 'kubeconfig');
    await writeFile(file, kubeconfig(`{client-key-data: ${KEY_DATA}}`));
    const result = await runStep({
      action: leaky,
      inputs: { mode: 'key-in-annotation' },
      env: { KUBECONFIG: file },
      allowLeaks: true,
    });
    expect(result.exitCode).toBe(1);
    expect(result.leaks).toEqual(
      expect.arrayContaining(['a credential in the KUBECONFIG file in the annotations']),
    );
  });

  it('catches a secret the caller names (the ECR password) in an output', async () => {
    const result = await runStep({
      action: leaky,
      inputs: { mode: 'value-in-output' },
      env: { ECR_PASS: 'ecr-password-value-42' },
      secrets: { 'the ECR password': 'ecr-password-value-42' },
      allowLeaks: true,
    });
    expect(result.leaks).toEqual(['the ECR password in the outputs']);
  });

  it('judges what the runner shows: a mask printed while commands are stopped is no mask', async () => {
    const result = await runStep({
      action: leaky,
      inputs: { mode: 'masked-while-stopped' },
      env: { DEPLOY_PASSWORD: PASSWORD },
      allowLeaks: true,
    });
    expect(result.masks).toEqual([]);
    expect(result.commandsStoppedAtEnd).toBe(true);
    expect(result.leaks).toEqual(['env DEPLOY_PASSWORD in the log']);
  });

  it('finds nothing when the secret is masked first, or is too short to tell from text', async () => {
    const masked = await runStep({
      action: leaky,
      inputs: { mode: 'masked' },
      env: { DEPLOY_PASSWORD: PASSWORD },
    });
    expect(masked.log).toContain('connecting with ***');
    expect(masked.leaks).toEqual([]);
    const short = await runStep({
      action: leaky,
      inputs: { mode: 'short' },
      env: { DEPLOY_PASSWORD: '1234' },
    });
    expect(short.log).toContain('pin 1234');
    expect(short.leaks).toEqual([]);
  });

  it(`appends each run's visible output and known secrets to $${CAPTURE_DIR_ENV}`, async () => {
    const capture = join(dir, 'capture');
    const previous = process.env[CAPTURE_DIR_ENV];
    process.env[CAPTURE_DIR_ENV] = capture;
    try {
      await runStep({
        action: leaky,
        inputs: { mode: 'masked', kubeconfig: kubeconfig(`{token: ${TOKEN}}`), value: 'shown-text' },
        env: { DEPLOY_PASSWORD: PASSWORD },
      });
      await runStep({
        action: leaky,
        inputs: { mode: 'env-in-log' },
        env: { DEPLOY_PASSWORD: PASSWORD },
        allowLeaks: true,
      });
    } finally {
      if (previous === undefined) delete process.env[CAPTURE_DIR_ENV];
      else process.env[CAPTURE_DIR_ENV] = previous;
    }
    const files = await readdir(capture);
    // The run allowed to leak is not captured (it would fail the suite's final scan): only the masked one.
    const logs = files.filter((f) => f.endsWith('.log'));
    expect(logs).toHaveLength(1);
    const log = await readFile(join(capture, logs[0] as string), 'utf8');
    expect(log).toContain('value: shown-text');
    expect(log).toContain('connecting with ***');
    expect(log).not.toContain(PASSWORD);
    const recorded = (await readFile(join(capture, CAPTURED_SECRETS_FILE), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as KnownSecret);
    expect(recorded).toContainEqual({ source: 'a credential in input "kubeconfig"', value: TOKEN });
    expect(recorded).toContainEqual({ source: 'env DEPLOY_PASSWORD', value: PASSWORD });
  });
});
