// `pnpm release`: the dry run of this repository yields a release commit in which every action starts, and
// leaves no trace (no tag, no branch, no worktree). The real release is exercised on throw-away repositories
// with a local bare remote (so nothing leaves this machine): refusals, the atomic push of vX.Y.Z with vX,
// moving a pushed version tag, prereleases, and a broken release tree.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const script = join(root, 'scripts/release.mjs');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeout = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
async function git(cwd: string, ...args: string[]): Promise<string> {
  const result = await run('git', args, cwd);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}
const release = (cwd: string, ...args: string[]) =>
  run(process.execPath, [script, ...args], cwd, 20 * 60_000);

describe('pnpm release --dry-run on this repository', () => {
  let result: Result;
  let report: any;
  let tagsBefore: string;
  let headBefore: string;
  const reportFile = join(mkdtempSync(join(tmpdir(), 'release-report-')), 'report.json');

  beforeAll(async () => {
    tagsBefore = await git(root, 'tag', '--list');
    headBefore = await git(root, 'rev-parse', 'HEAD');
    result = await release(root, '--dry-run', '--version', '9.8.7', '--report', reportFile);
    report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : undefined;
  }, 25 * 60_000);

  it('succeeds and reports every action', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const actions = readdirSync(join(root, 'actions')).filter((n) =>
      existsSync(join(root, 'actions', n, 'action.yml')),
    );
    expect(actions.length).toBeGreaterThanOrEqual(7);
    expect(report.actions.map((a: any) => a.name)).toEqual(actions.sort());
  });

  it('every runs.main / runs.post is a file of the release commit, and every action starts from it', async () => {
    const files = new Set(
      (await git(root, 'ls-tree', '-r', '--name-only', report.commit, '--', 'actions')).split('\n'),
    );
    for (const action of report.actions) {
      expect(action.using).toBe('node24');
      expect(action.files.main.inCommit).toBe(true);
      expect(files.has(action.files.main.path)).toBe(true);
      if (action.files.post) expect(files.has(action.files.post.path)).toBe(true);
      // ncc's ESM bundle needs its package.json beside it.
      expect(files.has(`actions/${action.name}/dist/package.json`)).toBe(true);
      expect(action.start).toMatchObject({ ok: true, exitCode: 1 });
      expect(action.start.title).toMatch(/^(Missing|Invalid) input/);
    }
    expect(report.actions.find((a: any) => a.name === 'build-push').files.post.inCommit).toBe(true);
  });

  it('commits on a detached release commit whose parent is HEAD, reachable from no branch or tag', async () => {
    expect(report.source).toBe(headBefore);
    expect(await git(root, 'rev-parse', `${report.commit}^`)).toBe(headBefore);
    expect(await git(root, 'branch', '--all', '--contains', report.commit)).toBe('');
    expect(await git(root, 'tag', '--contains', report.commit)).toBe('');
    expect(await git(root, 'show', '-s', '--format=%s', report.commit)).toBe('release v9.8.7: built dists');
  });

  it('prints the atomic push it would run, and tags and pushes nothing', async () => {
    expect(report.push.refs).toEqual(['v9.8.7', 'v9']);
    expect(report.push.args.slice(0, 2)).toEqual(['push', '--atomic']);
    expect(result.stdout).toContain('would run: git push --atomic');
    expect(await git(root, 'tag', '--list')).toBe(tagsBefore);
  });

  it('removes its worktree', async () => {
    expect(report.worktreeRemoved).toBe(true);
    expect(await git(root, 'worktree', 'list', '--porcelain')).not.toContain('planner-release-');
  });
});

