// A small disk of its own for a test (a 1 MiB tmpfs), to fill up on purpose. Needs root and mount.
import { execFileSync } from 'node:child_process';

/** Mounts a 1 MiB tmpfs at `dir`; false when this machine does not allow it (not root, no mount). */
export function mountSmallDisk(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function unmountSmallDisk(dir: string): void {
  execFileSync('umount', [dir]);
}
