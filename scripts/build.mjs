// Builds automesh: the host code with tsc (to dist/src, with declarations) and the in-isolate runtime
// with esbuild (one IIFE at dist/sandbox/runtime.js, loaded into every fresh isolate).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
execFileSync(process.execPath, [tsc, '-p', join(root, 'sandbox', 'tsconfig.json')], { stdio: 'inherit' });

mkdirSync(join(root, 'dist', 'sandbox'), { recursive: true });
await build({
  entryPoints: [join(root, 'sandbox', 'runtime.ts')],
  outfile: join(root, 'dist', 'sandbox', 'runtime.js'),
  bundle: true,
  format: 'iife',
  target: 'es2022',
  platform: 'neutral',
  logLevel: 'warning',
});
