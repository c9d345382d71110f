/**
 * Temporary folders for tests that are removed when the test file ends, whether its tests passed or failed
 * (a node:test `after` hook at the file's top level runs in both cases), and on exit if the hooks never ran.
 * `npm test` (scripts/test.mjs) checks that the whole run leaves nothing in its temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const created = new Set<string>();

function removeAll(): void {
  for (const dir of created) {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    created.delete(dir);
  }
}

after(removeAll);
process.on('exit', removeAll);

/** A new folder `<tmpdir>/automesh-<name>-XXXXXX`, removed after this test file. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `automesh-${name}-`));
  created.add(dir);
  return dir;
}
