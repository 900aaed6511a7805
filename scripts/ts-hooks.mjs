// Lets Node 24 run the repository's TypeScript sources directly (scripts, the demo, the CLI in
// development): sources import './x.js' as NodeNext wants, and the file on disk is './x.ts'.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, nextResolve) {
  if (
    specifier.endsWith('.js') &&
    (specifier.startsWith('.') || specifier.startsWith('/')) &&
    context.parentURL
  ) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (
      !existsSync(fileURLToPath(new URL(specifier, context.parentURL))) &&
      existsSync(fileURLToPath(candidate))
    ) {
      return nextResolve(candidate.href, context);
    }
  }
  return nextResolve(specifier, context);
}
