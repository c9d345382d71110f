/**
 * Code registry on files.
 *
 * ```
 * <dir>/entries/<id>.json        one entry (code, counts, stage, provenance), written atomically
 * <dir>/by-task/<taskKey>.json   index: { taskKey, ids } of the entries of one task key
 * <dir>/**.lock                  transient lock directories (proper-lockfile) during a write
 * ```
 *
 * A lookup reads one index file and the few entries it names, so its cost does not grow with the registry. Every
 * read-modify-write (counts, index) happens under a cross-process lock; every write is an atomic rename, so readers
 * never lock and never see a partial file.
 *
 * Invariant: every entry file is listed by the index of its task key. Index references are added before the entry
 * is written and dropped after it is deleted, so a crash between the two leaves at worst an index id without a file,
 * which readers skip. `reindex()` rebuilds the indexes from the entries after manual changes.
 */
import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DamagedRecord, RegistryEntry, RegistryScan } from '../registry/types.js';
import { DamagedFileError, StorageError } from './errors.js';
import {
  compareTimesDesc, DEFAULT_LOCK_POLICY, type LockPolicy, mapLimit, readdirOrEmpty, readJson, readJsonSync, withLock,
  writeJson,
} from './json-file.js';
import { assertSafeName, assertTaskKey, SAFE_NAME } from './names.js';
import { decodeRegistryEntry, decodeTaskIndex, registryEntrySchema, type TaskIndex } from './schemas.js';
import type { RegistryStore } from './types.js';

const ENTRY_ADVICE = 'the registry then forgets this code (it is generated again when next needed).';
const INDEX_ADVICE =
  'the index is derived data: delete the file and run reindex() on the registry store (FileRegistryStore) to rebuild it.';

/** Options of {@link FileRegistryStore}. */
export interface FileRegistryStoreOptions {
  /** How cross-process locks are taken; defaults to {@link DEFAULT_LOCK_POLICY}. */
  lock?: LockPolicy;
}

/** {@link RegistryStore} on files under `dir` (normally `<LOG_DIRECTORY>/registry`). */
export class FileRegistryStore implements RegistryStore {
  /** Absolute registry directory. */
  readonly dir: string;
  private readonly entriesDir: string;
  private readonly indexDir: string;
  private readonly lockPolicy: LockPolicy;

  constructor(dir: string, options: FileRegistryStoreOptions = {}) {
    this.dir = resolve(dir);
    this.entriesDir = join(this.dir, 'entries');
    this.indexDir = join(this.dir, 'by-task');
    this.lockPolicy = options.lock ?? DEFAULT_LOCK_POLICY;
  }

  /** Path of an entry's file (validates the id). */
  entryPath(id: string): string {
    return join(this.entriesDir, `${assertSafeName('registry entry id', id)}.json`);
  }

  /** Path of a task key's index file (validates the key). */
  indexPath(taskKey: string): string {
    return join(this.indexDir, `${assertTaskKey(taskKey)}.json`);
  }

  async get(id: string): Promise<RegistryEntry | null> {
    return this.readEntry(id);
  }

  async put(entry: RegistryEntry): Promise<void> {
    checkEntry(entry);
    await withLock(this.entryPath(entry.id), this.lockPolicy, async () => {
      await this.write(this.readEntry(entry.id), entry);
    });
  }

  async update(id: string, change: (entry: RegistryEntry) => RegistryEntry): Promise<RegistryEntry | null> {
    return withLock(this.entryPath(id), this.lockPolicy, async () => {
      const current = this.readEntry(id);
      if (!current) return null;
      const next = change(current);
      checkEntry(next, id);
      await this.write(current, next);
      return next;
    });
  }

  async upsert(id: string, change: (entry: RegistryEntry | null) => RegistryEntry): Promise<RegistryEntry> {
    return withLock(this.entryPath(id), this.lockPolicy, async () => {
      const current = this.readEntry(id);
      const next = change(current);
      checkEntry(next, id);
      await this.write(current, next);
      return next;
    });
  }

  async findByTaskKey(taskKey: string): Promise<RegistryScan> {
    const damaged: DamagedRecord[] = [];
    const index = readOrReport('index', taskKey, this.indexPath(taskKey), damaged, () => this.readIndex(taskKey));
    const entries: RegistryEntry[] = [];
    for (const id of index?.ids ?? []) {
      const entry = readOrReport('entry', id, this.entryPath(id), damaged, () => this.readEntry(id));
      // A missing file is an entry removed (or a put interrupted) since the index was read; skip it.
      if (entry && entry.taskKey === taskKey) entries.push(entry);
    }
    return { entries, damaged };
  }

  async list(): Promise<RegistryScan> {
    const ids = (await readdirOrEmpty(this.entriesDir))
      .filter((name) => name.endsWith('.json') && SAFE_NAME.test(name.slice(0, -5)))
      .map((name) => name.slice(0, -5));
    const damaged: DamagedRecord[] = [];
    const read = await mapLimit(ids, 32, async (id) => {
      const path = this.entryPath(id);
      try {
        return await readJson(path, decodeRegistryEntry, ENTRY_ADVICE);
      } catch (error) {
        damaged.push(damagedRecord('entry', id, path, error));
        return null;
      }
    });
    const entries = read
      .filter((e): e is RegistryEntry => e !== null)
      .sort((a, b) => compareTimesDesc(a.provenance.createdAt, b.provenance.createdAt) || (a.id < b.id ? -1 : 1));
    return { entries, damaged: damaged.sort((a, b) => (a.id < b.id ? -1 : 1)) };
  }

