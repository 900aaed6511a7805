/**
 * `pnpm sandbox`: runs the sandbox's Kubernetes API in the foreground, prints the shell lines a client
 * needs once it is ready, and stops cleanly on Ctrl-C (SIGINT) or SIGTERM.
 *
 *   pnpm sandbox [--http] [--port N] [--apps-port N] [--token T] [--time-scale X]
 *                [--faults '{"errorRate":0.1}'] [--images '{"app:bad":{"kind":"missing"}}'] [--namespace NS]
 *                [--planner]
 *
 * `--planner` seeds the Planner app (seedPlanner): ECR repository planner-app with v1.0.0 and the
 * <env>-latest tags, Deployment planner-app in planner-staging and planner-production, RDS instances
 * planner-<env>-db — what `pnpm planner-deploy status production` expects. The cluster is then EKS on
 * Fargate (plannerFargateProfiles: a profile per namespace; a pod no profile selects stays Pending).
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { seedPlanner, startCloud, type Cloud } from './cloud.js';
import type { FaultOptions, ImageBehaviour, SandboxOptions } from './index.js';

const USAGE = `usage: pnpm sandbox [options]
  --http                 plain HTTP instead of HTTPS with a generated CA
  --port <n>             Kubernetes API port (default: random)
  --apps-port <n>        apps health endpoint port (default: random)
  --token <t>            bearer token (default: random)
  --time-scale <x>       real ms per simulated ms, e.g. 0.1 runs controllers 10x faster (default 1)
  --faults <json>        initial faults, e.g. '{"errorRate":0.1,"watchCutSeconds":2}'
  --images <json>        image behaviours, e.g. '{"app:broken":{"kind":"crash","exitCode":1}}'
  --namespace <ns>       namespace of the kubeconfig context (default "default")
  --planner              seed the Planner app (ECR images, Deployments, RDS instances) for planner-deploy,
                         on EKS on Fargate (profiles for planner-staging and planner-production)
  -h, --help             this text`;

function fail(message: string): never {
  process.stderr.write(`sandbox: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseJson<T>(flag: string, text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    return fail(`--${flag} must be JSON: ${(e as Error).message}`);
  }
}

function parseNumber(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) fail(`--${flag} must be a number >= ${min}, got "${text}"`);
  return n;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        http: { type: 'boolean', default: false },
        port: { type: 'string' },
        'apps-port': { type: 'string' },
        token: { type: 'string' },
        'time-scale': { type: 'string' },
        faults: { type: 'string' },
        images: { type: 'string' },
        namespace: { type: 'string' },
        planner: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const timeScale = parseNumber('time-scale', values['time-scale'], Number.MIN_VALUE);
  const port = parseNumber('port', values.port, 0);
  const appsPort = parseNumber('apps-port', values['apps-port'], 0);
  const faults = parseJson<FaultOptions>('faults', values.faults);
  const images = parseJson<Record<string, ImageBehaviour>>('images', values.images);
  const options: Omit<SandboxOptions, 'authenticate' | 'timeScale'> = {
    https: !values.http,
    ...(values.token ? { token: values.token } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(appsPort !== undefined ? { appsPort } : {}),
    ...(faults ? { faults } : {}),
    ...(images ? { images } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
  };
  // startCloud: the AWS side (RDS, ECR with the local registry when docker-registry is installed, EKS, STS)
  // comes first, and the Kubernetes API accepts its EKS tokens besides the static one.
  let cloud: Cloud;
  try {
    cloud = await startCloud({
      ...(timeScale !== undefined ? { timeScale } : {}),
      registry: 'auto',
      github: false,
      kube: options,
    });
  } catch (e) {
    fail(`could not start: ${(e as Error).message}`);
  }
  const { kube: sandbox, aws } = cloud;
  let planted = '';
  if (values.planner) {
    const environments = ['staging', 'production'];
    const seed = await seedPlanner(cloud, { moreTags: environments.map((env) => `${env}-latest`) });
    planted = `# Planner app seeded: ${seed.image('v1.0.0')} in ${environments.map((e) => seed.namespace(e)).join(', ')}; try: pnpm planner-deploy status production`;
  }
  const lines = [
    `export KUBECONFIG=${shellQuote(sandbox.kubeconfigPath)}`,
    `export SANDBOX_KUBE_URL=${shellQuote(sandbox.url)}`,
    `export SANDBOX_KUBE_TOKEN=${shellQuote(sandbox.token)}`,
    `export SANDBOX_APPS_URL=${shellQuote(sandbox.appsUrl)}`,
  ];
  if (sandbox.caPem) {
    const caPath = join(dirname(sandbox.kubeconfigPath), 'ca.pem');
    await writeFile(caPath, sandbox.caPem);
    lines.push(`export SANDBOX_CA_FILE=${shellQuote(caPath)}`);
  }
  lines.push(aws.envExports(), `export EKS_CLUSTER_NAME='planner-production-cluster'`);
  if (aws.registryUrl)
    lines.push(`# ECR's registry (docker login through GetAuthorizationToken): ${aws.registryUrl}`);
  else if (aws.registryUnavailable)
    lines.push(`# no local registry (${aws.registryUnavailable}): ECR keeps images in memory`);
  process.stdout.write(
    [
      '# planner-deploy sandbox is ready. In another shell:',
      ...lines,
      `# app health: $SANDBOX_APPS_URL/_sandbox/apps/<namespace>/<deployment>/health`,
      `# faults:     curl ${sandbox.caPem ? '--cacert "$SANDBOX_CA_FILE" ' : ''}-X POST ${sandbox.url}/_sandbox/faults -d '{"errorRate":0.1}'`,
      ...(planted ? [planted] : []),
      '# Ctrl-C stops the sandbox.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sandbox: ${signal}, stopping\n`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    cloud
      .stop()
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        process.stderr.write(`sandbox: stop failed: ${(e as Error).message}\n`);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
