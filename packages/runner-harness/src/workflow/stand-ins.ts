/**
 * Local stand-ins for the third-party actions the example workflows use. Each says in the log what it
 * stands in for; an action without a stand-in is an error (NoStandInError), never skipped. The list is
 * documented in docs/workflow-runner.md (kept in step with STAND_INS by a test).
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type { Annotation } from '../workflow-commands.js';

export interface StandInContext {
  /** `with:`, evaluated. */
  inputs: Record<string, string>;
  workspace: string;
  github: { sha: string; ref: string; refName: string; repository: string };
  /** The fixture app's tree that actions/checkout copies. */
  fixture: string;
  /** What configure-aws-credentials exports: the sandbox's AWS endpoints, credentials and region. */
  awsEnv: Record<string, string>;
  awsAccountId: string;
  /** Where upload-artifact puts what it uploads. */
  artifactsDir: string;
  /** Called with every commit checked out (e.g. to put that commit's image in the sandbox's ECR). */
  prepareCommit?: (commit: { sha: string; ref: string }) => Promise<void>;
  log: (line: string) => void;
  annotate: (annotation: Annotation) => void;
}

export interface StandInResult {
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  path?: string[];
}

export interface StandIn {
  /** One line for the log and the docs: what the stand-in does instead. */
  does: string;
  run(ctx: StandInContext): Promise<StandInResult>;
}

/** A `uses:` that pnpm workflow cannot run here. */
export class NoStandInError extends Error {
  constructor(uses: string) {
    super(
      `uses: ${uses} — pnpm workflow has no local stand-in for this action (it has: ${Object.keys(STAND_INS).join(', ')}). ` +
        'Run the workflow with act, or add a stand-in in packages/runner-harness/src/workflow/stand-ins.ts.',
    );
  }
}

/**
 * The commit a ref names in the fixture repository: the run's own commit for its ref, name or SHA; a full
 * SHA as it is; any other ref a stable made-up SHA (sha1 of the ref), so a deploy of `ref: hotfix-x` gets
 * its own commit and its own image.
 */
export function commitOf(ref: string, github: StandInContext['github']): string {
  if (ref === '' || ref === github.ref || ref === github.refName || ref === github.sha) return github.sha;
  if (/^[0-9a-f]{40}$/.test(ref)) return ref;
  return createHash('sha1')
    .update(`planner-app:${ref.replace(/^refs\/(heads|tags)\//, '')}`)
    .digest('hex');
}

function inside(workspace: string, path: string, input: string): string {
  const target = resolve(workspace, path);
  const rel = relative(workspace, target);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new Error(`Input "${input}": "${path}" is outside the workspace (${workspace})`);
  return target;
}

const checkout: StandIn = {
  does: "copies the fixture app's tree (examples/planner-app) into the workspace; `ref` picks the commit it reports",
  async run(ctx) {
    const repository = ctx.inputs['repository'] || ctx.github.repository;
    if (repository !== ctx.github.repository)
      throw new Error(
        `Input "repository": "${repository}" — the checkout stand-in has only the app's repository (${ctx.github.repository})`,
      );
    const ref = ctx.inputs['ref'] ?? '';
    const sha = commitOf(ref, ctx.github);
    const fullRef = ref === '' ? ctx.github.ref : ref;
    const target = inside(ctx.workspace, ctx.inputs['path'] ?? '.', 'path');
    await mkdir(target, { recursive: true });
    await cp(ctx.fixture, target, { recursive: true, dereference: true });
    await ctx.prepareCommit?.({ sha, ref: fullRef });
    ctx.log(`checked out ${repository}@${fullRef} (commit ${sha}) from ${ctx.fixture}`);
    return { outputs: { ref: fullRef, commit: sha } };
  },
};

const awsCredentials: StandIn = {
  does: "exports the sandbox's AWS credentials, endpoints (AWS_ENDPOINT_URL_*) and the region",
  run(ctx) {
    const region = ctx.inputs['aws-region'] ?? '';
    if (region === '') throw new Error('Input "aws-region" is required (configure-aws-credentials)');
    const how = ctx.inputs['role-to-assume']
      ? `role ${ctx.inputs['role-to-assume']} (OIDC)`
      : ctx.inputs['aws-access-key-id']
        ? 'the given access key'
        : 'the credentials already in the environment';
    ctx.log(
      `AWS credentials for account ${ctx.awsAccountId} in ${region}: the sandbox's, standing in for ${how}`,
    );
    const env = { ...ctx.awsEnv, AWS_REGION: region, AWS_DEFAULT_REGION: region };
    return Promise.resolve({ env, outputs: { 'aws-account-id': ctx.awsAccountId } });
  },
};

