// Builds automesh: the host code with tsc (to dist/src, with declarations), the in-isolate runtime
// with esbuild (one IIFE at dist/sandbox/runtime.js, loaded into every fresh isolate), and the studio's page
// (studio-web/, Preact + htm) bundled by esbuild into dist/studio (index.html, app.js, app.css): served as static
// files, nothing fetched from a CDN at run time.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
execFileSync(process.execPath, [tsc, '-p', join(root, 'sandbox', 'tsconfig.json')], { stdio: 'inherit' });
execFileSync(process.execPath, [tsc, '-p', join(root, 'studio-web', 'tsconfig.json')], { stdio: 'inherit' });

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

const studio = join(root, 'dist', 'studio');
mkdirSync(studio, { recursive: true });
await build({
  entryPoints: [join(root, 'studio-web', 'main.ts')],
  outfile: join(studio, 'app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  legalComments: 'eof',
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css']) copyFileSync(join(root, 'studio-web', file), join(studio, file));
