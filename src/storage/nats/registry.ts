/**
 * The code registry on the `automesh-registry` KV bucket (key layout in ./keys.ts): one key per entry, changed by
 * compare-and-set on its revision (read, change, write at the revision read; on a lost race read again), so counts
 * stay exact under concurrent updates from any number of processes; and one index key per (task key, entry).
 *
 * `findByTaskKey`, on the path of every task, answers from the live copy of the bucket ({@link RegistryMirror}):
 * no network, a few microseconds. When the copy has no entry a lookup could reuse (none, or only `candidate`s), it
 * reads the index and the entries from the bucket itself, so a function verified on another node a moment ago is
 * found even before the watch brings it: only a hit is answered from memory, and a hit can only be a little old.
 *
 * Index keys are written before their entry and deleted after it moved away, so an entry is never unfiled; a
 * reference left behind by a crash in between points to an entry of another task key (or to none) and is skipped.
 */
import type { DamagedRecord, RegistryEntry, RegistryScan } from '../../registry/types.js';
import type { KvBucket } from '../../transport/bus.js';
import { isBusError } from '../../transport/bus-errors.js';
import { StorageError } from '../errors.js';
import { assertSafeName, assertTaskKey } from '../names.js';
import {
  ADVICE,
  compareEntriesNewest,
  damagedError,
  decodeEntry,
  entryText,
  rankBySearchTerms,
  reasonOf,
  searchTerms,
} from '../records.js';
import type { RegistryStore } from '../types.js';
import { isCasRefusal, kvCall } from './failures.js';
import { entryKey, parseRegistryKey, taskIndexKey, taskIndexPrefix } from './keys.js';
import type { RegistryMirror } from './registry-mirror.js';
import { backoff, CAS_TRIES } from './retry.js';
import { type KvPlace, KvTexts, partKeys, readAll, type TextRead } from './texts.js';

const encoder = new TextEncoder();

/** How a read-modify-write treats the current entry: `replace` (put) does not need to read it. */
type ChangeMode = 'change' | 'replace';

export class BusRegistryStore implements RegistryStore {
  private readonly texts: KvTexts;

  constructor(
    private readonly place: KvPlace,
    private readonly mirror: RegistryMirror,
  ) {
    this.texts = new KvTexts(place);
  }

  private bucket(): KvBucket {
    return this.place.bucket();
  }

  private where(key?: string): string {
    return this.place.where(key);
  }

  async get(id: string): Promise<RegistryEntry | null> {
    assertSafeName('registry entry id', id);
    const read = await this.texts.read(entryKey(id));
    return read === null ? null : this.decode(read, id);
  }

  async put(entry: RegistryEntry): Promise<void> {
    entryText(entry);
    await this.change(entry.id, 'replace', () => entry);
  }

  update(id: string, change: (entry: RegistryEntry) => RegistryEntry): Promise<RegistryEntry | null> {
    return this.change(id, 'change', (current) => (current === null ? null : change(current)));
  }

  async upsert(id: string, change: (entry: RegistryEntry | null) => RegistryEntry): Promise<RegistryEntry> {
    return (await this.change(id, 'change', change)) as RegistryEntry;
  }

  async findByTaskKey(taskKey: string): Promise<RegistryScan> {
    assertTaskKey(taskKey);
    const copy = this.mirror.find(taskKey);
    if (copy.entries.some((entry) => entry.stage !== 'candidate')) return copy;
    const listed = await this.listed(taskIndexPrefix(taskKey), 'index');
    return this.scan(union(listed, this.mirror.idsOf(taskKey)), (entry) => entry.taskKey === taskKey);
  }

  async list(): Promise<RegistryScan> {
    const listed = await this.listed('entry.', 'entry');
    return this.scan(union(listed, this.mirror.entryIds()), () => true);
  }

  /**
   * The ids of the keys a listing under `prefix` finds. A JetStream key listing can leave out a key rewritten while
   * it runs, so callers add the ids the live copy knows; index keys are never rewritten (see {@link file}).
   */
  private async listed(prefix: string, kind: 'entry' | 'index'): Promise<string[]> {
    const keys = await kvCall(`list ${prefix}*`, this.where(), () => this.bucket().keys(prefix));
    return keys.flatMap((key) => {
      const parsed = parseRegistryKey(key);
      return parsed.kind === kind ? [parsed.id] : [];
    });
  }

