/**
 * The file primitives of the whole-document workflow file (`FileWorkflowStore`), kept only until the workflow
 * engine moves to the per-step `WorkflowStore`: atomic JSON writes, and JSON reads that tell a damaged file from a
 * missing one.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DamagedFileError, StorageError } from './errors.js';

import type { Decoder } from './schemas.js';

export type { Decoder };

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function decode<T>(path: string, text: string, decoder: Decoder<T>, advice: string): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const reason = text.trim() === '' ? 'the file is empty' : `not valid JSON: ${(error as Error).message}`;
    throw new DamagedFileError(path, reason, advice, { cause: error });
  }
  try {
    return decoder(data);
  } catch (error) {
    throw new DamagedFileError(path, `valid JSON of the wrong shape: ${(error as Error).message}`, advice, { cause: error });
  }
}

/**
 * Reads a JSON file; null when it does not exist. A file that exists but does not decode throws
 * {@link DamagedFileError}: `advice` says what moving it aside costs.
 */
export async function readJson<T>(path: string, decoder: Decoder<T>, advice: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  return decode(path, text, decoder, advice);
}

/**
 * Writes `value` as JSON, atomically: the text goes to a temporary file in the same directory and is renamed over
 * `path`, so a reader (or a crashed process) sees the old file or the new one, never a part. Creates the directory
 * if needed. `durable` also fsyncs before the rename, so the write survives a power loss, not only a process
 * crash; it costs ~0.5 ms and more on a busy disk, so only state that a resume depends on asks for it.
 */
export async function writeJson(path: string, value: unknown, options: { durable?: boolean; compact?: boolean } = {}): Promise<void> {
  let text: string | undefined;
  try {
    text = options.compact ? JSON.stringify(value) : JSON.stringify(value, null, 2);
  } catch (error) {
    throw new StorageError('invalid-name', `Cannot store ${path}: the value is not JSON data (${(error as Error).message})`, { cause: error });
  }
  if (text === undefined) throw new StorageError('invalid-name', `Cannot store ${path}: the value is not JSON data (got ${typeof value})`);
  const dir = dirname(path);
  // mkdir -p costs a syscall round trip per write; each directory only needs it once per process.
  if (!madeDirectories.has(dir)) {
    await mkdir(dir, { recursive: true });
    madeDirectories.add(dir);
  }
  const write = (): Promise<void> => atomicWrite(path, `${text}\n`, options.durable === true);
  try {
    await write();
  } catch (error) {
    // The directory was removed since we made it (a cleared log directory): make it again, once.
    if (!isMissing(error)) throw error;
    await mkdir(dir, { recursive: true });
    await write();
  }
}

const madeDirectories = new Set<string>();
/** A new file only (O_EXCL), never through a link (O_NOFOLLOW): a link planted at the temporary name is refused. */
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Temporary file, then rename: the rename is atomic on POSIX file systems, so readers see the old or the new file.
 * Written by hand rather than with write-file-atomic: that library resolves the target's real path first (one
 * lstat per path component) and chowns and chmods the temporary file, and a CPU profile of a 100-step workflow
 * showed that work, on the main thread, as the largest cost of the whole run.
 */
async function atomicWrite(path: string, text: string, durable: boolean): Promise<void> {
  // An unpredictable name, created exclusively: nobody can plant a link there in advance.
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, NEW_FILE, 0o644);
    try {
      await handle.writeFile(text, 'utf8');
      if (durable) await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {
      // Nothing to clean up: the temporary file was never made, or was renamed.
    });
    throw error;
  }
}
