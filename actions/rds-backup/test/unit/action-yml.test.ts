import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readManifest } from '@planner-deploy/runner-harness';

const dir = fileURLToPath(new URL('../..', import.meta.url));

/** Rows of the Markdown table under `## <heading>`: first cell (without backticks) → the cells. */
function table(markdown: string, heading: string): Map<string, string[]> {
  const section = markdown.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim());
    rows.set(cells[0]!.replace(/`/g, ''), cells);
  }
  return rows;
}

describe('action.yml and README', () => {
  it('action.yml is complete: node24, branding, every input described with a default, every output described', async () => {
    const manifest = (await readManifest(dir)) as Awaited<ReturnType<typeof readManifest>> & {
      name?: string;
      description?: string;
      branding?: { icon?: string; color?: string };
    };
    expect(manifest.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(manifest.name).toBeTruthy();
    expect(manifest.description).toBeTruthy();
    expect(manifest.branding?.icon).toBeTruthy();
    for (const [name, spec] of Object.entries(manifest.inputs ?? {})) {
      expect([name, typeof spec.description, (spec.description ?? '').length > 20]).toEqual([
        name,
        'string',
        true,
      ]);
      expect([name, typeof spec.default]).toEqual([name, 'string']);
    }
    expect(Object.keys(manifest.outputs ?? {}).sort()).toEqual(
      [
        'deleted-snapshots',
        'duration-seconds',
        'reused',
        'snapshot-arn',
        'snapshot-identifier',
        'status',
      ].sort(),
    );
  });

  it("the README's inputs and outputs tables list exactly action.yml's, with its defaults", async () => {
    const manifest = await readManifest(dir);
    const readme = await readFile(`${dir}/README.md`, 'utf8');
    const inputs = table(readme, 'Inputs');
    expect([...inputs.keys()]).toEqual(Object.keys(manifest.inputs ?? {}));
    for (const [name, spec] of Object.entries(manifest.inputs ?? {})) {
      expect([name, inputs.get(name)?.[2]]).toEqual([
        name,
        `\`${spec.default === '' ? "''" : spec.default}\``,
      ]);
    }
    const outputs = table(readme, 'Outputs');
    expect([...outputs.keys()]).toEqual(Object.keys(manifest.outputs ?? {}));
    for (const [name, spec] of Object.entries(manifest.outputs ?? {})) {
      expect(outputs.get(name)?.[1]?.replace(/`/g, '')).toBe(spec.description);
    }
  });
});
