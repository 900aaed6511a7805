// The tool shims of `pnpm workflow`'s run: steps (tool-stand-ins/): what pip's stand-in reads from a pip command
// line, when it may stand in, what it decides; bandit's SARIF; and both shims run as a step runs them, with the
// machine's real python3, pip (when there is one) and bandit.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decide,
  debianPackage,
  installBlockedReason,
  parsePipArgs,
  parseRequirement,
  parseRequirementsFile,
  probe,
  type Probe,
} from '../tool-stand-ins/lib/pip.mjs';
import {
  formattersOf,
  notRunReport,
  parseBanditArgs,
  sarifFromBanditJson,
  type Sarif,
} from '../tool-stand-ins/lib/bandit.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'tool-stand-ins', 'bin');
const MAIN = join(here, '..', 'tool-stand-ins', 'lib', 'main.mjs');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : undefined;
const realBandit = ['/usr/bin/bandit', '/usr/local/bin/bandit'].find((p) => existsSync(p));

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tool-stand-ins-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('pip stand-in: what is asked', () => {
  it('parses names, extras, pins and markers as PEP 508 writes them', () => {
    expect(parseRequirement('Flake8==7.4.1')).toMatchObject({
      name: 'Flake8',
      key: 'flake8',
      extras: [],
      specifier: '==7.4.1',
    });
    expect(parseRequirement("bandit[sarif, toml] >= 1.7.8, <2 ; python_version >= '3.8'")).toMatchObject({
      key: 'bandit',
      extras: ['sarif', 'toml'],
      specifier: '>=1.7.8,<2',
      marker: "python_version >= '3.8'",
    });
    expect(parseRequirement('pytest_cov').key).toBe('pytest-cov');
    expect(parseRequirement('Zope.Interface (>=5)')).toMatchObject({
      key: 'zope-interface',
      specifier: '>=5',
    });
    expect(parseRequirement('pkg @ https://example.com/pkg.whl')).toMatchObject({
      key: 'pkg',
      specifier: '',
      url: 'https://example.com/pkg.whl',
    });
  });

  it('refuses what pip would refuse, naming where it came from', () => {
    expect(() => parseRequirement('==1.0', 'requirements.txt:3')).toThrow(
      'requirements.txt:3: "==1.0" is not a requirement',
    );
    expect(() => parseRequirement('flake8 = 7')).toThrow(
      /"flake8 = 7" has a version specifier pip would refuse/,
    );
  });

  it('reads -r files (nested, comments, continuations, hashes) and arguments of pip install', () => {
    const files: Record<string, string> = {
      '/app/requirements.txt': '# runtime\n-r base/common.txt\nrequests==2.32.0  # pinned\n',
      '/app/base/common.txt':
        '--index-url https://example.com/simple\nclick>=8 \\\n  --hash=sha256:abc\n-e ./local\n',
      '/app/dev.txt': 'pytest==8.4.2\n-r requirements.txt\n',
    };
    const read = (f: string): string => {
      const text = files[f];
      if (text === undefined) throw new Error(`ENOENT ${f}`);
      return text;
    };
    const file = parseRequirementsFile('/app/dev.txt', read);
    expect(file.requirements.map((r) => r.text)).toEqual(['pytest==8.4.2', 'click>=8', 'requests==2.32.0']);
    expect(file.unchecked).toEqual(['/app/base/common.txt:4: -e ./local']);

    const asked = parsePipArgs(
      [
        '-q',
        'install',
        '--upgrade',
        '-r/app/requirements.txt',
        '--index-url',
        'x',
        'bandit[sarif]',
        './wheel',
      ],
      read,
    );
    expect(asked.command).toBe('install');
    expect(asked.files).toEqual(['/app/requirements.txt']);
    expect(asked.requirements.map((r) => r.key)).toEqual(['click', 'requests', 'bandit']);
    expect(asked.unchecked).toEqual(['/app/base/common.txt:4: -e ./local', './wheel']);
    expect(parsePipArgs(['list', '--format', 'json'], read)).toMatchObject({
      command: 'list',
      requirements: [],
    });
    expect(() => parsePipArgs(['install', '-r', '/app/missing.txt'], read)).toThrow(
      /-r \/app\/missing.txt: the requirements file cannot be read/,
    );
  });
});

