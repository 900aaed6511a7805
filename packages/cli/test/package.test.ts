/**
 * The CLI as users install it: `pnpm pack` (its prepack builds the ncc bundle), `npm install -g` of the
 * tarball into an empty prefix, then the installed `planner-deploy` run from another folder with a Node ≥ 24
 * on PATH, outside the repository: --help, --version, `status` against the sandbox, and the message an old
 * Node gets. And scripts/deploy-eks.sh's choice of Node.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { waitForDeploymentReady } from '@planner-deploy/sandbox';
import { childEnv, ROOT, run, startHarness, type Harness } from './helpers.js';

const exec = promisify(execFile);
const CLI_DIR = join(ROOT, 'packages/cli');
/** A PATH with the Node 24 that runs the tests first, and the system's usual folders (no repository paths). */
const NODE24_PATH = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);

function which(command: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** npm, run by the Node 24 of the tests when it is npm's JS entry (so engines >=24 holds), else as is. */
function npmCommand(): [string, string[]] {
  const npm = which('npm', process.env.PATH ?? '');
  if (!npm) throw new Error('npm is not on PATH');
  const real = realpathSync(npm);
  return real.endsWith('.js') ? [process.execPath, [real]] : [npm, []];
}

let work: string;
let tarball: string;
let prefix: string;
let bin: string;
let elsewhere: string;
let files: string[];
let manifest: {
  bin?: Record<string, string>;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'planner-deploy-pack-'));
  // pnpm pack runs prepack (the ncc build of dist/) and writes the tarball.
  await exec('pnpm', ['pack', '--pack-destination', work], {
    cwd: CLI_DIR,
    env: childEnv({}),
    maxBuffer: 64 * 1024 * 1024,
  });
  const packed = (await readdir(work)).filter((f) => f.endsWith('.tgz'));
  expect(packed).toHaveLength(1);
  tarball = join(work, packed[0]!);
  files = (await exec('tar', ['-tzf', tarball])).stdout.split('\n').filter((f) => f !== '');
  await exec('tar', ['-xzf', tarball, '-C', work, 'package/package.json']);
  manifest = JSON.parse(await readFile(join(work, 'package/package.json'), 'utf8')) as typeof manifest;

  prefix = join(work, 'prefix');
  await mkdir(prefix);
  const [npm, npmArgs] = npmCommand();
  await exec(
    npm,
    [...npmArgs, 'install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
    {
      cwd: work,
      env: childEnv({}, { PATH: NODE24_PATH, npm_config_cache: join(work, 'npm-cache') }),
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  bin = join(prefix, 'bin', 'planner-deploy');
  elsewhere = await mkdtemp(join(tmpdir(), 'planner-deploy-elsewhere-'));
}, 900_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  if (elsewhere) await rm(elsewhere, { recursive: true, force: true });
});

/** The installed CLI, from a folder outside the repository, with `path` as PATH and no repository env. */
function installed(args: string[], env: Record<string, string | undefined> = {}, path = NODE24_PATH) {
  return run(bin, args, { env: childEnv({}, { ...env, PATH: path }), cwd: elsewhere });
}

