/**
 * The storage root's fitness check, run by `mesh.start()`: a directory that cannot be created or written is
 * found before any model is paid for, with a message naming the setting, instead of as a raw `ENOENT … mkdir`
 * after the task ran.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StorageError } from './errors.js';

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? '';
}

function describeCreateFailure(error: unknown, absolute: string): string {
  switch (codeOf(error)) {
    case 'EEXIST':
      return `${absolute} is a file, not a directory`;
    case 'ENOTDIR':
      return `a part of ${absolute} is a file, not a directory`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to create ${absolute}`;
    case 'EROFS':
      return `${absolute} is on a read-only file system`;
    default:
      return `cannot create ${absolute} (${(error as Error).message})`;
  }
}

function describeWriteFailure(error: unknown, absolute: string): string {
  switch (codeOf(error)) {
    case 'EACCES':
    case 'EPERM':
      return `${absolute} is not writable (no permission to create files in it)`;
    case 'EROFS':
      return `${absolute} is on a read-only file system`;
    case 'ENOSPC':
      return `the disk holding ${absolute} is full`;
    default:
      return `cannot create a file in ${absolute} (${(error as Error).message})`;
  }
}

/**
 * Creates `dir` if needed and proves a file can be created in it (and removed); each of `subdirectories` that
 * exists must be a directory. Throws a {@link StorageError} naming `setting`.
 */
export async function assertUsableDirectory(
  dir: string,
  setting: string,
  subdirectories: readonly string[] = [],
): Promise<void> {
  const absolute = resolve(dir);
  const unusable = (why: string, cause?: unknown): StorageError =>
    new StorageError(
      'unavailable',
      `${setting}=${dir} is not usable: ${why}. Set ${setting} to a directory this process can write (it is created if missing).`,
      { cause },
    );
  try {
    await mkdir(absolute, { recursive: true });
  } catch (error) {
    throw unusable(describeCreateFailure(error, absolute), error);
  }
  const probe = join(absolute, `.automesh-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
  } catch (error) {
    throw unusable(describeWriteFailure(error, absolute), error);
  }
  await unlink(probe);
  for (const sub of subdirectories) {
    const path = join(absolute, sub);
    const info = await stat(path).catch((error: unknown) => {
      if (codeOf(error) === 'ENOENT') return null;
      throw unusable(`cannot read ${path} (${(error as Error).message})`, error);
    });
    if (info && !info.isDirectory())
      throw unusable(`${path} is a file, but automesh keeps its ${sub} there (a directory)`);
  }
}
