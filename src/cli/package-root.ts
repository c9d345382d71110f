/** Where the running automesh package lives (its package.json), from source or from dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** The root folder of the running automesh package: the nearest parent with automesh's package.json. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'automesh') {
          cached = dir;
          return dir;
        }
      } catch {
        // Not ours (or unreadable): keep looking upwards.
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`Cannot find the automesh package.json above ${fileURLToPath(import.meta.url)}.`);
    dir = up;
  }
}

/** automesh's package.json. */
export function packageJson(): {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
} {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
}
