/**
 * Where the built sandbox parts live. The worker and the in-isolate runtime always run from `dist/` (built
 * by `npm run build`), whether the host code runs from `dist/` or from the TypeScript sources under tsx.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const builtMarker = `${sep}dist${sep}src${sep}`;
const root = (here + sep).includes(builtMarker) ? resolve(here, '../../..') : resolve(here, '../..');

/** The built tree: the worker reads its code from here and nothing else of the package. */
export const distRoot = join(root, 'dist');
export const workerEntry = join(root, 'dist', 'src', 'sandbox', 'worker', 'main.js');
export const runtimeBundle = join(root, 'dist', 'sandbox', 'runtime.js');

/** Throws with the command to run when the built sandbox parts are missing. */
export function assertBuilt(): void {
  for (const file of [workerEntry, runtimeBundle]) {
    if (!existsSync(file)) {
      throw new Error(`The sandbox is not built: ${file} is missing. Run \`npm run build\` in ${root}.`);
    }
  }
}
