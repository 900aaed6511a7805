// The fixture frontend's production build: public/ copied to dist/ (no bundler, no dependencies).
import { cpSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
cpSync('public', 'dist', { recursive: true });
console.log('built dist/');
