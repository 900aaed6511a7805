/**
 * planner-deploy on a terminal, through a real pseudo-terminal (util-linux `script`): live progress (spinner
 * frames redrawn in place with carriage returns, colours), and Ctrl-C typed mid-rollout (the terminal sends
 * SIGINT): it stops waiting, says what it left running, and exits 130.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import {
  childEnv,
  currentImage,
  MAIN,
  NODE,
  NODE_ARGS,
  startHarness,
  waitReady,
  type Harness,
} from './helpers.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ environments: ['tty', 'stuck'], moreTags: ['v1.1.0', 'v1.2.0'] });
  await Promise.all([waitReady(h.cloud, 'planner-tty'), waitReady(h.cloud, 'planner-stuck')]);
});
afterAll(async () => {
  await h.stop();
});

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

interface PtyRun {
  code: number | null;
  output: string;
  /** ms from the Ctrl-C to the exit, when one was sent. */
  afterInterruptMs?: number;
}

/** Runs the CLI under `script` (a pty); `interruptWhen` types Ctrl-C once the output matches it. */
function underPty(args: string[], interruptWhen?: RegExp): Promise<PtyRun> {
  const command = [NODE, ...NODE_ARGS, MAIN, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: h.cwd,
      env: { ...childEnv(h.cloud.env()), TERM: 'xterm-256color', NO_COLOR: '', SHELL: '/bin/sh' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let interruptedAt: number | undefined;
    const onData = (c: Buffer): void => {
      output += c.toString();
      if (interruptWhen && interruptedAt === undefined && interruptWhen.test(output)) {
        interruptedAt = Date.now();
        child.stdin.write('\u0003');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        output,
        ...(interruptedAt !== undefined ? { afterInterruptMs: Date.now() - interruptedAt } : {}),
      }),
    );
  });
}

describe('on a terminal', () => {
  it.concurrent('draws the rollout progress in place, with a spinner and colours', async () => {
    const r = await underPty(['deploy', 'tty', '--image-tag', 'v1.1.0', '--skip-migrations']);
    expect(r.code).toBe(0);
    // The spinner line: carriage return, erase line, a yellow frame, the progress text.
    expect(r.output).toMatch(
      // eslint-disable-next-line no-control-regex -- the escape sequences are what is being checked
      /\r\u001b\[2K\u001b\[33m[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\u001b\[39m planner-app \d\/2 updated, \d available/,
    );
    expect(r.output).toContain('\u001b[32m✔\u001b[39m');
    expect(currentImage(h.cloud, 'planner-tty')).toContain(':v1.1.0@sha256:');
  });

  it.concurrent(
    'Ctrl-C mid-rollout: stops at once, says the rollout continues on the cluster, exits 130',
    async () => {
      h.cloud.kube.images.set(h.seed.image('v1.2.0'), { kind: 'never-ready' });
      const r = await underPty(
        ['deploy', 'stuck', '--image-tag', 'v1.2.0', '--skip-migrations'],
        /planner-app \d\/2 updated/,
      );
      expect({ code: r.code, output: r.output }).toMatchObject({ code: 130 });
      expect(r.output).toContain('Interrupted: stopped waiting.');
      expect(r.output).toMatch(
        /the rollout of planner-app to \S+:v1\.2\.0@sha256:[0-9a-f]{64} continues on the cluster/,
      );
      expect(r.output).toContain('planner-deploy rollback stuck');
      // Not a timing benchmark: a guard that it did not sit out the rollout's timeout (10 minutes).
      expect(r.afterInterruptMs).toBeLessThan(5000);
      // Left as it said: the new image is set, the rollout not undone.
      expect(currentImage(h.cloud, 'planner-stuck')).toContain(':v1.2.0@sha256:');
    },
  );
});
