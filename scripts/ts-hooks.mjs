// Sources import './x.js' as NodeNext wants, and the file on disk is './x.ts': a relative '.js' import
// that does not exist but whose '.ts' twin does resolves to the twin. Used in-thread by ts-register.mjs,
// or as off-thread `register()` hooks on a Node without module.registerHooks.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The '.ts' URL to load instead of `specifier`, or undefined to resolve it as it is. */
export function resolveTypeScript(specifier, parentURL) {
  if (
    !specifier.endsWith('.js') ||
    !(specifier.startsWith('.') || specifier.startsWith('/')) ||
    !parentURL?.startsWith('file:')
  )
    return undefined;
  const candidate = new URL(specifier.replace(/\.js$/, '.ts'), parentURL);
  if (!existsSync(fileURLToPath(new URL(specifier, parentURL))) && existsSync(fileURLToPath(candidate)))
    return candidate.href;
  return undefined;
}

/**
 * @actions/workflow-parser (built for bundlers) imports its JSON schema without `with { type: 'json' }`,
 * which Node refuses: a resolved JSON file of that package is given the attribute it leaves out.
 */
export function withJsonAttributes(resolved, context) {
  if (
    resolved.url.endsWith('.json') &&
    resolved.url.includes('/@actions/workflow-parser/') &&
    !context.importAttributes?.type
  )
    return { ...resolved, importAttributes: { ...context.importAttributes, type: 'json' } };
  return resolved;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(resolveTypeScript(specifier, context.parentURL) ?? specifier, context);
  return withJsonAttributes(resolved, context);
}
