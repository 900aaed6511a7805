// Release of the actions: `pnpm release --dry-run` or `pnpm release --version X.Y.Z [--remote origin]`.
//
// dist/ is not committed on main. A release builds every action's dist in a temporary git worktree of HEAD,
// commits them there on a detached release commit (its parent is the released commit; no branch moves),
// checks that every action.yml's runs.main/runs.post is a file of that commit and that each action starts
// from an export of that commit alone, then tags it vX.Y.Z and moves vX to it in one `git push --atomic`.
// The user's work tree is never written to, and the worktree is removed at the end, failure or not.
//
// A dry run does everything but the push, and may reuse an action's dist from the work tree when it is newer
// than every source it is built from and those sources are unchanged from HEAD (`pnpm test` builds just
// before its tests). A real release always builds, and refuses unless HEAD is main's (a clean main checkout,
// or in CI a detached HEAD on a commit of <remote>/main) and the version is given.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';

const exec = promisify(execFile);
const START_TIMEOUT_MS = 30_000;

class ReleaseError extends Error {}

function usage() {
  return [
    'usage: pnpm release --dry-run [--version X.Y.Z] [--report file.json]',
    '       pnpm release --version X.Y.Z [--remote origin] [--report file.json]',
  ].join('\n');
}

async function git(cwd, args, options = {}) {
  const { stdout } = await exec('git', args, { cwd, maxBuffer: 64 * 1024 * 1024, ...options });
  return stdout.trim();
}

async function gitOk(cwd, args) {
  try {
    await exec('git', args, { cwd });
    return true;
  } catch {
    return false;
  }
}

/** 1.2.3 or v1.2.3 (a prerelease part allowed) → { tag: 'v1.2.3', major: 'v1', prerelease }. */
function parseVersion(text) {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/.exec(text ?? '');
  if (!match) return undefined;
  const [, major, minor, patch, pre] = match;
  return {
    tag: `v${major}.${minor}.${patch}${pre ?? ''}`,
    major: `v${major}`,
    prerelease: pre !== undefined,
  };
}

/** The version a dry run shows when none is given: the next patch of the highest vX.Y.Z tag, else v1.0.0. */
async function nextVersion(root) {
  const tags = (await git(root, ['tag', '--list', 'v*.*.*', '--sort=-v:refname'])).split('\n');
  const latest = tags.map((t) => /^v(\d+)\.(\d+)\.(\d+)$/.exec(t)).find(Boolean);
  if (!latest) return parseVersion('1.0.0');
  return parseVersion(`${latest[1]}.${latest[2]}.${Number(latest[3]) + 1}`);
}

/** The remote's tag: the object it points at (what a lease expects) and the commit behind it. */
async function remoteTag(root, remote, tag) {
  const out = await git(root, ['ls-remote', '--tags', remote, `refs/tags/${tag}`, `refs/tags/${tag}^{}`]);
  let object;
  let commit;
  for (const line of out.split('\n').filter(Boolean)) {
    const [sha, ref] = line.split('\t');
    if (ref === `refs/tags/${tag}`) object = sha;
    if (ref === `refs/tags/${tag}^{}`) commit = sha;
  }
  return object ? { object, commit: commit ?? object } : undefined;
}

async function checkReleasable(root, source, version, remote) {
  if (!version)
    throw new ReleaseError('Refusing to release: say the version (--version X.Y.Z), or use --dry-run.');
  const status = await git(root, ['status', '--porcelain']);
  if (status !== '') {
    throw new ReleaseError(
      `Refusing to release: the work tree is not clean (commit or remove these first):\n${status}`,
    );
  }
  const branch = await git(root, ['branch', '--show-current']);
  if (branch !== 'main') {
    const remoteMain = `refs/remotes/${remote}/main`;
    const detachedOnMain =
      branch === '' &&
      (await gitOk(root, ['rev-parse', '--verify', '--quiet', remoteMain])) &&
      (await gitOk(root, ['merge-base', '--is-ancestor', source, remoteMain]));
    if (!detachedOnMain) {
      throw new ReleaseError(
        `Refusing to release: HEAD is ${branch ? `on branch ${branch}` : 'detached, not on a commit of ' + remoteMain}; releases are made from main.`,
      );
    }
  }
}