  /** Substring match over task text (no index on files); the database backend replaces this with full-text search. */
  async search(text: string, options: { limit?: number } = {}): Promise<RegistryScan> {
    const { entries, damaged } = await this.list();
    const needle = text.toLowerCase();
    const hits = entries.filter((e) => e.task.toLowerCase().includes(needle) || e.normalizedTask.includes(needle));
    return { entries: hits.slice(0, options.limit ?? hits.length), damaged };
  }

  async remove(id: string): Promise<boolean> {
    return withLock(this.entryPath(id), this.lockPolicy, async () => {
      const current = this.readEntry(id);
      if (!current) return false;
      await unlink(this.entryPath(id));
      await this.indexRemove(current.taskKey, id);
      return true;
    });
  }

  /**
   * Rebuilds every index file from the entry files: for repair after a crash between writing an index and an entry,
   * after entries were copied in or deleted by hand, or after a damaged index file was deleted. Safe to run while
   * other processes use the registry. Returns how many task keys and entries were indexed.
   */
  async reindex(): Promise<{ taskKeys: number; entries: number }> {
    // Damaged entries stay out of the indexes: a lookup could not use them anyway.
    const { entries } = await this.list();
    const byKey = new Map<string, string[]>();
    for (const e of entries) byKey.set(e.taskKey, [...(byKey.get(e.taskKey) ?? []), e.id]);
    const indexed = (await readdirOrEmpty(this.indexDir))
      .filter((name) => /^[0-9a-f]{64}\.json$/.test(name))
      .map((name) => name.slice(0, -5));
    for (const key of new Set([...byKey.keys(), ...indexed])) {
      await withLock(this.indexPath(key), this.lockPolicy, async () => {
        let current: TaskIndex | null = null;
        try {
          current = this.readIndex(key);
        } catch {
          // A damaged index is what reindex() repairs.
        }
        // Keep ids written since the scan (their entries exist now); drop ids whose entry is gone or moved.
        const ids = new Set(byKey.get(key) ?? []);
        for (const id of current?.ids ?? []) {
          if (!ids.has(id) && this.readEntrySafe(id)?.taskKey === key) ids.add(id);
        }
        await this.writeIndex(key, [...ids]);
      });
    }
    return { taskKeys: byKey.size, entries: entries.length };
  }

  /** Writes `next` over `current` (null when new), keeping the task-key indexes in step (see the invariant above). */
  private async write(current: RegistryEntry | null, next: RegistryEntry): Promise<void> {
    await this.indexAdd(next.taskKey, next.id);
    await writeJson(this.entryPath(next.id), next);
    if (current && current.taskKey !== next.taskKey) await this.indexRemove(current.taskKey, next.id);
  }

  private readEntry(id: string): RegistryEntry | null {
    return readJsonSync(this.entryPath(id), decodeRegistryEntry, ENTRY_ADVICE);
  }

  private readEntrySafe(id: string): RegistryEntry | null {
    try {
      return this.readEntry(id);
    } catch {
      return null;
    }
  }

  private readIndex(taskKey: string): TaskIndex | null {
    return readJsonSync(this.indexPath(taskKey), decodeTaskIndex, INDEX_ADVICE);
  }

  // Index changes for an id are made only while that id's entry lock is held, so the unlocked check below cannot
  // race with another change for the same id; the index lock serializes changes for different ids of one task key.
  private async indexAdd(taskKey: string, id: string): Promise<void> {
    if (this.readIndex(taskKey)?.ids.includes(id)) return;
    await withLock(this.indexPath(taskKey), this.lockPolicy, async () => {
      const ids = this.readIndex(taskKey)?.ids ?? [];
      if (!ids.includes(id)) await this.writeIndex(taskKey, [...ids, id]);
    });
  }

  private async indexRemove(taskKey: string, id: string): Promise<void> {
    if (!this.readIndex(taskKey)?.ids.includes(id)) return;
    await withLock(this.indexPath(taskKey), this.lockPolicy, async () => {
      const ids = this.readIndex(taskKey)?.ids ?? [];
      if (ids.includes(id)) await this.writeIndex(taskKey, ids.filter((x) => x !== id));
    });
  }

  private async writeIndex(taskKey: string, ids: string[]): Promise<void> {
    if (ids.length > 0) {
      await writeJson(this.indexPath(taskKey), { taskKey, ids } satisfies TaskIndex);
      return;
    }
    try {
      await unlink(this.indexPath(taskKey));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Runs a read of one record; a record that cannot be read (damaged, or an I/O error) is added to `damaged` and read
 * as absent, so that it affects only itself.
 */
function readOrReport<T>(kind: DamagedRecord['kind'], id: string, path: string, damaged: DamagedRecord[], read: () => T | null): T | null {
  try {
    return read();
  } catch (error) {
    damaged.push(damagedRecord(kind, id, path, error));
    return null;
  }
}

function damagedRecord(kind: DamagedRecord['kind'], id: string, path: string, error: unknown): DamagedRecord {
  const reason = error instanceof DamagedFileError ? (error as DamagedFileError).message
    : `Storage file ${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`;
  return { kind, id, path, reason };
}

/** Refuses entries that would store garbage (or a changed id) rather than finding out on the next read. */
function checkEntry(entry: RegistryEntry, expectedId?: string): void {
  const checked = registryEntrySchema.safeParse(entry);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    throw new StorageError('invalid-name', `Refusing to store registry entry ${String(entry?.id)}: ${problems}`);
  }
  assertSafeName('registry entry id', entry.id);
  if (expectedId !== undefined && entry.id !== expectedId) {
    throw new StorageError('conflict', `A registry update must not change the id (${expectedId} became ${entry.id})`);
  }
}