// A throw-away repository shaped like this one: actions/<name>/action.yml and scripts/build.mjs, whose build
// writes a dist that stops at the input check as ours do (or, for a broken action, one that does not).
function makeRepo(): { work: string; origin: string } {
  const base = mkdtempSync(join(tmpdir(), 'release-repo-'));
  const origin = join(base, 'origin.git');
  const work = join(base, 'work');
  mkdirSync(join(work, 'actions/hello'), { recursive: true });
  mkdirSync(join(work, 'scripts'));
  writeFileSync(
    join(work, 'actions/hello/action.yml'),
    'name: hello\ndescription: test\ninputs:\n  name:\n    required: true\nruns:\n  using: node24\n  main: dist/index.js\n  post: dist/index.js\n',
  );
  writeFileSync(join(work, '.gitignore'), 'dist/\n');
  writeFileSync(
    join(work, 'scripts/build.mjs'),
    [
      "import { mkdirSync, writeFileSync } from 'node:fs';",
      'for (const name of process.argv.slice(2)) {',
      '  mkdirSync(`actions/${name}/dist`, { recursive: true });',
      "  const body = name === 'silent' ? 'process.exitCode = 0;' :",
      '    \'console.log("::error title=Missing input%3A name::Input \\\\"name\\\\" is required."); process.exitCode = 1;\';',
      '  writeFileSync(`actions/${name}/dist/index.js`, body);',
      '}',
      '',
    ].join('\n'),
  );
  return { work, origin };
}

async function initRepo(work: string, origin: string): Promise<void> {
  await git(work, 'init', '--quiet', '-b', 'main');
  await git(work, 'config', 'user.name', 'Test');
  await git(work, 'config', 'user.email', 'test@example.invalid');
  await git(work, 'config', 'commit.gpgsign', 'false');
  await git(work, 'add', '.');
  await git(work, 'commit', '--quiet', '-m', 'first');
  await git(work, 'init', '--quiet', '--bare', origin);
  await git(work, 'remote', 'add', 'origin', origin);
  await git(work, 'push', '--quiet', 'origin', 'main');
}

async function remoteTags(origin: string): Promise<Record<string, string>> {
  const out = await git(origin, 'for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/tags');
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string]),
  );
}

