/**
 * The dashboard's built files (dist/studio: index.html, app.js, app.css), read once and kept in memory. Only these
 * names are served: no path from a request ever reaches the file system.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../cli/package-root.js';

export const STATIC_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** Where `npm run build` puts the bundled dashboard. */
export function defaultStaticDir(): string {
  return join(packageRoot(), 'dist', 'studio');
}

export class StaticFiles {
  private readonly cache = new Map<string, Buffer>();

  constructor(private readonly dir: string) {}

  /** The file's bytes and type; null for a name that is not one of the dashboard's files. */
  read(name: string): { body: Buffer; type: string } | null {
    const type = STATIC_FILES[name];
    if (type === undefined) return null;
    let body = this.cache.get(name);
    if (!body) {
      try {
        body = readFileSync(join(this.dir, name));
      } catch (error) {
        throw new Error(
          `The studio's page is not built: ${join(this.dir, name)} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Run \`npm run build\` in the automesh package.`,
        );
      }
      this.cache.set(name, body);
    }
    return { body, type };
  }
}