/** Workspace packages by name, and which workspace packages each one depends on. */
async function workspacePackages(root) {
  const byName = new Map();
  for (const group of ['packages', 'actions']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of await readdir(dir)) {
      const file = join(dir, name, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(await readFile(file, 'utf8'));
      const deps = { ...pkg.dependencies, ...pkg.devDependencies };
      const local = Object.keys(deps).filter((d) => String(deps[d]).startsWith('workspace:'));
      byName.set(pkg.name, { dir: join(group, name), deps: local });
    }
  }
  return byName;
}

async function newestMtime(path) {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    newest = Math.max(newest, await newestMtime(join(path, entry)));
  }
  return newest;
}

/**
 * Whether actions/<name>/dist in the user's work tree is the build of HEAD's sources: newer than every file
 * it is built from (the action, the workspace packages it imports, the lockfile and build settings), and
 * none of those differs from HEAD.
 */
async function reusableDist(root, name, packages) {
  const index = join(root, 'actions', name, 'dist', 'index.js');
  const built = await stat(index).catch(() => undefined);
  if (!built) return { reuse: false, why: 'no dist in the work tree' };
  const action = [...packages.values()].find((p) => p.dir === `actions/${name}`);
  const dirs = new Set([`actions/${name}`]);
  const queue = [...(action?.deps ?? [])];
  while (queue.length > 0) {
    const dep = packages.get(queue.shift());
    if (!dep || dirs.has(dep.dir)) continue;
    dirs.add(dep.dir);
    queue.push(...dep.deps);
  }
  // patches/ and pnpm-workspace.yaml (patchedDependencies) change what the bundler keeps.
  const inputs = [
    ...dirs,
    'package.json',
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
    'patches',
    'tsconfig.base.json',
    'scripts/build.mjs',
  ];
  const changed = await git(root, ['status', '--porcelain', '--', ...inputs]);
  if (changed !== '') return { reuse: false, why: 'its sources differ from HEAD' };
  for (const input of inputs) {
    if ((await newestMtime(join(root, input))) > built.mtimeMs) {
      return { reuse: false, why: `${input} is newer than the dist` };
    }
  }
  return { reuse: true, why: 'the dist in the work tree is newer than its sources' };
}

function minimalEnv() {
  // What a runner would give a step with no inputs: no INPUT_*, no GITHUB_* of this shell.
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() };
}