  async remove(id: string): Promise<boolean> {
    assertSafeName('registry entry id', id);
    const key = entryKey(id);
    const read = await this.texts.read(key);
    if (read === null) return false;
    const taskKeys = new Set(this.mirror.taskKeysOf(id));
    if (read.text !== undefined) {
      try {
        taskKeys.add(decodeEntry(read.text, id, this.where(key)).taskKey);
      } catch {
        // a damaged entry's task key cannot be read: its index references are the ones the mirror knows
      }
    }
    await kvCall(`delete ${key}`, this.where(), () => this.bucket().delete(key));
    this.mirror.forget(key);
    const references = [...taskKeys].map((taskKey) => taskIndexKey(taskKey, id));
    await this.texts.delete(references);
    for (const reference of references) this.mirror.forget(reference);
    for (const part of await this.texts.dropParts(key)) this.mirror.forget(part);
    return true;
  }

  async search(text: string, options: { limit?: number } = {}): Promise<RegistryScan> {
    const { entries, damaged } = await this.list();
    const ranked = rankBySearchTerms(entries, searchTerms(text));
    return { entries: ranked.slice(0, options.limit ?? ranked.length), damaged };
  }

  private decode(read: TextRead, id: string): RegistryEntry {
    const key = entryKey(id);
    if (read.problem !== undefined)
      throw damagedError(`Registry entry ${id}`, this.where(key), read.problem, ADVICE.entry);
    return decodeEntry(read.text, id, this.where(key));
  }

  /** The entries of `ids` that pass `keep`, read from the bucket; the damaged ones reported. */
  private async scan(ids: string[], keep: (entry: RegistryEntry) => boolean): Promise<RegistryScan> {
    const reads = await readAll(ids, (id) => this.texts.read(entryKey(id)));
    const entries: RegistryEntry[] = [];
    const damaged: DamagedRecord[] = [];
    ids.forEach((id, i) => {
      const read = reads[i];
      if (!read) return; // removed between the listing and the read
      try {
        const entry = this.decode(read, id);
        if (keep(entry)) entries.push(entry);
      } catch (error) {
        damaged.push({ kind: 'entry', id, path: this.where(entryKey(id)), reason: reasonOf(error) });
      }
    });
    return { entries: entries.sort(compareEntriesNewest), damaged: damaged.sort((a, b) => (a.id < b.id ? -1 : 1)) };
  }

  /**
   * The compare-and-set loop of put, update and upsert. `next` gets the current entry (null when there is none)
   * and returns the entry to store, or null to store nothing. With `replace`, a current entry that cannot be read
   * is simply overwritten (a damaged record can be replaced); with `change` it throws `damaged`.
   */
  private async change(
    id: string,
    mode: ChangeMode,
    next: (current: RegistryEntry | null) => RegistryEntry | null,
  ): Promise<RegistryEntry | null> {
    assertSafeName('registry entry id', id);
    const key = entryKey(id);
    for (let attempt = 1; attempt <= CAS_TRIES; attempt++) {
      const read = await this.texts.read(key);
      let current: RegistryEntry | null = null;
      if (read !== null) {
        try {
          current = this.decode(read, id);
        } catch (error) {
          if (mode === 'change') throw error;
        }
      }
      const entry = next(current);
      if (entry === null) return null;
      const text = entryText(entry, id);
      const filed = current?.taskKey;
      if (filed !== entry.taskKey) await this.file(entry.taskKey, id);
      let written: Awaited<ReturnType<KvTexts['write']>>;
      try {
        written = await this.texts.write(
          key,
          text,
          read === null ? { kind: 'create' } : { kind: 'update', revision: read.revision },
        );
      } catch (error) {
        if (!isCasRefusal(error)) throw error;
        await backoff(attempt);
        continue;
      }
      for (const write of written.writes) this.mirror.apply({ ...write, operation: 'PUT' });
      if (filed !== undefined && filed !== entry.taskKey) {
        const moved = taskIndexKey(filed, id);
        await this.texts.delete([moved]);
        this.mirror.forget(moved);
      }
      if (read?.manifest) {
        const stale = partKeys(key, read.manifest);
        await this.texts.delete(stale);
        for (const part of stale) this.mirror.forget(part);
      }
      return entry;
    }
    throw new StorageError(
      'conflict',
      `Could not update registry entry ${id} in ${this.where(key)}: it changed under each of ${CAS_TRIES} `
        + 'compare-and-set tries (other processes are updating it at the same moment); try again.',
    );
  }

  /**
   * Writes the index reference of `id` under `taskKey`, only if there is none: a reference is written once and
   * never rewritten, so a key listing (which may leave out keys rewritten while it runs) always finds it.
   */
  private async file(taskKey: string, id: string): Promise<void> {
    const key = taskIndexKey(taskKey, id);
    const value = encoder.encode(id);
    try {
      const revision = await kvCall(`write ${key}`, this.where(), () => this.bucket().create(key, value));
      this.mirror.apply({ key, revision, operation: 'PUT', value });
    } catch (error) {
      if (!isBusError(error, 'kv_key_exists')) throw error;
    }
  }
}

/** The ids of both lists, each once, in first-seen order. */
const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];
