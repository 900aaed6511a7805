// Every input of build-push given a bad value, through the built dist: exit 1, one error annotation naming the
// input, and nothing done — no AWS request (the sandbox counts them) and no docker command (a stand-in docker
// on the PATH records every call). Needs no dockerd.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStep } from '@planner-deploy/runner-harness';
import { startAwsSandbox, type AwsSandbox } from '../../../../packages/sandbox/src/aws/index.js';
import { ACTION, makeWorkspace, newSha } from './environment.js';

const SECRET = 'tops3cret-build-secret-value';

const cases: { input: string; value: string; expect?: RegExp; extra?: Record<string, string> }[] = [
  { input: 'repository', value: 'Planner/App' },
  { input: 'repository', value: 'a' },
  { input: 'registry', value: '12345' },
  { input: 'registry', value: 'public.ecr.aws' },
  { input: 'registry', value: 'not a host!' },
  { input: 'region', value: 'Europe' },
  { input: 'create-repository', value: 'yes' },
  { input: 'context', value: 'no/such/dir' },
  { input: 'file', value: 'app/Dockerfile.missing' },
  { input: 'target', value: '-prod' },
  { input: 'build-args', value: 'NO_EQUALS_SIGN' },
  { input: 'build-args', value: '1BAD=x' },
  { input: 'secrets', value: `bad id!=${SECRET}` },
  { input: 'platforms', value: 'linux/amd64,amiga/68k' },
  { input: 'sha', value: 'abc1234' },
  { input: 'tags', value: 'ok,-bad' },
  { input: 'environment', value: 'prod env' },
  { input: 'push', value: 'maybe' },
  { input: 'skip-if-exists', value: 'sometimes' },
  { input: 'cache', value: 's3' },
  { input: 'labels', value: '=value' },
  { input: 'buildx-version', value: 'latest' },
];

describe('build-push rejects a bad value of every input before doing anything', () => {
  let sandbox: AwsSandbox;
  let workspace: string;
  let bin: string;
  let calls: string;

  beforeAll(async () => {
    sandbox = await startAwsSandbox();
    workspace = await makeWorkspace('inputs');
    bin = await mkdtemp(join(tmpdir(), 'build-push-bin-'));
    calls = join(bin, 'calls.log');
    // A docker that only records that it was called.
    await writeFile(join(bin, 'docker'), `#!/bin/sh\necho "$@" >> '${calls}'\nexit 1\n`);
    await chmod(join(bin, 'docker'), 0o755);
  });

  afterAll(async () => {
    await sandbox.stop();
    await rm(workspace, { recursive: true, force: true });
    await rm(bin, { recursive: true, force: true });
  });

  it.each(cases)('$input: $value', async ({ input, value }) => {
    const result = await runStep({
      action: ACTION,
      workspace,
      inputs: { repository: 'planner/app', context: 'app', [input]: value },
      env: { ...sandbox.env(), PATH: `${bin}:${process.env['PATH'] ?? ''}`, GITHUB_SHA: newSha() },
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations).toHaveLength(1);
    expect(result.annotations[0]!.level).toBe('error');
    expect(result.annotations[0]!.title).toMatch(new RegExp(`(Invalid|Missing) input: ${input}$`));
    expect(result.annotations[0]!.message).toContain(`"${input}"`);
    expect(sandbox.requests).toEqual([]);
    await expect(readFile(calls, 'utf8')).rejects.toThrow();
    expect(result.log).not.toContain(SECRET);
  });

  it('a missing repository is named', async () => {
    const result = await runStep({
      action: ACTION,
      workspace,
      inputs: { context: 'app' },
      env: { ...sandbox.env(), GITHUB_SHA: newSha() },
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations[0]!.title).toBe('Missing input: repository');
  });

  it('a missing Dockerfile names input "file"', async () => {
    const result = await runStep({
      action: ACTION,
      workspace,
      inputs: { repository: 'planner/app', context: '.' },
      env: { ...sandbox.env(), GITHUB_SHA: newSha() },
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations[0]!.title).toBe('Missing input: file');
  });

  it('no region anywhere names input "region"', async () => {
    const env = { ...sandbox.env(), AWS_REGION: '', AWS_DEFAULT_REGION: '', GITHUB_SHA: newSha() };
    const result = await runStep({
      action: ACTION,
      workspace,
      inputs: { repository: 'planner/app', context: 'app' },
      env,
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations[0]!.title).toBe('Missing input: region');
    expect(sandbox.requests).toEqual([]);
  });

  it('a repository naming another registry than input "registry" is refused', async () => {
    const result = await runStep({
      action: ACTION,
      workspace,
      inputs: {
        repository: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/planner/app',
        registry: '222222222222',
        context: 'app',
      },
      env: { ...sandbox.env(), GITHUB_SHA: newSha() },
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations[0]!.message).toContain('"repository"');
    expect(result.annotations[0]!.message).toContain('222222222222');
  });

  it('outside a workflow (no GITHUB_SHA) says the commit is unknown', async () => {
    const result = await runStep({
      action: ACTION,
      workspace,
      inputs: { repository: 'planner/app', context: 'app' },
      env: { ...sandbox.env(), GITHUB_SHA: '' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations[0]!.title).toBe('No commit SHA');
    expect(sandbox.requests).toEqual([]);
  });

  it('AWS credentials that ECR refuses fail with the request named and what to check, before any docker call', async () => {
    const result = await runStep({
      action: ACTION,
      workspace,
      inputs: { repository: 'planner/app', context: 'app' },
      env: {
        ...sandbox.env(),
        AWS_SECRET_ACCESS_KEY: 'not-the-sandbox-secret-key-0000000000000',
        PATH: `${bin}:${process.env['PATH'] ?? ''}`,
        GITHUB_SHA: newSha(),
      },
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations).toHaveLength(1);
    expect(result.annotations[0]!.title).toBe('ECR request failed');
    expect(result.annotations[0]!.message).toContain('get an ECR authorization token');
    expect(result.annotations[0]!.message).toContain('InvalidSignatureException');
    expect(result.annotations[0]!.message).toContain('configure-aws-credentials');
    expect(sandbox.requests.map((r) => r.action)).toEqual(['GetAuthorizationToken']);
    await expect(readFile(calls, 'utf8')).rejects.toThrow();
    sandbox.requests.length = 0;
  });
});
