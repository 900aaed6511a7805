// `pnpm demo`, the README's main command, run as a user runs it (after `pnpm test` built the dists): the
// production pipeline on the sandbox, the broken release caught and rolled back, the report written.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { typeScriptNodeArgs } from '@planner-deploy/runner-harness';

const root = new URL('..', import.meta.url).pathname;

function runDemo(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...typeScriptNodeArgs(), join(root, 'scripts/demo.ts'), '--no-build', '--out', out],
      { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('pnpm demo', () => {
  it('runs the production pipeline twice: v1.1.0 ships, v1.2.0 is caught and rolled back', async () => {
    const out = await mkdtemp(join(tmpdir(), 'planner-demo-test-'));
    try {
      const { code, output } = await runDemo(out);
      expect({ code, tail: output.split('\n').slice(-25).join('\n') }).toMatchObject({ code: 0 });
      expect(output).toContain('demo passed');

      const report = await readFile(join(out, 'report.md'), 'utf8');
      const timeline = report.slice(report.indexOf('## Timeline'), report.indexOf('## Release'));
      const rows = timeline.split('\n').filter((l) => /^\| \d/.test(l));
      expect(rows.length).toBeGreaterThanOrEqual(12);
      const outcome = (release: string, step: string): string | undefined =>
        rows
          .find((r) => r.includes(`| ${release} | ${step} |`))
          ?.split('|')[5]
          ?.trim();
      for (const step of [
        'Build and push image',
        'Database backup',
        'Database migration',
        'EKS deployment',
        'Verification',
        'GitHub release',
      ])
        expect([step, outcome('v1.1.0', step)]).toEqual([step, '✅ success']);
      expect(outcome('v1.2.0', 'EKS deployment')).toBe('✅ failure');
      expect(outcome('v1.2.0', 'Rollback on failure')).toBe('✅ success');
      expect(outcome('v1.2.0', 'Verification after the rollback')).toBe('✅ success');
      expect(outcome('v1.2.0', 'GitHub release')).toBeUndefined();
      // The reason is in the timeline, and every step's job summary is in the report.
      expect(rows.find((r) => r.includes('| v1.2.0 | EKS deployment |'))).toMatch(
        /failed fast: CrashLoopBackOff.*KeyError: 'REDIS_URL'/,
      );
      expect(report.match(/^### .* \(`[a-z-]+`\)$/gm)).toHaveLength(rows.length);
      expect(report).toContain('Running upgrade 8e4d5b6c1a22 -> c7a9e0f3b415, index tasks by owner');
      expect(report).toMatch(/Every step ended as the pipeline expects/);

      const html = await readFile(join(out, 'report.html'), 'utf8');
      expect(html).toContain('<h2>Timeline</h2>');
      expect(html).toContain('<table>');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
