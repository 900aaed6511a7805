import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

test('the page loads main.js, which reads the version from /api/health', () => {
  const html = readFileSync(new URL('../public/index.html', import.meta.url), 'utf8');
  assert.match(html, /<script type="module" src="main.js">/);
  const main = readFileSync(new URL('../public/main.js', import.meta.url), 'utf8');
  assert.match(main, /fetch\('\/api\/health'\)/);
});
