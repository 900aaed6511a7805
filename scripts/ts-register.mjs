// `node --import ./scripts/ts-register.mjs --experimental-transform-types file.ts`
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
