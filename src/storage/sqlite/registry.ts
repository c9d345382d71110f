/**
 * The code registry in the database: one row per entry (its task key in an indexed column, the entry as JSON
 * text) and a full-text index over task, role, capabilities and code for `search`. A lookup is one indexed query.
 */
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
import type { SqliteDatabase } from './database.js';

interface EntryRow {
  id: string;
  body: string;
}

const GET = 'SELECT body FROM registry_entries WHERE id = ?';
const UPSERT = `INSERT INTO registry_entries (id, task_key, body) VALUES (?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET task_key = excluded.task_key, body = excluded.body RETURNING rowid`;
const DELETE_TEXT = 'DELETE FROM registry_search WHERE rowid = ?';
const INSERT_TEXT = 'INSERT INTO registry_search (rowid, task, role, labels, code) VALUES (?, ?, ?, ?, ?)';

/** The searchable text of an entry; the full-text row is rewritten only when it changes (not for a count). */
function searchable(entry: RegistryEntry | null): string | null {
  return entry ? JSON.stringify([entry.task, entry.role, entry.capabilities, entry.code]) : null;
}

export class SqliteRegistryStore implements RegistryStore {
  constructor(private readonly database: SqliteDatabase) {}

  async get(id: string): Promise<RegistryEntry | null> {
    assertSafeName('registry entry id', id);
    return this.read(id);
  }

  async put(entry: RegistryEntry): Promise<void> {
    const body = entryText(entry);
    await this.database.write(`store registry entry ${entry.id}`, () =>
      this.store(this.readQuietly(entry.id), entry, body),
    );
  }

  async update(id: string, change: (entry: RegistryEntry) => RegistryEntry): Promise<RegistryEntry | null> {
    assertSafeName('registry entry id', id);
    return this.database.write(`update registry entry ${id}`, () => {
      const current = this.read(id);
      if (!current) return null;
      const next = change(current);
      this.store(current, next, entryText(next, id));
      return next;
    });
  }

  async upsert(id: string, change: (entry: RegistryEntry | null) => RegistryEntry): Promise<RegistryEntry> {
    assertSafeName('registry entry id', id);
    return this.database.write(`store registry entry ${id}`, () => {
      const current = this.read(id);
      const next = change(current);
      this.store(current, next, entryText(next, id));
      return next;
    });
  }

  async findByTaskKey(taskKey: string): Promise<RegistryScan> {
    assertTaskKey(taskKey);
    return this.scan(
      this.database.run(
        'look up the registry',
        () =>
          this.database
            .statement('SELECT id, body FROM registry_entries WHERE task_key = ?')
            .all(taskKey) as EntryRow[],
      ),
    );
  }

  async list(): Promise<RegistryScan> {
    return this.scan(
      this.database.run(
        'list the registry',
        () => this.database.statement('SELECT id, body FROM registry_entries').all() as EntryRow[],
      ),
    );
  }

  async remove(id: string): Promise<boolean> {
    assertSafeName('registry entry id', id);
    return this.database.write(`remove registry entry ${id}`, () => {
      const row = this.database.statement('DELETE FROM registry_entries WHERE id = ? RETURNING rowid').get(id) as
        | { rowid: number }
        | undefined;
      if (row) this.database.statement(DELETE_TEXT).run(row.rowid);
      return row !== undefined;
    });
  }

  /** Full-text search (FTS5) for any word of `text` as a word prefix; most words matched first, then by relevance. */
  async search(text: string, options: { limit?: number } = {}): Promise<RegistryScan> {
    const terms = searchTerms(text);
    if (terms.length === 0) return { entries: [], damaged: [] };
    // Each term is quoted (words only, no quotes inside): the text is searched for, never read as query syntax.
    const query = terms.map((t) => `"${t}"*`).join(' OR ');
    const rows = this.database.run(
      'search the registry',
      () =>
        this.database
          .statement(
            `SELECT e.id, e.body FROM registry_search s JOIN registry_entries e ON e.rowid = s.rowid
       WHERE registry_search MATCH ? ORDER BY s.rank`,
          )
          .all(query) as EntryRow[],
    );
    const damaged: DamagedRecord[] = [];
    const entries = rows
      .map((r) => entryOrReport(r.body, r.id, this.database.file, damaged))
      .filter((e): e is RegistryEntry => e !== null);
    const ranked = rankBySearchTerms(entries, terms);
    return { entries: ranked.slice(0, options.limit ?? ranked.length), damaged };
  }

  private read(id: string): RegistryEntry | null {
    const row = this.database.run(
      `read registry entry ${id}`,
      () => this.database.statement(GET).get(id) as { body: string } | undefined,
    );
    return row ? decodeEntry(row.body, id, this.database.file) : null;
  }

  /** The current entry, or null when there is none or it is damaged (a put replaces a damaged entry). */
  private readQuietly(id: string): RegistryEntry | null {
    try {
      return this.read(id);
    } catch {
      return null;
    }
  }

  /** Writes an entry and, when its searchable text changed, its full-text row. Inside a write transaction. */
  private store(current: RegistryEntry | null, next: RegistryEntry, body: string): void {
    const { rowid } = this.database.statement(UPSERT).get(next.id, next.taskKey, body) as { rowid: number };
    const text = searchable(next);
    if (text === searchable(current)) return;
    this.database.statement(DELETE_TEXT).run(rowid);
    this.database.statement(INSERT_TEXT).run(rowid, next.task, next.role, next.capabilities.join(' '), next.code);
  }

  private scan(rows: EntryRow[]): RegistryScan {
    const damaged: DamagedRecord[] = [];
    const entries = rows
      .map((r) => entryOrReport(r.body, r.id, this.database.file, damaged))
      .filter((e): e is RegistryEntry => e !== null);
    return { entries: entries.sort(compareEntriesNewest), damaged: damaged.sort((a, b) => (a.id < b.id ? -1 : 1)) };
  }
}