function notRunHere(
  what: string,
  outputs: (ctx: StandInContext) => Record<string, string> = () => ({}),
): StandIn {
  return {
    does: what,
    run(ctx) {
      ctx.log(`stand-in: ${what}`);
      return Promise.resolve({ outputs: outputs(ctx) });
    },
  };
}

const uploadArtifact: StandIn = {
  does: 'copies the files named by `path` to .tmp/workflow/artifacts/<name>',
  async run(ctx) {
    const name = ctx.inputs['name'] || 'artifact';
    if (!/^[\w.-]+$/.test(name)) throw new Error(`Input "name": "${name}" is not a valid artifact name`);
    const paths = (ctx.inputs['path'] ?? '')
      .split('\n')
      .map((p) => p.trim())
      .filter(Boolean);
    if (paths.length === 0) throw new Error('Input "path" is required (upload-artifact)');
    const target = join(ctx.artifactsDir, name);
    let copied = 0;
    for (const path of paths) {
      if (path.startsWith('!') || /[*?[]/.test(path)) {
        ctx.log(`pattern ${path}: the stand-in copies plain paths only, skipped`);
        continue;
      }
      const source = inside(ctx.workspace, path, 'path');
      const found = await stat(source).catch(() => undefined);
      if (!found) continue;
      await mkdir(target, { recursive: true });
      await cp(source, join(target, basename(source)), { recursive: true });
      copied++;
    }
    const ifNone = ctx.inputs['if-no-files-found'] || 'warn';
    if (copied === 0) {
      const message = `No files were found with the provided path: ${paths.join(', ')}. No artifacts will be uploaded.`;
      if (ifNone === 'error') throw new Error(message);
      if (ifNone === 'warn') ctx.annotate({ level: 'warning', message });
    } else ctx.log(`artifact ${name}: ${copied} path(s) copied to ${target}`);
    return { outputs: { 'artifact-id': '0', 'artifact-url': `file://${target}` } };
  },
};

const uploadSarif: StandIn = {
  does: 'checks the SARIF file parses (no code scanning here)',
  async run(ctx) {
    const file = inside(ctx.workspace, ctx.inputs['sarif_file'] || '../results', 'sarif_file');
    let runs: number;
    try {
      runs = (JSON.parse(await readFile(file, 'utf8')) as { runs?: unknown[] }).runs?.length ?? 0;
    } catch (e) {
      throw new Error(
        `Input "sarif_file": ${relative(ctx.workspace, file)} is not a readable SARIF file: ${(e as Error).message}`,
        { cause: e },
      );
    }
    ctx.log(
      `stand-in: ${relative(ctx.workspace, file)} is SARIF with ${runs} run(s); not uploaded (no code scanning here)`,
    );
    return {};
  },
};

const trivy: StandIn = {
  does: 'no Trivy here: writes a SARIF report with no results and says so in a warning',
  async run(ctx) {
    const output = ctx.inputs['output'] ?? '';
    ctx.annotate({
      level: 'warning',
      title: 'Trivy stand-in',
      message: `No vulnerability scan ran for ${ctx.inputs['image-ref'] || ctx.inputs['scan-ref'] || 'the workspace'}: Trivy is not available to pnpm workflow (run the workflow with act for a real scan).`,
    });
    if (output !== '') {
      const file = inside(ctx.workspace, output, 'output');
      const sarif = {
        version: '2.1.0',
        $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
        runs: [{ tool: { driver: { name: 'Trivy (pnpm workflow stand-in: not run)' } }, results: [] }],
      };
      await writeFile(file, JSON.stringify(sarif, null, 2));
      ctx.log(`stand-in: wrote an empty SARIF report to ${output}`);
    }
    return {};
  },
};

/** By `owner/repo[/path]`, without the `@ref`. */
export const STAND_INS: Record<string, StandIn> = {
  'actions/checkout': checkout,
  'aws-actions/configure-aws-credentials': awsCredentials,
  'docker/setup-buildx-action': notRunHere(
    'no buildx here: build-push uses the Docker engine it finds (legacy builder) or its skip-if-exists path',
  ),
  'actions/setup-node': notRunHere("uses the runner's Node (no download)", () => ({
    'node-version': process.version,
  })),
  'actions/setup-python': notRunHere('uses the python3 on PATH, if any (no download)', (ctx) => ({
    'python-version': ctx.inputs['python-version'] ?? '',
  })),
  'actions/upload-artifact': uploadArtifact,
  'codecov/codecov-action': notRunHere('nothing is uploaded to Codecov'),
  'github/codeql-action/upload-sarif': uploadSarif,
  'aquasecurity/trivy-action': trivy,
};

/** The stand-in for a `uses:`, or undefined. */
export function findStandIn(uses: string): StandIn | undefined {
  const at = uses.indexOf('@');
  return STAND_INS[(at < 0 ? uses : uses.slice(0, at)).toLowerCase()];
}