describe('pip stand-in: when it may stand in', () => {
  it('for an unreachable index, a release the index lacks, or a Python pip may not install into', () => {
    expect(
      installBlockedReason(
        "WARNING: Retrying (Retry(total=0, …)) after connection broken by 'NewConnectionError(…: Failed to establish a new connection: [Errno -2] Name or service not known')': /simple/flake8/\nERROR: No matching distribution found for flake8==7.4.1",
      ),
    ).toBe('no package index can be reached');
    expect(
      installBlockedReason(
        'ERROR: Could not find a version that satisfies the requirement mypy==2.4.0 (from versions: 1.0.1)\nERROR: No matching distribution found for mypy==2.4.0',
      ),
    ).toBe('the package index has no mypy==2.4.0');
    expect(
      installBlockedReason('error: externally-managed-environment\n× This environment is externally managed'),
    ).toMatch(/externally managed \(PEP 668\)/);
  });

  it('never for a real error: a bad requirements file, a conflict, a failed build', () => {
    expect(
      installBlockedReason(
        'ERROR: Could not open requirements file: [Errno 2] No such file or directory: x.txt',
      ),
    ).toBeUndefined();
    expect(
      installBlockedReason(
        'ERROR: Cannot install a==1 and b==2 because these package versions have conflicting dependencies.\nERROR: ResolutionImpossible',
      ),
    ).toBeUndefined();
    expect(
      installBlockedReason(
        'error: subprocess-exited-with-error\n× Building wheel for x did not run successfully.',
      ),
    ).toBeUndefined();
  });
});

describe('pip stand-in: the decision', () => {
  const reqs = ['flake8==7.4.1', 'mypy==2.4.0', 'bandit[sarif]'].map((r) => parseRequirement(r));
  const debian: Probe = {
    python: '/usr/bin/python3',
    version: '3.11.2',
    found: {
      flake8: { name: 'flake8', version: '5.0.4', satisfies: false, missingExtras: {} },
      mypy: { name: 'mypy', version: '2.4.0', satisfies: true, missingExtras: {} },
      bandit: { name: 'bandit', version: '1.6.2', satisfies: null, missingExtras: { sarif: null } },
    },
  };

  it('every requirement installed: success with each version against the one wanted', () => {
    const d = decide({
      requirements: reqs,
      unchecked: [],
      reason: 'no package index can be reached',
      args: ['install', '-r', 'requirements-dev.txt'],
      probes: [debian],
    });
    expect(d.ok).toBe(true);
    expect(d.message).toBe(
      'pip could not install -r requirements-dev.txt here (no package index can be reached); using the installed ' +
        'flake8 5.0.4 (wanted ==7.4.1), mypy 2.4.0, bandit 1.6.2 (it has no extra [sarif]) [/usr/bin/python3 3.11.2]',
    );
  });

  it('one missing: a failure naming it and the Debian package to install', () => {
    const d = decide({
      requirements: [...reqs, parseRequirement('pytest-cov==7.1.0')],
      unchecked: [],
      reason: 'no pip on this machine',
      args: ['install', '-r', 'requirements-dev.txt'],
      probes: [debian],
    });
    expect(d.ok).toBe(false);
    expect(d.message).toMatch(/pytest-cov==7.1.0 is not installed here \(\/usr\/bin\/python3 3.11.2\)/);
    expect(d.message).toMatch(/apt-get install python3-pytest-cov/);
    expect([debianPackage('flake8'), debianPackage('pytest')]).toEqual(['flake8', 'python3-pytest']);
  });

  it('what it cannot see (an editable path) is never taken as installed', () => {
    const d = decide({
      requirements: [],
      unchecked: ['-e ./lib'],
      reason: 'r',
      args: ['install'],
      probes: [debian],
    });
    expect(d).toEqual({ ok: false, message: expect.stringMatching(/cannot check -e \.\/lib/) as unknown });
  });
});

// A distribution installed only for these tests: a dist-info directory on PYTHONPATH, read by the real python3.
async function fakeSite(): Promise<string> {
  const site = join(work, 'site');
  const info = join(site, 'standin_probe_pkg-1.5.dist-info');
  await mkdir(info, { recursive: true });
  await writeFile(
    join(info, 'METADATA'),
    [
      'Metadata-Version: 2.1',
      'Name: standin-probe-pkg',
      'Version: 1.5',
      'Provides-Extra: fast',
      'Requires-Dist: standin-not-there ; extra == "fast"',
      '',
    ].join('\n'),
  );
  return site;
}

