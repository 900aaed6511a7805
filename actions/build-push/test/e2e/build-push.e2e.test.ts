// End to end: the built dist/index.js (main and post step) as the GitHub runner runs it, against a real dockerd
// and a real registry v2 behind the sandbox's ECR. `pnpm test` builds the dists first; alone:
// `pnpm build build-push`. Needs DOCKER_HOST (see specs/containers.md); skipped with a notice without it,
// except under PLANNER_DEPLOY_REQUIRE_DOCKER=1 (CI), where it fails.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import {
  REQUIRE_DOCKER,
  dockerAuths,
  dockerUnavailable,
  everythingPrinted,
  makeWorkspace,
  newSha,
  registryDigest,
  registryTags,
  runAction,
  startCloud,
  type Cloud,
} from './environment.js';

const reason = await dockerUnavailable();
if (reason !== undefined && !REQUIRE_DOCKER) {
  console.warn(`NOTICE: build-push end-to-end tests with docker are SKIPPED: ${reason}`);
}
const test = reason === undefined || REQUIRE_DOCKER ? it : it.skip;

function dockerInspect(reference: string, format: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', ['image', 'inspect', '--format', format, reference], (err, stdout) => {
      if (err) reject(new Error(`docker image inspect ${reference} failed: ${err.message}`));
      else resolve(stdout.trim());
    });
  });
}

function dockerImageExists(reference: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['image', 'inspect', '--format', '{{.Id}}', reference], (err) => resolve(!err));
  });
}

