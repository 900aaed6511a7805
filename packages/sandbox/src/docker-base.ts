/**
 * A local stand-in for the `busybox` base image, for Dockerfiles that start `FROM busybox:…` (the Planner
 * fixture app, examples/planner-app) on a machine that cannot pull from a registry: built FROM scratch from
 * the static busybox of Debian's busybox-static and tagged with the name the Dockerfile asks for, so the
 * legacy builder finds it locally and pulls nothing (specs/containers.md).
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from './registry.js';

/** The base the fixture app's Dockerfile names (its ARG BASE_IMAGE default). */
export const PLANNER_BASE_IMAGE = 'busybox:1.36';

function docker(args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ ok: !err, output: `${stdout}${stderr}` }),
    );
  });
}

/**
 * Makes sure the Docker engine of `env` (DOCKER_HOST) has `tag`; builds it from busybox-static when it does
 * not. Returns the tag. Throws when busybox is not on the PATH or the build fails, with docker's output.
 */
export async function ensureBusyboxBase(
  tag = PLANNER_BASE_IMAGE,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if ((await docker(['image', 'inspect', '--format', '{{.Id}}', tag], env)).ok) return tag;
  const busybox = findExecutable('busybox');
  if (busybox === undefined) {
    throw new Error(
      `cannot make the base image ${tag}: busybox is not on the PATH (apt-get install -y busybox-static)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'planner-busybox-base-'));
  try {
    await copyFile(busybox, join(dir, 'busybox'));
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        'FROM scratch',
        'COPY busybox /bin/busybox',
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        'RUN mkdir -p /tmp /usr/bin /usr/sbin /sbin && chmod 1777 /tmp',
        'CMD ["sh"]',
        '',
      ].join('\n'),
    );
    const built = await docker(['build', '--quiet', '--tag', tag, dir], env);
    if (!built.ok) throw new Error(`docker build of the base image ${tag} failed:\n${built.output}`);
    return tag;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
