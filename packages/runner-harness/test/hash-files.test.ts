// hashFiles() in pnpm workflow's expressions: what a cache key built from it would see on the runner — the
// files under the workspace matching the patterns, each hashed, the hashes hashed again in path order.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateExpression } from '../src/workflow/index.js';

let dir: string;
let workspace: string;
const sha256 = (b: Buffer | string): Buffer => createHash('sha256').update(b).digest();
// What the runner computes for these files, in path order (written out here, not taken from the code).
const expected = (...contents: string[]): string =>
  createHash('sha256')
    .update(Buffer.concat(contents.map((c) => sha256(c))))
    .digest('hex');
const hashFiles = (args: string, ws: string | null = workspace): unknown =>
  evaluateExpression(`hashFiles(${args})`, { github: ws === null ? {} : { workspace: ws } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hash-files-'));
  workspace = join(dir, 'ws');
  await mkdir(join(workspace, 'backend'), { recursive: true });
  await mkdir(join(workspace, 'frontend', 'node_modules', 'x'), { recursive: true });
  await writeFile(join(workspace, 'backend', 'requirements.txt'), 'flake8==7.4.1\n');
  await writeFile(join(workspace, 'backend', 'requirements-dev.txt'), 'pytest==8.4.2\n');
  await writeFile(join(workspace, 'frontend', 'package-lock.json'), '{"lockfileVersion":3}\n');
  await writeFile(join(workspace, 'frontend', 'node_modules', 'x', 'package-lock.json'), '{}\n');
  await writeFile(join(dir, 'outside.txt'), 'not in the workspace\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('hashFiles()', () => {
  it('hashes the matching files in path order', () => {
    // requirements-dev.txt sorts before requirements.txt.
    expect(hashFiles("'backend/requirements*.txt'")).toBe(expected('pytest==8.4.2\n', 'flake8==7.4.1\n'));
    expect(hashFiles("'backend/requirements.txt'")).toBe(expected('flake8==7.4.1\n'));
  });

  it('takes several patterns, and a leading ! excludes', () => {
    const all = hashFiles("'**/package-lock.json'");
    const own = hashFiles("'**/package-lock.json', '!**/node_modules/**'");
    expect(own).toBe(expected('{"lockfileVersion":3}\n'));
    expect(all).not.toBe(own);
    expect(hashFiles("'backend/requirements.txt', 'frontend/package-lock.json'")).toBe(
      expected('flake8==7.4.1\n', '{"lockfileVersion":3}\n'),
    );
  });

  it("is '' when nothing matches, and never reads outside the workspace", () => {
    expect(hashFiles("'**/*.lock'")).toBe('');
    expect(hashFiles("'../outside.txt'")).toBe('');
    expect(hashFiles("'backend'")).toBe(''); // a directory is not a file
  });

  it('says what is missing without a workspace', () => {
    expect(() => hashFiles("'x'", null)).toThrow(/hashFiles\(\) needs the workspace/);
  });
});
