/**
 * Tests that need file permissions to bite run their child as "nobody" when the suite runs as root (root ignores
 * permissions). That child must be able to reach the project (its node_modules, its fixtures): a checkout inside a
 * private folder (e.g. `mktemp -d`, mode 0700) cannot be reached, and such a test would fail for a reason that has
 * nothing to do with what it checks. It is skipped then, saying why.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const NOBODY = 65534;
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `{ uid, gid }` of "nobody" when running as root, else nothing (the child runs as this user). */
export const asNobody: { uid?: number; gid?: number } = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};

/** Why "nobody" cannot reach the project (a folder on its path it may not enter), or false when it can. */
export function nobodyCannotReachProject(): string | false {
  if (asNobody.uid === undefined) return false;
  for (let dir = projectRoot; ; dir = dirname(dir)) {
    const { mode, uid } = statSync(dir);
    if (uid !== NOBODY && (mode & 0o001) === 0) {
      return `the unprivileged user cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}); check out the project in a folder others may enter`;
    }
    if (dirname(dir) === dir) return false;
  }
}