const describePython = PYTHON ? describe : describe.skip;
describePython('pip stand-in with the real python3 (skipped only where there is no /usr/bin/python3)', () => {
  it("reads what a Python has installed: version, the pin's verdict, an extra's missing packages", async () => {
    const site = await fakeSite();
    const [found] = probe(
      [parseRequirement('Standin_Probe.Pkg[fast]==2.0'), parseRequirement('standin-missing-pkg')],
      [PYTHON!],
      { ...process.env, PYTHONPATH: site },
    );
    expect(found?.found['standin-probe-pkg']).toMatchObject({
      name: 'standin-probe-pkg',
      version: '1.5',
      missingExtras: { fast: ['standin-not-there'] },
    });
    // The verdict needs `packaging` (or pip's copy of it); without either it is unknown, never "satisfied".
    expect([false, null]).toContain(found?.found['standin-probe-pkg']?.satisfies);
    expect(found?.found['standin-missing-pkg']).toBeUndefined();
  });

  // pip itself runs when the machine has one (pointed at a closed port: no index); without pip the stand-in
  // has the same decision to make.
  function pip(args: string[], site: string): { status: number | null; out: string } {
    const r = spawnSync(join(BIN, 'pip'), args, {
      cwd: work,
      encoding: 'utf8',
      env: {
        PATH: `${BIN}:${dirname(process.execPath)}:/usr/bin:/bin`,
        PYTHONPATH: site,
        PIP_CONFIG_FILE: '/dev/null',
        PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
        PIP_RETRIES: '0',
        PIP_DISABLE_PIP_VERSION_CHECK: '1',
        HOME: work,
      },
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it('no index: the installed release is used, with a warning naming it against the pin', async () => {
    const site = await fakeSite();
    await writeFile(join(work, 'requirements.txt'), 'standin-probe-pkg==2.0\n');
    const r = pip(['install', '-r', 'requirements.txt'], site);
    expect(r.out).toMatch(
      /::warning::stand-in: pip could not install -r requirements.txt here \((no package index can be reached|this Python is externally managed.*|no pip on this machine)\); using the installed standin-probe-pkg 1\.5 \(wanted ==2\.0\)/,
    );
    expect(r.status).toBe(0);
  });

  it('no index and a requirement not installed: the step fails, naming what to install', async () => {
    const site = await fakeSite();
    const r = pip(['install', 'standin-probe-pkg', 'standin-missing-pkg==1.0'], site);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/::error::stand-in: pip install .*standin-missing-pkg==1.0 is not installed here/);
    expect(r.out).toMatch(/apt-get install python3-standin-missing-pkg/);
    expect(r.out).not.toMatch(/::warning::stand-in/);
  });

  it('a requirements file that does not exist stays a failure', async () => {
    const r = pip(['install', '-r', 'nope.txt'], await fakeSite());
    expect(r.status).not.toBe(0);
    expect(r.out).not.toMatch(/::warning::stand-in/);
  });
});

describe('bandit stand-in', () => {
  it('takes the format and output out of the arguments, and keeps the rest in order', () => {
    expect(
      parseBanditArgs([
        '-r',
        'backend',
        '-x',
        'backend/tests',
        '-f',
        'sarif',
        '--output=out.sarif',
        '--exit-zero',
      ]),
    ).toEqual({
      format: 'sarif',
      output: 'out.sarif',
      exitZero: true,
      rest: ['-r', 'backend', '-x', 'backend/tests', '--exit-zero'],
    });
    expect(formattersOf('  [-f {csv,custom,html,json,screen,txt,xml,yaml}]')).toEqual([
      'csv',
      'custom',
      'html',
      'json',
      'screen',
      'txt',
      'xml',
      'yaml',
    ]);
  });

  it("writes SARIF 2.1.0 from bandit's JSON: rule, level from severity, message, file and line", () => {
    const sarif = sarifFromBanditJson(
      {
        errors: [{ filename: 'backend/broken.py', reason: 'syntax error while parsing AST from file' }],
        results: [
          {
            filename: './backend/app.py',
            issue_confidence: 'HIGH',
            issue_severity: 'HIGH',
            issue_text: 'subprocess call with shell=True identified, security issue.',
            line_number: 5,
            line_range: [5],
            more_info: 'https://bandit.readthedocs.io/en/latest/plugins/b602.html',
            test_id: 'B602',
            test_name: 'subprocess_popen_with_shell_equals_true',
          },
          {
            filename: 'backend/app.py',
            issue_confidence: 'HIGH',
            issue_severity: 'LOW',
            issue_text: 'Use of assert detected.',
            line_number: 6,
            line_range: [6, 7],
            test_id: 'B101',
            test_name: 'assert_used',
          },
        ],
      },
      { version: '1.6.2', cwd: '/repo' },
    );
    const run = sarif.runs[0]!;
    expect(sarif.version).toBe('2.1.0');
    expect(run.tool.driver).toMatchObject({ name: 'Bandit', version: '1.6.2' });
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(['B602', 'B101']);
    expect(
      run.results.map((r) => [
        r.ruleId,
        r.level,
        r.message.text,
        r.locations[0]?.physicalLocation.artifactLocation.uri,
        r.locations[0]?.physicalLocation.region.startLine,
      ]),
    ).toEqual([
      ['B602', 'error', 'subprocess call with shell=True identified, security issue.', 'backend/app.py', 5],
      ['B101', 'note', 'Use of assert detected.', 'backend/app.py', 6],
    ]);
    expect(run.invocations[0]?.toolExecutionNotifications[0]?.message.text).toBe(
      'backend/broken.py: syntax error while parsing AST from file',
    );
  });

  it('no bandit at all: a warning, and a SARIF with no results that says no scan ran', async () => {
    const empty = await mkdtemp(join(work, 'nobin-'));
    const out = join(work, 'none.sarif');
    const r = spawnSync(process.execPath, [MAIN, 'bandit', '-r', '.', '-f', 'sarif', '-o', out], {
      cwd: work,
      encoding: 'utf8',
      env: { PATH: empty },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^::warning::stand-in: No security scan ran: bandit is not installed here/m);
    const sarif = JSON.parse(await readFile(out, 'utf8')) as Sarif;
    expect(sarif.runs[0]?.results).toEqual([]);
    expect(sarif.runs[0]?.invocations[0]?.executionSuccessful).toBe(false);
    expect(sarif.runs[0]?.invocations[0]?.toolExecutionNotifications[0]?.message.text).toMatch(
      /No security scan ran/,
    );
    expect(notRunReport('txt', 'why')).toBe('why\n');
  });

  const withBandit = realBandit ? it : it.skip;
  withBandit(
    "the machine's bandit, asked for SARIF and --exit-zero: its findings in SARIF, honoured",
    async () => {
      const project = join(work, 'project');
      await mkdir(join(project, 'pkg', 'tests'), { recursive: true });
      await writeFile(
        join(project, 'pkg', 'app.py'),
        'import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n',
      );
      await writeFile(join(project, 'pkg', 'tests', 'test_app.py'), 'def test_x():\n    assert True\n');
      const bandit = (args: string[]): { status: number | null; out: string } => {
        const r = spawnSync(join(BIN, 'bandit'), args, {
          cwd: project,
          encoding: 'utf8',
          env: { PATH: `${BIN}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: work },
        });
        return { status: r.status, out: `${r.stdout}${r.stderr}` };
      };
      const zero = bandit(['-r', 'pkg', '-x', 'pkg/tests', '-f', 'sarif', '-o', 'out.sarif', '--exit-zero']);
      expect(zero.status).toBe(0);
      const sarif = JSON.parse(await readFile(join(project, 'out.sarif'), 'utf8')) as Sarif;
      const results = sarif.runs[0]!.results;
      expect(results).toContainEqual(
        expect.objectContaining({
          ruleId: 'B602',
          level: 'error',
          locations: [
            expect.objectContaining({
              physicalLocation: expect.objectContaining({
                artifactLocation: { uri: 'pkg/app.py' },
                region: expect.objectContaining({ startLine: 5 }) as unknown,
              }) as unknown,
            }),
          ],
        }),
      );
      // -x was passed through: the test file's assert is not reported.
      expect(JSON.stringify(results)).not.toContain('test_app.py');
      // Without --exit-zero, findings fail the step as bandit's own exit status says.
      expect(bandit(['-r', 'pkg', '-f', 'sarif', '-o', 'out2.sarif']).status).toBe(1);
    },
  );
});
