import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsSandbox, type AwsSandbox } from '../src/aws/index.js';
import {
  findExecutable,
  registryUnavailableReason,
  startRegistry,
  type RegistryInfo,
} from '../src/registry.js';

/** Runs docker with an argument array; resolves with the exit code and the output, never rejects. */
function docker(
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('docker', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdin.end(stdin ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

function dockerReachable(): Promise<boolean> {
  if (findExecutable('docker') === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 }, (err) => resolve(!err));
  });
}

const required = process.env['PLANNER_DEPLOY_REQUIRE_DOCKER'] === '1';
let reason = registryUnavailableReason();
if (reason === undefined && !(await dockerReachable())) reason = 'no reachable dockerd (set DOCKER_HOST)';
if (reason !== undefined && !required)
  console.warn(`NOTICE: docker push through the sandbox ECR is SKIPPED: ${reason}`);
const test = reason === undefined || required ? it : it.skip;

describe('docker login and push through the sandbox ECR and a real registry', () => {
  let registry: RegistryInfo | undefined;
  let sandbox: AwsSandbox;
  let ecr: ECRClient;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let host: string;

  beforeAll(async () => {
    if (reason !== undefined) {
      if (required) throw new Error(`PLANNER_DEPLOY_REQUIRE_DOCKER=1 but ${reason}`);
      return;
    }
    registry = await startRegistry();
    sandbox = await startAwsSandbox({ registry: registry! });
    ecr = new ECRClient({
      region: sandbox.region,
      endpoint: sandbox.endpoints.ecr,
      credentials: sandbox.credentials,
    });
    work = await mkdtemp(join(tmpdir(), 'ecr-docker-'));
    env = { ...process.env, DOCKER_CONFIG: join(work, 'docker-config') };
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'planner/app' }));
    await ecr.send(
      new CreateRepositoryCommand({ repositoryName: 'planner/locked', imageTagMutability: 'IMMUTABLE' }),
    );
    const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
    const [user, password] = Buffer.from(authorizationData![0]!.authorizationToken!, 'base64')
      .toString()
      .split(':');
    host = new URL(authorizationData![0]!.proxyEndpoint!).host;
    const login = await docker(['login', host, '-u', user!, '--password-stdin'], env, password);
    expect(login.output).toContain('Login Succeeded');
  });

  afterAll(async () => {
    if (reason !== undefined) return;
    ecr.destroy();
    await sandbox.stop();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  async function build(tag: string, content: string): Promise<void> {
    const context = await mkdtemp(join(work, 'ctx-'));
    await writeFile(join(context, 'hello.txt'), content);
    await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    const built = await docker(['build', '-q', '-t', tag, context], env);
    expect(built.code).toBe(0);
  }

  test('a pushed image shows in DescribeImages with the digest docker printed', async () => {
    const image = `${host}/planner/app:abc1234`;
    await build(image, 'first');
    const pushed = await docker(['push', image], env);
    expect(pushed.code).toBe(0);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.output)?.[1];
    expect(digest).toBeDefined();
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'planner/app', imageIds: [{ imageTag: 'abc1234' }] }),
    );
    expect(imageDetails?.[0]?.imageDigest).toBe(digest);
    expect(imageDetails?.[0]?.imageSizeInBytes).toBeGreaterThan(0);
  });

  test('a push to a repository ECR does not have fails with name unknown', async () => {
    const image = `${host}/planner/missing:abc1234`;
    await build(image, 'missing');
    const pushed = await docker(['push', image], env);
    expect(pushed.code).not.toBe(0);
    expect(pushed.output).toContain("The repository with name 'planner/missing' does not exist");
  });

  test('an immutable tag cannot be overwritten by docker push', async () => {
    const image = `${host}/planner/locked:v1.0.0`;
    await build(image, 'one');
    expect((await docker(['push', image], env)).code).toBe(0);
    await build(image, 'two');
    const again = await docker(['push', image], env);
    expect(again.code).not.toBe(0);
    expect(again.output).toContain(
      "tag invalid: The image tag 'v1.0.0' already exists in the 'planner/locked' repository and cannot be overwritten because the repository is immutable.",
    );
  });

  test('a transient registry failure fails one push; the next push goes through', async () => {
    const image = `${host}/planner/app:retry1`;
    await build(image, 'retry');
    sandbox.ecr.setFaults({ failPushes: 1 });
    const failed = await docker(['push', image], env);
    expect(failed.code).not.toBe(0);
    expect(failed.output).toMatch(/503|Service Unavailable/i);
    const retried = await docker(['push', image], env);
    expect(retried.code).toBe(0);
  });

  test('a wrong password is refused at login', async () => {
    const login = await docker(
      ['login', host, '-u', 'AWS', '--password-stdin'],
      { ...env, DOCKER_CONFIG: join(work, 'other') },
      'wrong',
    );
    expect(login.code).not.toBe(0);
    expect(login.output).toMatch(/unauthorized|401/);
  });
});
