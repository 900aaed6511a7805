// `pnpm demo`, the README's main command, run as a user runs it (after `pnpm test` built the dists): it is
// examples/workflows/cd-production.yml run through `pnpm workflow` — the good release ships, the broken one is
// caught and rolled back — and an edited copy of that file changes what the demo does. With a Docker engine
// (CI) each release runs ci.yml for real first, hence the long limits.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { typeScriptNodeArgs } from '@planner-deploy/runner-harness';

const root = new URL('..', import.meta.url).pathname;

function runDemo(out: string, extra: string[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...typeScriptNodeArgs(), join(root, 'scripts/demo.ts'), '--no-build', '--out', out, ...extra],
      { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The report's step rows of one release: step name → outcome cell. */
function outcomes(report: string, tag: string): Map<string, string> {
  const start = report.indexOf(`push refs/tags/${tag} `);
  const next = report.indexOf('\n## ', start + 1);
  const section = report.slice(start, next < 0 ? undefined : next);
  const rows = section.split('\n').filter((l) => /^\| \d/.test(l));
  return new Map(rows.map((r) => r.split('|').map((c) => c.trim())).map((c) => [c[3] ?? '', c[4] ?? '']));
}

describe('pnpm demo', () => {
  it('runs cd-production.yml twice: v1.1.0 ships, v1.2.0 is caught, rolled back and announced', async () => {
    const out = await mkdtemp(join(tmpdir(), 'planner-demo-test-'));
    try {
      const { code, output } = await runDemo(out);
      expect({ code, tail: output.split('\n').slice(-25).join('\n') }).toMatchObject({ code: 0 });
      expect(output).toContain('demo passed');
      expect(output).toContain('examples/workflows/cd-production.yml');

      const report = await readFile(join(out, 'report.md'), 'utf8');
      const good = outcomes(report, 'v1.1.0');
      for (const step of [
        'Build and push image',
        'Database backup',
        'Database migration',
        'EKS deployment',
        'Verification',
        'GitHub release',
      ])
        expect([step, good.get(step)]).toEqual([step, '✅ success']);
      expect(good.get('Rollback on failure')).toBe('⏭️ skipped');

      const bad = outcomes(report, 'v1.2.0');
      expect(bad.get('EKS deployment')).toBe('❌ failure');
      expect(bad.get('Verification')).toBe('⏭️ skipped');
      expect(bad.get('GitHub release')).toBe('⏭️ skipped');
      expect(bad.get('Rollback on failure')).toBe('✅ success');
      expect(bad.get('Announce the rollback')).toBe('✅ success');
      // The reason is in the report, and the rollback was announced with an annotation.
      expect(report).toMatch(/v1\.2\.0: .*CrashLoopBackOff.*KeyError: 'REDIS_URL'/);
      expect(output).toMatch(/error: Rolled back: .*rolled back/);
      expect(report).toContain('Running upgrade 8e4d5b6c1a22 -> c7a9e0f3b415, index tasks by owner');
      expect(report).toMatch(/✅ v1\.1\.0's commit serves again/);
      expect(report).toContain('releases: v1.1.0;');

      const html = await readFile(join(out, 'report.html'), 'utf8');
      expect(html).toContain('<table>');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 900_000);

  it('does what an edited cd-production.yml says: a step removed, a step added', async () => {
    const out = await mkdtemp(join(tmpdir(), 'planner-demo-edited-'));
    try {
      const shipped = await readFile(join(root, 'examples/workflows/cd-production.yml'), 'utf8');
      // No GitHub release any more, and a step of our own after the verification.
      const start = shipped.indexOf('      - name: GitHub release');
      const end = shipped.indexOf('      - name:', start + 1);
      expect(start > 0 && end > start).toBe(true);
      const edited =
        shipped.slice(0, start) +
        '      - name: Tell the team\n        run: echo "deployed ${{ github.ref_name }} to production"\n\n' +
        shipped.slice(end);
      const file = join(out, 'cd-production.yml');
      await writeFile(file, edited);

      const { code, output } = await runDemo(out, ['--workflow', file]);
      expect({ code, tail: output.split('\n').slice(-25).join('\n') }).toMatchObject({ code: 0 });
      expect(output).toContain('deployed v1.1.0 to production');
      expect(output).not.toContain('GitHub release');
      const report = await readFile(join(out, 'report.md'), 'utf8');
      expect(outcomes(report, 'v1.1.0').get('Tell the team')).toBe('✅ success');
      expect(outcomes(report, 'v1.2.0').get('Tell the team')).toBe('⏭️ skipped');
      expect(report).toContain('releases: none;');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 900_000);
});
