/**
 * `automesh logs export`: the result log as JarvisCore-style files, `<dir>/<role>/<resultId>.json` (the stored
 * record, indented), for people and tools that read files.
 *
 * Nothing is ever written through a link: each role directory must be a real directory (a symbolic link there is
 * refused), each file is written to a new temporary file opened with O_EXCL | O_NOFOLLOW and renamed over its
 * name, and a link planted at a file's name is refused rather than replaced or followed.
 */
import { randomBytes } from 'node:crypto';
import { constants, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StorageError } from './errors.js';
import type { DamagedResult, ResultFilter, ResultStore } from './types.js';

/** What an export did. */
export interface ExportReport {
  /** Absolute directory the files went to. */
  dir: string;
  written: number;
  /** Results that could not be read (not exported; the export went on). */
  damaged: DamagedResult[];
}

const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function refuse(path: string, what: string): StorageError {
  return new StorageError(
    'unavailable',
    `Refusing to export into ${path}: it is ${what}, and automesh never writes through `
      + `a link or over something it did not create. Remove it (or export with --dir to another directory).`,
  );
}

/** Makes (or checks) a directory that must be a real one, never a symbolic link. */
function realDirectory(path: string): void {
  const info = lstatOrNull(path);
  if (info === null) {
    mkdirSync(path);
    return;
  }
  if (info.isSymbolicLink()) throw refuse(path, 'a symbolic link');
  if (!info.isDirectory()) throw refuse(path, 'not a directory');
}

/** Writes `text` at `path` by way of a new temporary file renamed over it; refuses a link or a non-file at `path`. */
async function writeNewFile(path: string, text: string): Promise<void> {
  const existing = lstatOrNull(path);
  if (existing?.isSymbolicLink()) throw refuse(path, 'a symbolic link');
  if (existing && !existing.isFile()) throw refuse(path, 'not a regular file');
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, EXCLUSIVE, 0o644);
  try {
    await handle.writeFile(text, 'utf8');
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Exports every result matching `filter` to `<dir>/<role>/<resultId>.json`. */
export async function exportResults(
  results: ResultStore,
  dir: string,
  filter: ResultFilter = {},
): Promise<ExportReport> {
  const absolute = resolve(dir);
  mkdirSync(absolute, { recursive: true });
  const report: ExportReport = { dir: absolute, written: 0, damaged: [] };
  const roles = new Set<string>();
  for await (const item of results.scan(filter)) {
    if (item.damaged) {
      report.damaged.push(item.damaged);
      continue;
    }
    const { result } = item;
    const roleDir = join(absolute, result.role);
    if (!roles.has(result.role)) {
      realDirectory(roleDir);
      roles.add(result.role);
    }
    await writeNewFile(join(roleDir, `${result.resultId}.json`), `${JSON.stringify(result, null, 2)}\n`);
    report.written++;
  }
  return report;
}
