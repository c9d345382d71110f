/**
 * Blobs of a mesh in one process: files under `<LOG_DIRECTORY>/blobs`, a blob `reports/a.md` at `blobs/reports/a.md`.
 *
 * Nothing is ever read or written through a link, as `automesh logs export` writes: every folder on the way must be a
 * real directory (a symbolic link there is refused, never followed), a blob is written to a new temporary file opened
 * with O_EXCL | O_NOFOLLOW, synced, and renamed over its name, a link planted at a blob's name is refused rather than
 * replaced or followed, and reads open with O_NOFOLLOW and take only regular files. Temporary files start with a dot,
 * which no blob name does, so they are never listed or read.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Dirent, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { StorageError } from '../storage/errors.js';
import { MeshError } from '../transport/oam/mesh-error.js';
import {
  type BlobInfo,
  type BlobStore,
  blobBytes,
  blobText,
  byName,
  checkBlobName,
  checkBlobPrefix,
  isBlobName,
} from './blob-store.js';

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
// O_NONBLOCK: a FIFO planted at a blob's name must not hang the read; it is refused once opened.
const READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? '';
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return null;
    throw error;
  }
}

export class DirectoryBlobs implements BlobStore {
  readonly kind = 'directory';
  /** The absolute directory. */
  readonly location: string;

  /** Blobs under `root` (created on the first `put`). */
  constructor(root: string) {
    this.location = resolve(root);
  }

  async put(name: string, data: Uint8Array | string): Promise<BlobInfo> {
    const bytes = blobBytes(checkBlobName(name), data);
    const segments = name.split('/');
    const base = segments.pop() as string;
    const dir = (await this.folder(name, segments, true)) as string;
    const path = join(dir, base);
    const existing = await lstatOrNull(path);
    if (existing?.isSymbolicLink()) throw this.refuse(name, path, 'a symbolic link');
    if (existing?.isDirectory()) throw folderClash(name, name);
    if (existing && !existing.isFile()) throw this.refuse(name, path, 'not a regular file');
    const temp = join(dir, `.${base}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, CREATE, 0o644);
    try {
      try {
        await handle.writeFile(bytes);
        // Synced before the rename: a crash leaves the old blob or the new one, never a torn one.
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    const info = await lstat(path);
    return { name, size: info.size, modified: info.mtime };
  }

  async get(name: string): Promise<Uint8Array | null> {
    const segments = checkBlobName(name).split('/');
    const base = segments.pop() as string;
    const dir = await this.folder(name, segments, false);
    if (dir === null) return null;
    const path = join(dir, base);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, READ);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return null;
      if (codeOf(error) === 'ELOOP') throw this.refuse(name, path, 'a symbolic link');
      throw error;
    }
    try {
      const info = await handle.stat();
      if (info.isDirectory()) return null;
      if (!info.isFile()) throw this.refuse(name, path, 'not a regular file');
      return new Uint8Array(await handle.readFile());
    } finally {
      await handle.close();
    }
  }

  async getText(name: string): Promise<string | null> {
    return blobText(name, await this.get(name));
  }

  async delete(name: string): Promise<boolean> {
    const segments = checkBlobName(name).split('/');
    const base = segments.pop() as string;
    const dir = await this.folder(name, segments, false);
    if (dir === null) return false;
    const path = join(dir, base);
    const info = await lstatOrNull(path);
    if (info === null || info.isDirectory()) return false;
    if (info.isSymbolicLink()) throw this.refuse(name, path, 'a symbolic link');
    try {
      await unlink(path);
      return true;
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return false;
      throw error;
    }
  }

  async list(prefix?: string): Promise<BlobInfo[]> {
    const start = checkBlobPrefix(prefix);
    const root = await lstatOrNull(this.location);
    if (root === null) return [];
    if (!root.isDirectory()) throw this.refuse(start || '(list)', this.location, describe(root));
    const found: BlobInfo[] = [];
    await this.walk(this.location, '', start, found);
    return found.sort(byName);
  }

  /** Blobs of one folder and those below it, skipping links, temporary files and names no blob can have. */
  private async walk(dir: string, under: string, start: string, found: BlobInfo[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return; // removed while we listed
      throw error;
    }
    for (const entry of entries) {
      const name = `${under}${entry.name}`;
      if (entry.name.startsWith('.') || entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        const folder = `${name}/`;
        if (folder.startsWith(start) || start.startsWith(folder))
          await this.walk(join(dir, entry.name), folder, start, found);
        continue;
      }
      if (!entry.isFile() || !name.startsWith(start) || !isBlobName(name)) continue;
      const info = await lstatOrNull(join(dir, entry.name));
      if (info?.isFile()) found.push({ name, size: info.size, modified: info.mtime });
    }
  }

  /**
   * The folder of a blob whose parent segments are `segments`, each checked to be a real directory: created when
   * missing and `create`, else null when missing.
   */
  private async folder(name: string, segments: string[], create: boolean): Promise<string | null> {
    let dir = this.location;
    if (!(await this.realDirectory(name, dir, create, () => mkdir(dirname(this.location), { recursive: true }))))
      return null;
    for (let i = 0; i < segments.length; i++) {
      dir = join(dir, segments[i] as string);
      const folderName = segments.slice(0, i + 1).join('/');
      if (!(await this.realDirectory(name, dir, create, undefined, folderName))) return null;
    }
    return dir;
  }

  /** Whether `dir` is a real directory (making it when missing and `create`); throws for a link or a file. */
  private async realDirectory(
    name: string,
    dir: string,
    create: boolean,
    makeParent?: () => Promise<unknown>,
    folderName?: string,
  ): Promise<boolean> {
    const info = await lstatOrNull(dir);
    if (info === null) {
      if (!create) return false;
      await makeParent?.();
      try {
        await mkdir(dir);
      } catch (error) {
        if (codeOf(error) !== 'EEXIST') throw error;
        return this.realDirectory(name, dir, false, undefined, folderName);
      }
      return true;
    }
    if (info.isSymbolicLink()) throw this.refuse(name, dir, 'a symbolic link');
    if (info.isDirectory()) return true;
    if (folderName !== undefined && info.isFile()) throw folderClash(name, folderName);
    throw this.refuse(name, dir, describe(info));
  }

  private refuse(name: string, path: string, what: string): StorageError {
    return new StorageError(
      'unavailable',
      `Refusing blob "${name}": ${path} is ${what}, and automesh never reads or writes blobs through a link or into `
        + `something it did not create. Remove it from ${this.location}.`,
    );
  }
}

function describe(info: Stats): string {
  return info.isSymbolicLink() ? 'a symbolic link' : info.isDirectory() ? 'a directory' : 'not a directory';
}

/** A name whose folder is a blob, or a blob whose name is a folder of others. */
function folderClash(name: string, folder: string): MeshError {
  return new MeshError(
    'invalid_input',
    name === folder
      ? `Blob "${name}" cannot be stored: "${name}" is a folder of other blobs (${name}/…). Pick another name.`
      : `Blob "${name}" cannot be stored: "${folder}" is a blob, so it cannot also be a folder. Pick another name.`,
  );
}
