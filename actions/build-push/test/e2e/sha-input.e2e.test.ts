// The `sha` input: a job that checks out another ref than the workflow's commit (the reusable deploy
// workflow's `ref`) tags and labels the image with the commit it checked out, never GITHUB_SHA. Runs the
// built dist against the sandbox's in-memory ECR on the skip-if-exists path, so it needs no dockerd.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { runStep } from '@planner-deploy/runner-harness';
import { startAwsSandbox, type AwsSandbox } from '../../../../packages/sandbox/src/aws/index.js';
import { ACTION, makeWorkspace, newSha } from './environment.js';

describe('build-push sha input', () => {
  let sandbox: AwsSandbox;
  let workspace: string;

  beforeAll(async () => {
    sandbox = await startAwsSandbox();
    workspace = await makeWorkspace('sha-input');
  });

  afterAll(async () => {
    await sandbox.stop();
    await rm(workspace, { recursive: true, force: true });
  });

  it('tags what was checked out: the image of `sha`, not of GITHUB_SHA, is reused and tagged', async () => {
    const checkedOut = newSha();
    const caller = newSha();
    // Both commits were built before, each its own image.
    const ours = await sandbox.ecr.addImage('planner/app', checkedOut);
    const theirs = await sandbox.ecr.addImage('planner/app', caller);
    expect(ours.digest).not.toBe(theirs.digest);

    const result = await runStep({
      action: ACTION,
      workspace,
      inputs: { repository: 'planner/app', context: 'app', environment: 'staging', sha: checkedOut },
      env: { ...sandbox.env(), GITHUB_SHA: caller },
    });

    expect(result.exitCode).toBe(0);
    expect(result.outputs['built']).toBe('false');
    expect(result.outputs['digest']).toBe(ours.digest);
    expect(result.outputs['image-uri']).toMatch(new RegExp(`/planner/app:${checkedOut}$`));
    const images = await sandbox.ecr.images('planner/app');
    const staging = images.find((image) => image.tags.includes('staging-latest'));
    expect(staging?.digest).toBe(ours.digest);
  });
});
