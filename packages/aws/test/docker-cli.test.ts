import { describe, expect, it } from '@jest/globals';
import { MemoryLogger } from '@planner-deploy/core';
import {
  DockerCli,
  execCommand,
  lastErrorLine,
  loginArgs,
  logoutArgs,
  pushedDigest,
  spawnCommand,
  type CommandOptions,
  type CommandRunner,
} from '../src/docker-cli.js';
import {
  buildxArgs,
  cacheArgs,
  chooseCache,
  inspectDriver,
  legacyBuildArgs,
  legacyBuilderProblem,
  metadataDigest,
  secretEnv,
  type BuildSpec,
} from '../src/docker-build.js';

interface Call {
  file: string;
  args: string[];
  options: CommandOptions | undefined;
}

function recorder(result = { code: 0, stdout: '', stderr: '' }): { runner: CommandRunner; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    runner: (file, args, options) => {
      calls.push({ file, args, options });
      return Promise.resolve(result);
    },
  };
}

describe('docker login and logout', () => {
  it('login reads the password from stdin: it is in no argument', async () => {
    const { runner, calls } = recorder();
    const docker = new DockerCli({ runner, logger: new MemoryLogger(), env: { DOCKER_CONFIG: '/tmp/cfg' } });
    await docker.login('1.dkr.ecr.eu-west-1.amazonaws.com', 'AWS', 'the-password');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.file).toBe('docker');
    expect(calls[0]!.args).toEqual([
      'login',
      '--username',
      'AWS',
      '--password-stdin',
      '1.dkr.ecr.eu-west-1.amazonaws.com',
    ]);
    expect(calls[0]!.args.join(' ')).not.toContain('the-password');
    expect(calls[0]!.options?.stdin).toBe('the-password');
    expect(calls[0]!.options?.env?.DOCKER_CONFIG).toBe('/tmp/cfg');
  });

  it('argument arrays', () => {
    expect(loginArgs('h:5000', 'AWS')).toEqual(['login', '--username', 'AWS', '--password-stdin', 'h:5000']);
    expect(logoutArgs('h:5000')).toEqual(['logout', 'h:5000']);
  });
});