describe('the packed CLI', () => {
  it('holds the launcher and the bundle, no TypeScript sources, and needs no dependencies', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/bin/planner-deploy.js',
        'package/dist/index.js',
      ]),
    );
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([]);
    expect(manifest.bin).toEqual({ 'planner-deploy': './bin/planner-deploy.js' });
    expect(manifest.engines?.node).toBe('>=24');
    expect(manifest.dependencies ?? {}).toEqual({});
  });

  it('installs into an empty prefix with nothing beside it', async () => {
    expect(existsSync(bin)).toBe(true);
    const installedDir = join(prefix, 'lib', 'node_modules', '@planner-deploy', 'cli');
    expect(existsSync(join(installedDir, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(installedDir, 'node_modules'))).toBe(false);
    // No path of this checkout is baked into the bundle.
    const bundle = await readFile(join(installedDir, 'dist', 'index.js'), 'utf8');
    expect(bundle).not.toContain(ROOT.replace(/\/$/, ''));
  });

  it('runs --help and --version from another folder with the Node on PATH', async () => {
    const help = await installed(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: planner-deploy <command> <env> [options]');
    expect(help.stdout).toContain('status <env>');
    const version = await installed(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe('planner-deploy 0.1.0');
  });

  describe('against the sandbox', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ environments: ['production'] });
      // The Planner cluster is EKS on Fargate: the seeded pods wait for their fargate nodes first.
      await waitForDeploymentReady(h.cloud.kube, 'planner-app', 'planner-production', 60_000);
    }, 120_000);
    afterAll(async () => {
      await h?.stop();
    });

    it('status through EKS (DescribeCluster + STS token), as from the repository', async () => {
      const r = await installed(['status', 'production', '--json'], h.cloud.env());
      // On a failure the assertion shows what the CLI said.
      expect(r.code === 0 ? { code: 0 } : { code: r.code, stderr: r.stderr }).toEqual({ code: 0 });
      expect(JSON.parse(r.stdout)).toMatchObject({
        command: 'status',
        environment: 'production',
        namespace: 'planner-production',
        healthy: true,
        images: [`planner-app=${h.seed.image('v1.0.0')}`],
      });
    });
  });

  const systemNode = which('node', '/usr/local/bin:/usr/bin:/bin');
  const systemMajor = systemNode
    ? Number(execFileSync(systemNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).split('.')[0])
    : 24;
  (systemMajor < 24 ? it : it.skip)(
    `says clearly that an older Node on PATH (${systemNode ?? 'none'}) is too old`,
    async () => {
      const r = await installed(['--help'], {}, '/usr/local/bin:/usr/bin:/bin');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /planner-deploy needs Node\.js 24 or newer, and the node on PATH \(.*\) is v\d+\./,
      );
      expect(r.stdout).toBe('');
    },
  );
});

describe('scripts/deploy-eks.sh', () => {
  it('uses the repository’s Node, and runs the CLI', async () => {
    const r = await run('sh', [join(ROOT, 'scripts/deploy-eks.sh'), '--version'], {
      env: childEnv({}, { PATH: '/usr/bin:/bin' }),
      cwd: tmpdir(),
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('planner-deploy 0.1.0');
  });

  it('without a repository Node, takes node from PATH and says when it is too old', async () => {
    const fake = await mkdtemp(join(tmpdir(), 'planner-deploy-checkout-'));
    try {
      // A checkout without node_modules (e.g. a fresh clone on a Mac) and, first on PATH, a node that answers
      // as Node 20 does.
      await mkdir(join(fake, 'scripts'));
      await copyFile(join(ROOT, 'scripts/deploy-eks.sh'), join(fake, 'scripts/deploy-eks.sh'));
      await mkdir(join(fake, 'old-node'));
      const oldNode = join(fake, 'old-node', 'node');
      await writeFile(oldNode, '#!/bin/sh\nif [ "$1" = "-p" ]; then echo 20.19.0; fi\nexit 0\n');
      await chmod(oldNode, 0o755);
      const script = join(fake, 'scripts/deploy-eks.sh');

      const tooOld = await run('sh', [script, 'status', 'staging'], {
        env: childEnv({}, { PATH: `${join(fake, 'old-node')}${delimiter}/usr/bin:/bin` }),
        cwd: fake,
      });
      expect(tooOld.code).toBe(2);
      expect(tooOld.stderr).toContain(
        `deploy-eks.sh: ${oldNode} is Node.js 20.19.0; planner-deploy needs Node.js 24 or newer.`,
      );

      const recent = await run('sh', [script, 'status', 'staging'], {
        env: childEnv({}, { PATH: `${dirname(process.execPath)}${delimiter}/usr/bin:/bin` }),
        cwd: fake,
      });
      expect(recent.code).toBe(2);
      expect(recent.stderr).toMatch(/has no node_modules; run pnpm install there first/);
    } finally {
      await rm(fake, { recursive: true, force: true });
    }
  });
});
