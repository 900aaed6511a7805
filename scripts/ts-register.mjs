// `node --import ./scripts/ts-register.mjs --experimental-transform-types file.ts`
// Lets Node 24 run the repository's TypeScript sources directly (scripts, the demo, the CLI in development,
// fixtures in tests). The resolve hook runs in-thread (module.registerHooks): with the off-thread
// `register()` hooks every import crossed a worker boundary, which made loading @kubernetes/client-node's
// thousand files take a second longer.
import * as module from 'node:module';
import { resolveTypeScript, withJsonAttributes } from './ts-hooks.mjs';

if (typeof module.registerHooks === 'function') {
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const ts = resolveTypeScript(specifier, context.parentURL);
      return withJsonAttributes(nextResolve(ts ?? specifier, context), context);
    },
  });
} else {
  module.register('./ts-hooks.mjs', import.meta.url);
}