describe('pnpm release on a throw-away repository with a local remote', () => {
  let work: string;
  let origin: string;
  const bases: string[] = [];

  beforeAll(async () => {
    ({ work, origin } = makeRepo());
    bases.push(join(work, '..'));
    await initRepo(work, origin);
  });
  afterAll(() => {
    for (const base of bases) rmSync(base, { recursive: true, force: true });
  });

  it('refuses without a version, off main, or with a dirty tree — before doing anything', async () => {
    const noVersion = await release(work);
    expect(noVersion.code).toBe(2);
    expect(noVersion.stderr).toContain('say the version');

    const badVersion = await release(work, '--version', '1.2');
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toContain('"1.2" is not a version');

    await git(work, 'switch', '--quiet', '-c', 'feature');
    const offMain = await release(work, '--version', '1.0.0');
    expect(offMain.code).toBe(2);
    expect(offMain.stderr).toContain('on branch feature');
    await git(work, 'switch', '--quiet', 'main');

    writeFileSync(join(work, 'stray.txt'), 'x');
    const dirty = await release(work, '--version', '1.0.0');
    expect(dirty.code).toBe(2);
    expect(dirty.stderr).toContain('not clean');
    rmSync(join(work, 'stray.txt'));

    expect(await remoteTags(origin)).toEqual({});
  });

  it('pushes vX.Y.Z and vX to a release commit on top of main; main does not move', async () => {
    const main = await git(work, 'rev-parse', 'HEAD');
    const result = await release(work, '--version', '1.2.3');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const tags = await remoteTags(origin);
    expect(Object.keys(tags).sort()).toEqual(['v1', 'v1.2.3']);
    expect(tags.v1).toBe(tags['v1.2.3']);
    expect(await git(origin, 'rev-parse', `${tags.v1}^`)).toBe(main);
    expect(await git(origin, 'rev-parse', 'refs/heads/main')).toBe(main);
    expect(await git(origin, 'ls-tree', '-r', '--name-only', tags.v1 ?? 'v1')).toContain(
      'actions/hello/dist/index.js',
    );
    expect(existsSync(join(work, 'actions/hello/dist'))).toBe(false);
    expect(await git(work, 'status', '--porcelain')).toBe('');
  });

  it('moves v1 with the next version and refuses to release a version twice', async () => {
    writeFileSync(join(work, 'actions/hello/README.md'), 'hello\n');
    await git(work, 'add', '.');
    await git(work, 'commit', '--quiet', '-m', 'second');
    await git(work, 'push', '--quiet', 'origin', 'main');
    const before = await remoteTags(origin);
    expect((await release(work, '--version', 'v1.3.0')).code).toBe(0);
    const after = await remoteTags(origin);
    expect(after['v1.2.3']).toBe(before['v1.2.3']);
    expect(after.v1).toBe(after['v1.3.0']);
    expect(after.v1).not.toBe(before.v1);

    const again = await release(work, '--version', '1.2.3');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(await remoteTags(origin)).toEqual(after);
  });

  it('moves a version tag pushed on the main commit (the tag-push trigger) to the release commit', async () => {
    const main = await git(work, 'rev-parse', 'HEAD');
    await git(work, 'tag', 'v1.4.0');
    await git(work, 'push', '--quiet', 'origin', 'v1.4.0');
    expect((await remoteTags(origin))['v1.4.0']).toBe(main);
    expect((await release(work, '--version', '1.4.0')).code).toBe(0);
    const tags = await remoteTags(origin);
    expect(tags['v1.4.0']).not.toBe(main);
    expect(await git(origin, 'rev-parse', `${tags['v1.4.0']}^`)).toBe(main);
    expect(tags.v1).toBe(tags['v1.4.0']);
  });

  it('does not move vX for a prerelease', async () => {
    const v1 = (await remoteTags(origin)).v1;
    expect((await release(work, '--version', '2.0.0-rc.1')).code).toBe(0);
    const tags = await remoteTags(origin);
    expect(tags['v2.0.0-rc.1']).toBeDefined();
    expect(tags.v2).toBeUndefined();
    expect(tags.v1).toBe(v1);
  });

  it('is atomic: when the remote refuses vX.Y.Z, vX does not move either', async () => {
    // The update hook runs once per ref: it refuses only v1.5.0, so only --atomic keeps v1 from moving.
    const hook = join(origin, 'hooks/update');
    writeFileSync(
      hook,
      `#!${process.execPath}\nif (process.argv[2] === 'refs/tags/v1.5.0') {\n  console.error('v1.5.0 is frozen');\n  process.exit(1);\n}\n`,
    );
    chmodSync(hook, 0o755);
    const before = await remoteTags(origin);
    const result = await release(work, '--version', '1.5.0');
    expect(result.code).not.toBe(0);
    expect(await remoteTags(origin)).toEqual(before);
    rmSync(hook);
  });

  it('refuses a release tree whose action does not start or whose main file is missing', async () => {
    mkdirSync(join(work, 'actions/silent'));
    writeFileSync(
      join(work, 'actions/silent/action.yml'),
      'name: silent\nruns:\n  using: node24\n  main: dist/index.js\n',
    );
    await git(work, 'add', '.');
    await git(work, 'commit', '--quiet', '-m', 'an action that exits 0 without inputs');
    const silent = await release(work, '--dry-run', '--version', '1.6.0');
    expect(silent.code).toBe(2);
    expect(silent.stdout).toContain(
      'silent: runs.main actions/silent/dist/index.js; DOES NOT START (exit 0)',
    );
    expect(silent.stderr).toContain('The release tree is broken');

    writeFileSync(
      join(work, 'actions/silent/action.yml'),
      'name: silent\nruns:\n  using: node24\n  main: dist/missing.js\n',
    );
    await git(work, 'commit', '--quiet', '-am', 'main names a file the build does not make');
    const missing = await release(work, '--dry-run', '--version', '1.6.0');
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('runs.main actions/silent/dist/missing.js MISSING');
    expect(await git(work, 'worktree', 'list', '--porcelain')).not.toContain('planner-release-');
  });
});
