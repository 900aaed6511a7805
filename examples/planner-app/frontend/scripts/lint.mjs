// The fixture frontend's lint: every script parses as a module (a real app runs ESLint here).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';

let problems = 0;
for (const dir of ['public', 'scripts', 'test']) {
  for (const file of readdirSync(dir).filter((f) => /\.m?js$/.test(f))) {
    try {
      new vm.SourceTextModule(readFileSync(join(dir, file), 'utf8'), { identifier: file });
    } catch (error) {
      problems += 1;
      console.error(`${join(dir, file)}: ${error.message}`);
    }
  }
}
process.exit(problems === 0 ? 0 : 1);
