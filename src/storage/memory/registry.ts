/** Code registry in memory: for tests and throwaway runs. Entries are kept as JSON text beside their task key. */
import type { DamagedRecord, RegistryEntry, RegistryScan } from '../../registry/types.js';
import { assertSafeName, assertTaskKey } from '../names.js';
import {
  compareEntriesNewest,
  decodeEntry,
  entryOrReport,
  entryText,
  rankBySearchTerms,
  searchTerms,
} from '../records.js';
import type { RegistryStore } from '../types.js';

/** One stored entry: its task key (the index) beside its text. */
export interface MemoryEntryRow {
  taskKey: string;
  text: string;
}

const LOCATION = 'memory';

/**
 * {@link RegistryStore} in memory. Each read-modify-write runs without an `await` between its read and its write, so
 * concurrent updates in this process never lose one.
 */
export class MemoryRegistryStore implements RegistryStore {
  constructor(private readonly rows: Map<string, MemoryEntryRow> = new Map()) {}

  async get(id: string): Promise<RegistryEntry | null> {
    const row = this.rows.get(assertSafeName('registry entry id', id));
    return row ? decodeEntry(row.text, id, LOCATION) : null;
  }

  async put(entry: RegistryEntry): Promise<void> {
    this.rows.set(entry.id, { taskKey: entry.taskKey, text: entryText(entry) });
  }

  async update(id: string, change: (entry: RegistryEntry) => RegistryEntry): Promise<RegistryEntry | null> {
    const current = await this.get(id);
    if (!current) return null;
    return this.write(id, change(current));
  }

  async upsert(id: string, change: (entry: RegistryEntry | null) => RegistryEntry): Promise<RegistryEntry> {
    const row = this.rows.get(assertSafeName('registry entry id', id));
    return this.write(id, change(row ? decodeEntry(row.text, id, LOCATION) : null));
  }

  async findByTaskKey(taskKey: string): Promise<RegistryScan> {
    assertTaskKey(taskKey);
    return this.scan(([, row]) => row.taskKey === taskKey);
  }

  async list(): Promise<RegistryScan> {
    return this.scan(() => true);
  }

  async remove(id: string): Promise<boolean> {
    return this.rows.delete(assertSafeName('registry entry id', id));
  }

  /** Entries with a word of task, role, capabilities or code starting with a word of `text`; most words matched first. */
  async search(text: string, options: { limit?: number } = {}): Promise<RegistryScan> {
    const terms = searchTerms(text);
    const { entries, damaged } = await this.list();
    const ranked = rankBySearchTerms(entries, terms);
    return { entries: ranked.slice(0, options.limit ?? ranked.length), damaged };
  }

  private write(id: string, next: RegistryEntry): RegistryEntry {
    this.rows.set(id, { taskKey: next.taskKey, text: entryText(next, id) });
    return next;
  }

  private scan(keep: (item: [string, MemoryEntryRow]) => boolean): RegistryScan {
    const damaged: DamagedRecord[] = [];
    const entries: RegistryEntry[] = [];
    for (const item of this.rows) {
      if (!keep(item)) continue;
      const entry = entryOrReport(item[1].text, item[0], LOCATION, damaged);
      if (entry) entries.push(entry);
    }
    return { entries: entries.sort(compareEntriesNewest), damaged: damaged.sort((a, b) => (a.id < b.id ? -1 : 1)) };
  }
}
