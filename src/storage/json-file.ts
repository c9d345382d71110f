/**
 * The file primitives every file store is built on: atomic JSON writes, JSON reads that tell a damaged file from a
 * missing one, and a cross-process lock for read-modify-write.
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { lock } from 'proper-lockfile';
import { DamagedFileError, StorageError, StorageLockError } from './errors.js';

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
 * {@link readJson}, synchronously. Used on the registry's lookup path only: there the files are small and in the
 * page cache, and a synchronous read takes ~10 µs where an async one costs ~250 µs of thread-pool round trips
 * (open, stat, read, close), which would dominate a registry hit.
 */
export function readJsonSync<T>(path: string, decoder: Decoder<T>, advice: string): T | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
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
let tempCounter = 0;

/**
 * Temporary file, then rename: the rename is atomic on POSIX file systems, so readers see the old or the new file.
 * Written by hand rather than with write-file-atomic: that library resolves the target's real path first (one
 * lstat per path component) and chowns and chmods the temporary file, and a CPU profile of a 100-step workflow
 * showed that work, on the main thread, as the largest cost of the whole run.
 */
async function atomicWrite(path: string, text: string, durable: boolean): Promise<void> {
  const temp = `${path}.${process.pid}.${(tempCounter = (tempCounter + 1) % 1e9)}.tmp`;
  try {
    if (durable) {
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(text, 'utf8');
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } else {
      await writeFile(temp, text, 'utf8');
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {
      // Nothing to clean up: the temporary file was never made, or was renamed.
    });
    throw error;
  }
}

/** Options of node-retry, which proper-lockfile uses between attempts to take a held lock. */
export interface RetryPolicy {
  retries: number;
  factor: number;
  minTimeout: number;
  maxTimeout: number;
  randomize: boolean;
}

/** How cross-process locks are taken. */
export interface LockPolicy {
  /**
   * Milliseconds after which a lock whose holder stopped refreshing it (a crashed process) is taken over. The
   * holder refreshes it every `staleMs / 2`. proper-lockfile's minimum is 2000.
   */
  staleMs: number;
  /** Waiting for a held lock. Its total should exceed `staleMs`, so a waiter outlives a crashed holder's lock. */
  retry: RetryPolicy;
}

/**
 * Default lock policy. Critical sections last a few milliseconds (read, atomic write), so waiters start polling
 * fast; the backoff grows to 250 ms and the total wait (about a minute) outlasts a stale lock (10 s) several times.
 */
export const DEFAULT_LOCK_POLICY: LockPolicy = {
  staleMs: 10_000,
  retry: { retries: 250, factor: 1.3, minTimeout: 2, maxTimeout: 250, randomize: true },
};

/**
 * Runs `critical` while holding a cross-process lock on `path` (a directory `<path>.lock`, created with mkdir,
 * which is atomic on every local file system). The file itself need not exist. Stale locks of crashed processes
 * are taken over after `policy.staleMs`.
 */
export async function withLock<T>(path: string, policy: LockPolicy, critical: () => Promise<T>): Promise<T> {
  const dir = dirname(path);
  if (!madeDirectories.has(dir)) {
    await mkdir(dir, { recursive: true });
    madeDirectories.add(dir);
  }
  let lost: Error | undefined;
  let release: () => Promise<void>;
  const acquire = (): Promise<() => Promise<void>> => lock(path, {
    realpath: false,
    stale: policy.staleMs,
    retries: policy.retry,
    // The default throws from a timer, which would crash the process; remember it and fail this operation.
    onCompromised: (error) => {
      lost = error;
    },
  });
  try {
    try {
      release = await acquire();
    } catch (error) {
      // The directory was removed since we made it (a cleared log directory): make it again, once.
      if (!isMissing(error)) throw error;
      await mkdir(dir, { recursive: true });
      release = await acquire();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new StorageLockError(
        path,
        `Could not lock ${path}: another process held ${path}.lock for the whole retry period. If no automesh ` +
          `process is running, delete that directory and try again.`,
        { cause: error },
      );
    }
    throw error;
  }
  try {
    const value = await critical();
    if (lost) {
      throw new StorageLockError(
        path,
        `The lock on ${path} was lost while it was held (${lost.message}); the process may have stalled for ` +
          `longer than ${policy.staleMs} ms. The write was made, but another process may have written at the same time.`,
        { cause: lost },
      );
    }
    return value;
  } finally {
    try {
      await release();
    } catch (error) {
      // Releasing a lock that was lost fails by design; anything else is a real problem.
      if (!lost) throw error;
    }
  }
}

/** Maps over `items` with at most `limit` promises in flight (directory scans would otherwise hit EMFILE). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Names in a directory; none when it does not exist (a store that was never written to is empty, not broken). */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/** Sorts ISO times newest first; compares as instants when both parse (offsets may differ), else as text. */
export function compareTimesDesc(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return tb - ta;
  return a < b ? 1 : a > b ? -1 : 0;
}