describe('build-push dist against dockerd and the sandbox ECR', () => {
  let cloud: Cloud;
  const workspaces: string[] = [];

  beforeAll(async () => {
    if (reason !== undefined) {
      if (REQUIRE_DOCKER) throw new Error(`PLANNER_DEPLOY_REQUIRE_DOCKER=1 but ${reason}`);
      return;
    }
    cloud = await startCloud();
    cloud.sandbox.ecr.createRepository('planner/app');
    cloud.sandbox.ecr.createRepository('planner/locked', { imageTagMutability: 'IMMUTABLE' });
  });

  afterAll(async () => {
    if (reason !== undefined) return;
    await cloud.stop();
    await Promise.all(workspaces.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function workspace(content: string): Promise<string> {
    const dir = await makeWorkspace(content);
    workspaces.push(dir);
    return dir;
  }

  test('builds, pushes and tags; the digest output is the registry manifest digest; logs out in the post step', async () => {
    const sha = newSha();
    const result = await runAction({
      cloud,
      workspace: await workspace('release 1.4.0'),
      sha,
      inputs: { repository: 'planner/app', environment: 'staging', target: 'production', tags: 'extra-1' },
      env: { GITHUB_REF: 'refs/tags/v1.4.0' },
    });
    expect(result.annotations).toEqual([]);
    expect(result.exitCode).toBe(0);

    const digest = await registryDigest(cloud.registry, 'planner/app', sha);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.outputs.digest).toBe(digest);
    expect(result.outputs.image).toBe(`${cloud.host}/planner/app@${digest}`);
    expect(result.outputs['image-uri']).toBe(`${cloud.host}/planner/app:${sha}`);
    expect(result.outputs.built).toBe('true');
    expect(result.outputs.registry).toBe(cloud.host);
    expect(result.outputs.tags!.split('\n')).toEqual(
      [sha, 'staging-latest', 'v1.4.0', 'extra-1'].map((t) => `${cloud.host}/planner/app:${t}`),
    );
    // Every tag points at the very manifest that was pushed.
    for (const tag of ['staging-latest', 'v1.4.0', 'extra-1']) {
      expect(await registryDigest(cloud.registry, 'planner/app', tag)).toBe(digest);
    }
    expect(result.summary).toContain(digest!);
    expect(result.summary).toMatch(/built \(docker build\) and pushed/);
    expect(result.summary).toMatch(/\d+(\.\d)? (B|KiB|MiB)/);

    // The post step logged out; the password was masked before anything could print it.
    expect(result.post?.exitCode).toBe(0);
    expect(result.post?.log).toContain(`Logged out of ${cloud.host}`);
    expect(await dockerAuths(result.dockerConfig)).not.toHaveProperty(cloud.host);
    expect(result.masks).toContain(cloud.registry.password);
    expect(everythingPrinted(result)).not.toContain(cloud.registry.password);
    // docker login got the password on stdin, never as an argument.
    expect(result.log).not.toMatch(/--password[ =]|\s-p\s/);
  });

  test('a re-run with the same SHA builds nothing and points the new tags at the same digest', async () => {
    const sha = newSha();
    const dir = await workspace('re-run');
    const first = await runAction({ cloud, workspace: dir, sha, inputs: { repository: 'planner/app' } });
    expect(first.exitCode).toBe(0);
    const digest = first.outputs.digest;

    const requestsBefore = cloud.sandbox.requests.length;
    const again = await runAction({
      cloud,
      workspace: dir,
      sha,
      inputs: { repository: 'planner/app', environment: 'production', tags: 'hotfix' },
    });
    expect(again.annotations).toEqual([]);
    expect(again.exitCode).toBe(0);
    expect(again.outputs.built).toBe('false');
    expect(again.outputs.digest).toBe(digest);
    expect(again.outputs.image).toBe(`${cloud.host}/planner/app@${digest}`);
    expect(again.log).not.toMatch(/Step \d+\/\d+ :/);
    expect(again.summary).toContain('reused');
    expect(again.summary).toMatch(/production-latest \| pointed here now/);
    expect(again.summary).toMatch(new RegExp(`${sha} \\| already here`));
    expect(await registryDigest(cloud.registry, 'planner/app', 'production-latest')).toBe(digest);
    expect(await registryDigest(cloud.registry, 'planner/app', 'hotfix')).toBe(digest);
    const actions = cloud.sandbox.requests.slice(requestsBefore).map((r) => r.action);
    expect(actions.filter((a) => a === 'PutImage')).toHaveLength(2);
    // Nothing was logged in to, so nothing needs logging out.
    expect(again.post?.log ?? '').not.toContain('Logged out');
  });

  test('an immutable repository with an existing tag fails before anything is built or pushed', async () => {
    const dir = await workspace('immutable one');
    const shaA = newSha();
    const first = await runAction({
      cloud,
      workspace: dir,
      sha: shaA,
      inputs: { repository: 'planner/locked', environment: 'staging' },
    });
    expect(first.exitCode).toBe(0);
    const digestA = await registryDigest(cloud.registry, 'planner/locked', 'staging-latest');
    expect(digestA).toBe(first.outputs.digest);

    // A re-run of the same commit is fine: every tag already points at its image.
    const rerun = await runAction({
      cloud,
      workspace: dir,
      sha: shaA,
      inputs: { repository: 'planner/locked', environment: 'staging' },
    });
    expect(rerun.exitCode).toBe(0);
    expect(rerun.outputs.built).toBe('false');

    const shaB = newSha();
    const tagsBefore = await registryTags(cloud.registry, 'planner/locked');
    const second = await runAction({
      cloud,
      workspace: await workspace('immutable two'),
      sha: shaB,
      inputs: { repository: 'planner/locked', environment: 'staging' },
    });
    expect(second.exitCode).toBe(1);
    expect(second.annotations).toHaveLength(1);
    expect(second.annotations[0]!.title).toBe('Image tag already exists');
    expect(second.annotations[0]!.message).toContain('staging-latest');
    expect(second.annotations[0]!.message).toContain('immutable');
    expect(second.outputs).toEqual({});
    // Nothing half-pushed: the new SHA tag does not exist, staging-latest is unchanged, nothing was built.
    expect(await registryTags(cloud.registry, 'planner/locked')).toEqual(tagsBefore);
    expect(await registryDigest(cloud.registry, 'planner/locked', 'staging-latest')).toBe(digestA);
    expect(second.log).not.toMatch(/Step \d+\/\d+ :/);
    expect(await dockerImageExists(`${cloud.host}/planner/locked:${shaB}`)).toBe(false);
  });

  test('push: false builds only: no AWS request, no login, the image is in the local docker', async () => {
    const sha = newSha();
    const before = cloud.sandbox.requests.length;
    const result = await runAction({
      cloud,
      workspace: await workspace('ci build check'),
      sha,
      inputs: {
        repository: 'planner/app',
        push: 'false',
        target: 'development',
        'build-args': 'GREETING=hello',
      },
    });
    expect(result.annotations).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.outputs.built).toBe('true');
    expect(result.outputs.image).toBe('');
    expect(result.outputs.digest).toBe('');
    expect(result.outputs['image-uri']).toBe(`planner/app:${sha}`);
    expect(cloud.sandbox.requests.length).toBe(before);
    expect(await registryDigest(cloud.registry, 'planner/app', sha)).toBeUndefined();
    expect(await dockerImageExists(`planner/app:${sha}`)).toBe(true);
    expect(await dockerAuths(result.dockerConfig)).toEqual({});
    // The OCI labels: the commit, the repository, and the stage that was asked for.
    const labels = JSON.parse(await dockerInspect(`planner/app:${sha}`, '{{json .Config.Labels}}')) as Record<
      string,
      string
    >;
    expect(labels).toMatchObject({
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.source': 'https://github.com/example-org/planner-app',
      stage: 'development',
    });
  });

  test('build secrets without buildx fail clearly before building, the secret masked', async () => {
    const secret = 'npm_SecretTokenValue_0123456789';
    const result = await runAction({
      cloud,
      workspace: await workspace('secrets'),
      sha: newSha(),
      inputs: { repository: 'planner/app', push: 'false', secrets: `npm_token=${secret}` },
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations[0]!.title).toBe('docker buildx needed');
    expect(result.annotations[0]!.message).toContain('buildx-version');
    expect(result.masks).toContain(secret);
    expect(everythingPrinted(result)).not.toContain(secret);
    expect(result.log).not.toMatch(/Step \d+\/\d+ :/);
  });

  test('registry given as the account id', async () => {
    const sha = newSha();
    const result = await runAction({
      cloud,
      workspace: await workspace('by account'),
      sha,
      inputs: { repository: 'planner/app', registry: cloud.sandbox.accountId },
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs.digest).toBe(await registryDigest(cloud.registry, 'planner/app', sha));
  });

  test('survives ECR throttling and a transient 503 from the sandbox registry front', async () => {
    const sha = newSha();
    const before = cloud.sandbox.requests.length;
    cloud.sandbox.ecr.setFaults({ throttle: 0.5, failPushes: 1 });
    try {
      const result = await runAction({
        cloud,
        workspace: await workspace('faults'),
        sha,
        inputs: { repository: 'planner/app', environment: 'faulty' },
      });
      expect(result.exitCode).toBe(0);
      const warnings = result.annotations.filter((a) => a.level === 'warning');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(/docker push failed \(attempt 1 of 4\)/);
      const throttled = cloud.sandbox.requests.slice(before).filter((r) => r.error === 'ThrottlingException');
      expect(throttled.length).toBeGreaterThan(0);
      const digest = await registryDigest(cloud.registry, 'planner/app', sha);
      expect(result.outputs.digest).toBe(digest);
      expect(await registryDigest(cloud.registry, 'planner/app', 'faulty-latest')).toBe(digest);
    } finally {
      cloud.sandbox.ecr.setFaults({ throttle: 0, failPushes: 0 });
    }
  });

  test('a registry password that is refused fails the login with a clear error and never shows it', async () => {
    const ecr = cloud.sandbox.ecr as unknown as { password: string };
    const real = ecr.password;
    // The token now carries a password the registry does not accept (a stale or foreign token).
    const wrong = 'WrongPassword-0123456789-abcdef';
    ecr.password = wrong;
    try {
      const sha = newSha();
      const result = await runAction({
        cloud,
        workspace: await workspace('wrong password'),
        sha,
        inputs: { repository: 'planner/app' },
      });
      expect(result.exitCode).toBe(1);
      expect(result.annotations).toHaveLength(1);
      expect(result.annotations[0]!.title).toBe('Docker login failed');
      expect(result.annotations[0]!.message).toMatch(/unauthorized|401/i);
      expect(result.annotations[0]!.message).toContain(cloud.host);
      expect(result.masks).toContain(wrong);
      expect(everythingPrinted(result)).not.toContain(wrong);
      expect(everythingPrinted(result)).not.toContain(real);
      expect(await registryDigest(cloud.registry, 'planner/app', sha)).toBeUndefined();
    } finally {
      ecr.password = real;
    }
  });

  test('a missing repository fails clearly, and create-repository creates it', async () => {
    const dir = await workspace('new repository');
    const sha = newSha();
    const missing = await runAction({ cloud, workspace: dir, sha, inputs: { repository: 'planner/worker' } });
    expect(missing.exitCode).toBe(1);
    expect(missing.annotations[0]!.title).toBe('ECR repository not found');
    expect(missing.annotations[0]!.message).toContain('create-repository');

    const created = await runAction({
      cloud,
      workspace: dir,
      sha,
      inputs: { repository: 'planner/worker', 'create-repository': 'true' },
    });
    expect(created.exitCode).toBe(0);
    expect(cloud.sandbox.ecr.repositories.has('planner/worker')).toBe(true);
    expect(created.outputs.digest).toBe(await registryDigest(cloud.registry, 'planner/worker', sha));
  });
});