describe('spawnCommand (a real process, no shell)', () => {
  it('passes arguments verbatim, stdin in, lines out', async () => {
    const lines: string[] = [];
    const result = await spawnCommand(
      process.execPath,
      [
        '-e',
        'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{console.log(process.argv[1]);console.log("in:"+s);console.error("err")})',
        '$(echo not-expanded); *',
      ],
      { stdin: 'hello', onLine: (line) => lines.push(line) },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('$(echo not-expanded); *\nin:hello\n');
    expect(result.stderr).toBe('err\n');
    expect(lines.sort()).toEqual(['$(echo not-expanded); *', 'err', 'in:hello'].sort());
  });

  it('reports the exit code', async () => {
    const result = await spawnCommand(process.execPath, ['-e', 'process.exit(3)']);
    expect(result.code).toBe(3);
  });

  it('a cancel stops the command and rejects with CancelledError', async () => {
    const controller = new AbortController();
    const pending = spawnCommand(process.execPath, ['-e', 'setTimeout(()=>{}, 30000)'], {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ name: 'CancelledError' });
  });

  it('a missing executable rejects', async () => {
    await expect(spawnCommand('/nonexistent/docker', ['version'])).rejects.toThrow(/ENOENT/);
  });
});

describe('execCommand (@actions/exec, for the probes, login and logout)', () => {
  it('passes arguments verbatim, the password on stdin and the environment, and prints nothing itself', async () => {
    const result = await execCommand(
      process.execPath,
      [
        '-e',
        'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{console.log(process.argv[1]);console.log("in:"+s);console.error(process.env.PROBE_ENV)})',
        '$(echo not-expanded); *',
      ],
      { stdin: 'hunter2', env: { ...process.env, PROBE_ENV: 'from-env' } },
    );
    expect(result).toEqual({
      code: 0,
      stdout: '$(echo not-expanded); *\nin:hunter2\n',
      stderr: 'from-env\n',
    });
  });

  it('a command that exits before reading its stdin (a failing docker login) is a result, not an EPIPE crash', async () => {
    const result = await execCommand(process.execPath, ['-e', 'process.exit(4)'], {
      stdin: 'p'.repeat(4 * 1024 * 1024),
    });
    expect(result.code).toBe(4);
  });

  it('returns a failing exit code rather than throwing', async () => {
    const result = await execCommand(process.execPath, ['-e', 'console.error("no daemon");process.exit(3)']);
    expect(result).toMatchObject({ code: 3, stderr: 'no daemon\n' });
  });

  it('a missing executable rejects', async () => {
    await expect(execCommand('/nonexistent/docker', ['version'])).rejects.toThrow(/docker/);
  });
});

describe('push output', () => {
  it('reads the digest docker push printed', () => {
    const output = [
      'The push refers to repository [127.0.0.1:5000/planner/app]',
      '5f70bf18a086: Pushed',
      `abc: digest: sha256:${'d'.repeat(64)} size: 528`,
    ].join('\n');
    expect(pushedDigest(output)).toBe(`sha256:${'d'.repeat(64)}`);
    expect(pushedDigest('nothing here')).toBeUndefined();
  });

  it('the last error line of a failed command', () => {
    expect(
      lastErrorLine({
        code: 1,
        stdout: 'The push refers to repository [x]\n',
        stderr:
          'DEPRECATED: The legacy builder is deprecated\nError response from daemon: unauthorized: bad\n',
      }),
    ).toBe('Error response from daemon: unauthorized: bad');
    expect(lastErrorLine({ code: 2, stdout: '', stderr: '' })).toBe('exit code 2');
  });
});

const base: BuildSpec = {
  context: '/ws/app',
  file: '/ws/app/Dockerfile',
  target: 'production',
  buildArgs: { GREETING: 'hi there' },
  labels: { 'org.opencontainers.image.revision': 'abc' },
  platforms: [],
  tags: ['h/planner/app:abc'],
  secrets: [],
  cache: 'none',
  push: true,
  metadataFile: '/tmp/m.json',
  iidFile: '/tmp/iid',
};

describe('build argument arrays', () => {
  it('legacy docker build', () => {
    expect(legacyBuildArgs({ ...base, platforms: ['linux/amd64'] })).toEqual([
      'build',
      '--file',
      '/ws/app/Dockerfile',
      '--target',
      'production',
      '--build-arg',
      'GREETING=hi there',
      '--label',
      'org.opencontainers.image.revision=abc',
      '--platform',
      'linux/amd64',
      '--tag',
      'h/planner/app:abc',
      '--iidfile',
      '/tmp/iid',
      '/ws/app',
    ]);
  });

  it('buildx build pushes, with secrets through the environment only', () => {
    const spec = {
      ...base,
      platforms: ['linux/amd64', 'linux/arm64'],
      secrets: [{ id: 'npm', value: 'npm-token-value' }],
    };
    const args = buildxArgs(spec);
    expect(args.slice(0, 2)).toEqual(['buildx', 'build']);
    expect(args).toEqual(
      expect.arrayContaining(['--platform', 'linux/amd64,linux/arm64', '--push', '--provenance=false']),
    );
    expect(args).toEqual(expect.arrayContaining(['--secret', 'id=npm,env=PLANNER_DEPLOY_BUILD_SECRET_0']));
    expect(args).toEqual(expect.arrayContaining(['--metadata-file', '/tmp/m.json']));
    expect(args.at(-1)).toBe('/ws/app');
    expect(args.join(' ')).not.toContain('npm-token-value');
    expect(secretEnv(spec.secrets)).toEqual({ PLANNER_DEPLOY_BUILD_SECRET_0: 'npm-token-value' });
  });

  it('buildx without push loads a single-platform image', () => {
    expect(buildxArgs({ ...base, push: false })).toContain('--load');
    expect(buildxArgs({ ...base, push: false, platforms: ['linux/amd64', 'linux/arm64'] })).not.toContain(
      '--load',
    );
  });

  it.each([
    [{ cache: 'none' as const, push: true }, []],
    [
      { cache: 'gha' as const, push: true, cacheScope: 'planner/app' },
      ['--cache-from', 'type=gha,scope=planner/app', '--cache-to', 'type=gha,mode=max,scope=planner/app'],
    ],
    [
      { cache: 'registry' as const, push: true, cacheRef: 'h/app:buildcache' },
      [
        '--cache-from',
        'type=registry,ref=h/app:buildcache',
        '--cache-to',
        'type=registry,ref=h/app:buildcache,mode=max,image-manifest=true,oci-mediatypes=true',
      ],
    ],
    [
      { cache: 'registry' as const, push: false, cacheRef: 'h/app:buildcache' },
      ['--cache-from', 'type=registry,ref=h/app:buildcache'],
    ],
  ])('cache %j', (spec, args) => {
    expect(cacheArgs(spec)).toEqual(args);
  });

  it('what the legacy builder cannot do', () => {
    expect(legacyBuilderProblem({ platforms: ['linux/amd64'], secrets: [] })).toBeUndefined();
    expect(legacyBuilderProblem({ platforms: ['linux/amd64', 'linux/arm64'], secrets: [] })).toMatch(
      /buildx/,
    );
    expect(legacyBuilderProblem({ platforms: [], secrets: [{ id: 'a', value: 'b' }] })).toMatch(/BuildKit/);
  });

  it('the digest of a buildx metadata file', () => {
    const digest = `sha256:${'e'.repeat(64)}`;
    expect(metadataDigest(JSON.stringify({ 'containerimage.digest': digest }))).toBe(digest);
    expect(metadataDigest('{}')).toBeUndefined();
    expect(metadataDigest('not json')).toBeUndefined();
  });
});

describe('chooseCache', () => {
  const gha = { ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_CACHE_URL: 'https://cache/' };
  const cases: [Parameters<typeof chooseCache>, string, boolean][] = [
    [['none', 'buildx', 'docker-container', gha], 'none', false],
    [['gha', 'buildx', 'docker-container', gha], 'gha', false],
    [
      [
        'gha',
        'buildx',
        'docker-container',
        { ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_RESULTS_URL: 'https://r/' },
      ],
      'gha',
      false,
    ],
    [['gha', 'buildx', 'docker-container', {}], 'none', true],
    [['gha', 'buildx', 'docker', gha], 'none', true],
    [['registry', 'buildx', 'docker', gha], 'none', true],
    [['registry', 'buildx', 'docker-container', {}], 'registry', false],
    [['registry', 'buildx', undefined, {}], 'registry', false],
    [['gha', 'legacy', undefined, gha], 'none', true],
  ];
  it.each(cases)('%j → %s', (args, cache, noted) => {
    const choice = chooseCache(...args);
    expect(choice.cache).toBe(cache);
    expect(choice.note !== undefined).toBe(noted);
  });

  it('reads the driver from docker buildx inspect', () => {
    expect(inspectDriver('Name:          builder\nDriver:        docker-container\nLast Activity: x\n')).toBe(
      'docker-container',
    );
    expect(inspectDriver('Name: default\nDriver: docker\n')).toBe('docker');
    expect(inspectDriver('nothing')).toBeUndefined();
  });
});