/** Runs an entry file with no inputs: it must load and stop at the input check (exit 1, `::error title=`). */
async function startsWithInputError(entry, cwd) {
  const result = await new Promise((resolve) => {
    execFile(
      process.execPath,
      [entry],
      { cwd, env: minimalEnv(), timeout: START_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
  const annotation = /^::error title=([^:]*)::(.*)$/m.exec(result.stdout);
  const title = annotation ? decodeURIComponent(annotation[1].replace(/%3A/gi, ':')) : undefined;
  const ok = result.code === 1 && title !== undefined && /input/i.test(title);
  return {
    ok,
    exitCode: result.code,
    title,
    message: annotation?.[2],
    output: ok ? undefined : `${result.stdout}${result.stderr}`.slice(-2000),
  };
}

async function listActions(tree) {
  const dir = join(tree, 'actions');
  if (!existsSync(dir)) return [];
  const names = [];
  for (const name of (await readdir(dir)).sort()) {
    if (existsSync(join(dir, name, 'action.yml'))) names.push(name);
  }
  return names;
}

async function identityArgs(root) {
  const args = ['-c', 'commit.gpgsign=false'];
  if (!(await gitOk(root, ['config', 'user.name']))) args.push('-c', 'user.name=planner-deploy release');
  if (!(await gitOk(root, ['config', 'user.email'])))
    args.push('-c', 'user.email=release@planner-deploy.invalid');
  return args;
}

async function main() {
  const { values } = parseArgs({
    options: {
      'dry-run': { type: 'boolean', default: false },
      version: { type: 'string' },
      remote: { type: 'string', default: 'origin' },
      report: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage());
    return;
  }
  const dryRun = values['dry-run'];
  const remote = values.remote;
  const root = await git(process.cwd(), ['rev-parse', '--show-toplevel']);
  const head = await git(root, ['rev-parse', '--verify', 'HEAD^{commit}']);

  let version;
  if (values.version !== undefined) {
    version = parseVersion(values.version);
    if (!version) throw new ReleaseError(`"${values.version}" is not a version: expected X.Y.Z or vX.Y.Z.`);
  }
  if (!dryRun) await checkReleasable(root, head, version, remote);
  const assumed = version === undefined;
  version ??= await nextVersion(root);

  const report = {
    dryRun,
    version: version.tag,
    movesMajor: version.prerelease ? undefined : version.major,
    source: head,
    commit: undefined,
    actions: [],
    push: undefined,
    worktreeRemoved: false,
  };
  console.log(`release ${version.tag}${dryRun ? ' (dry run)' : ''} of ${head}`);
  if (assumed) console.log(`  (no --version: a dry run assumes ${version.tag})`);

  const temp = await mkdtemp(join(tmpdir(), 'planner-release-'));
  const tree = join(temp, 'tree');
  try {
    await git(root, ['worktree', 'add', '--detach', '--quiet', tree, head]);
    const names = await listActions(tree);
    if (names.length === 0)
      throw new ReleaseError('No actions/<name>/action.yml in HEAD: nothing to release.');

    // Reuse or build the dists.
    const packages = await workspacePackages(root);
    const toBuild = [];
    for (const name of names) {
      const decision = dryRun
        ? await reusableDist(root, name, packages)
        : { reuse: false, why: 'a release builds' };
      report.actions.push({ name, dist: decision.reuse ? 'reused' : 'built', why: decision.why });
      if (decision.reuse) {
        await cp(join(root, 'actions', name, 'dist'), join(tree, 'actions', name, 'dist'), {
          recursive: true,
        });
      } else {
        toBuild.push(name);
      }
    }
    if (toBuild.length > 0) {
      console.log(`  building ${toBuild.join(', ')} in the release worktree`);
      if (existsSync(join(tree, 'pnpm-lock.yaml'))) {
        await exec('pnpm', ['install', '--prefer-offline', '--frozen-lockfile', '--reporter=silent'], {
          cwd: tree,
          maxBuffer: 64 * 1024 * 1024,
        });
      }
      await exec(process.execPath, [join(tree, 'scripts/build.mjs'), ...toBuild], {
        cwd: tree,
        maxBuffer: 64 * 1024 * 1024,
      });
    }
    for (const a of report.actions) console.log(`  dist of ${a.name}: ${a.dist} (${a.why})`);

    // The release commit, detached, in the worktree only.
    const distPaths = names.map((n) => `actions/${n}/dist`).filter((p) => existsSync(join(tree, p)));
    await git(tree, ['add', '--force', '--', ...distPaths]);
    const message = `release ${version.tag}: built dists\n\nSource: ${head}\n`;
    await git(tree, [...(await identityArgs(root)), 'commit', '--quiet', '--no-verify', '-m', message]);
    const commit = await git(tree, ['rev-parse', 'HEAD']);
    report.commit = commit;
    console.log(`  commit ${commit} (parent ${head}; on no branch)`);

    // Every runs.main/runs.post is a file of the commit, and every action starts from the commit alone.
    const files = new Set(
      (await git(root, ['ls-tree', '-r', '--name-only', commit, '--', 'actions'])).split('\n'),
    );
    const archive = join(temp, 'release.tar');
    const exported = join(temp, 'export');
    await git(root, ['archive', '--format=tar', '-o', archive, commit, '--', 'actions']);
    await mkdir(exported);
    await exec('tar', ['-xf', archive, '-C', exported]);
    let failures = 0;
    for (const entry of report.actions) {
      const manifest = parseYaml(await git(root, ['show', `${commit}:actions/${entry.name}/action.yml`]));
      const runs = manifest?.runs ?? {};
      entry.using = runs.using;
      entry.files = {};
      for (const key of ['pre', 'main', 'post']) {
        if (runs[key] === undefined) continue;
        const path = `actions/${entry.name}/${runs[key]}`;
        entry.files[key] = { path, inCommit: files.has(path) };
        if (!files.has(path)) failures++;
      }
      if (entry.files.main?.inCommit) {
        entry.start = await startsWithInputError(join(exported, entry.files.main.path), exported);
        if (!entry.start.ok) failures++;
      } else if (!entry.files.main) {
        failures++;
      }
      const files_ = Object.entries(entry.files)
        .map(([k, f]) => `runs.${k} ${f.path}${f.inCommit ? '' : ' MISSING'}`)
        .join(', ');
      const start = entry.start
        ? entry.start.ok
          ? `starts (exit 1, "${entry.start.title}")`
          : `DOES NOT START (exit ${entry.start.exitCode}): ${entry.start.output}`
        : 'not started';
      console.log(`  ${entry.name}: ${files_}; ${start}`);
    }
    if (failures > 0)
      throw new ReleaseError(
        `The release tree is broken (${failures} problem(s) above); nothing was tagged.`,
      );

    // Tags: vX.Y.Z, and vX unless it is a prerelease, in one atomic push.
    const refs = [version.tag, ...(version.prerelease ? [] : [version.major])];
    const leases = [];
    const plan = [];
    for (const tag of refs) {
      const current = dryRun ? await localTag(root, tag) : await remoteTag(root, remote, tag);
      if (tag === version.tag && current && current.commit !== head) {
        throw new ReleaseError(
          `Tag ${tag} already exists at ${current.commit}, not at the released commit ${head}: that version was released already.`,
        );
      }
      leases.push(`--force-with-lease=refs/tags/${tag}:${current?.object ?? ''}`);
      plan.push(`${tag}: ${current ? `moves from ${current.commit}` : 'created'} → ${commit}`);
    }
    const pushArgs = ['push', '--atomic', ...leases, remote, ...refs.map((t) => `${commit}:refs/tags/${t}`)];
    report.push = { remote, refs, args: pushArgs };
    for (const line of plan) console.log(`  ${dryRun ? 'would tag' : 'tag'} ${line}`);
    console.log(`  ${dryRun ? 'would run' : 'running'}: git ${pushArgs.join(' ')}`);
    if (!dryRun) {
      await git(root, pushArgs);
      console.log(`released ${version.tag}${version.prerelease ? '' : ` (${version.major} moved)`}`);
    }
  } finally {
    await git(root, ['worktree', 'remove', '--force', tree]).catch(() => undefined);
    await rm(temp, { recursive: true, force: true });
    await git(root, ['worktree', 'prune']).catch(() => undefined);
    report.worktreeRemoved = !existsSync(tree);
    if (values.report) await writeFile(values.report, `${JSON.stringify(report, null, 2)}\n`);
  }
  if (dryRun) console.log(`dry run: nothing was tagged or pushed; the worktree ${tree} is removed`);
}

async function localTag(root, tag) {
  try {
    const object = await git(root, ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}`]);
    const commit = await git(root, ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`]);
    return { object, commit };
  } catch {
    return undefined;
  }
}

try {
  await main();
} catch (error) {
  if (error instanceof ReleaseError) {
    console.error(`release: ${error.message}`);
    process.exitCode = 2;
  } else {
    console.error(error?.stderr || error);
    process.exitCode = 1;
  }
}
