import { describe, expect, it } from '@jest/globals';
import {
  composeBody,
  deploymentSection,
  runUrl,
  type DeploymentDetails,
  type RunLink,
} from '../../src/body.js';

const run: RunLink = {
  serverUrl: 'https://github.com',
  repository: 'owner/repo',
  runId: '42',
  runAttempt: '1',
  workflow: 'cd-production',
};
const none: DeploymentDetails = {
  environment: undefined,
  'environment-url': undefined,
  image: undefined,
  'snapshot-identifier': undefined,
};
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/planner@sha256:${'b'.repeat(64)}`;

describe('composeBody', () => {
  it.each<[string, Parameters<typeof composeBody>[0], string]>([
    ['only notes', { body: undefined, notes: 'NOTES', deployment: none, run }, 'NOTES'],
    ['body before notes', { body: 'INTRO', notes: 'NOTES', deployment: none, run }, 'INTRO\n\nNOTES'],
    ['blank parts dropped', { body: '  ', notes: '\nNOTES\n', deployment: none, run }, 'NOTES'],
    ['nothing at all', { body: undefined, notes: undefined, deployment: none, run }, ''],
  ])('%s', (_case, parts, expected) => {
    expect(composeBody(parts)).toBe(expected);
  });

  it('puts the Deployment section last', () => {
    const body = composeBody({
      body: 'INTRO',
      notes: 'NOTES',
      deployment: { ...none, environment: 'production' },
      run,
    });
    expect(body.startsWith('INTRO\n\nNOTES\n\n## Deployment\n')).toBe(true);
  });

  it('cuts only the generated notes, saying so, to stay within the limit', () => {
    const body = composeBody(
      { body: 'INTRO', notes: 'n'.repeat(5000), deployment: { ...none, image: IMAGE }, run },
      1000,
    );
    expect(body.length).toBeLessThanOrEqual(1000);
    expect(body.startsWith('INTRO\n\nnnn')).toBe(true);
    expect(body).toContain('notes were cut');
    expect(body).toContain(IMAGE);
  });
});

describe('deploymentSection', () => {
  it('is empty without deployment details', () => {
    expect(deploymentSection(none, run)).toBe('');
  });

  it('shows every detail and links the run', () => {
    const section = deploymentSection(
      {
        environment: 'production',
        'environment-url': 'https://planner.example.com/',
        image: IMAGE,
        'snapshot-identifier': 'planner-pre-v1-2-0',
      },
      { ...run, runAttempt: '3' },
    );
    expect(section.split('\n')).toEqual([
      '## Deployment',
      '',
      '| | |',
      '| --- | --- |',
      '| Environment | [production](https://planner.example.com/) |',
      `| Image | \`${IMAGE}\` |`,
      '| Database snapshot | `planner-pre-v1-2-0` |',
      '| Workflow run | [cd-production #42](https://github.com/owner/repo/actions/runs/42) (attempt 3) |',
    ]);
  });

  it.each<[string, Partial<DeploymentDetails>, string]>([
    [
      'a URL alone labels itself',
      { 'environment-url': 'https://x.example' },
      '[https://x.example](https://x.example)',
    ],
    ['an environment alone is text', { environment: 'staging' }, '| Environment | staging |'],
    ['markdown in a name is escaped', { environment: 'prod|eu_1' }, '| Environment | prod\\|eu\\_1 |'],
    [
      'a parenthesis in a URL cannot end the link',
      { 'environment-url': 'https://x.example/a)b' },
      '(https://x.example/a%29b)',
    ],
  ])('%s', (_case, details, expected) => {
    expect(deploymentSection({ ...none, ...details }, run)).toContain(expected);
  });

  it('leaves the run out when the run id is unknown', () => {
    const section = deploymentSection({ ...none, environment: 'staging' }, { ...run, runId: undefined });
    expect(section).not.toContain('Workflow run');
    expect(runUrl({ ...run, runId: undefined })).toBeUndefined();
    expect(runUrl({ ...run, serverUrl: 'https://ghe.example.com/' })).toBe(
      'https://ghe.example.com/owner/repo/actions/runs/42',
    );
  });
});
