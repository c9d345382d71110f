/**
 * The embedded database: one SQLite file (`<LOG_DIRECTORY>/automesh.db`) shared by every automesh process on the
 * machine. WAL lets readers go on while one process writes; writes are short `BEGIN IMMEDIATE` transactions that
 * wait for each other (busy timeout) instead of lock files, and a process killed mid-transaction loses only that
 * transaction (SQLite rolls it back on the next open). `synchronous=NORMAL` in WAL mode survives any process crash;
 * only a power loss may drop the last commits, never corrupt the file.
 *
 * Writes are group-committed: the writes asked for in one turn of the event loop run together in one transaction
 * (each in a savepoint of its own, so one that fails rolls back alone) and each resolves once that transaction
 * has committed. A commit costs ~0.1 ms of CPU whatever it holds, and a workflow step writes its result, its
 * record and its registry entry within a few turns of each other: many steps' writes share a commit instead of
 * paying one each.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import { SCHEMA_V1, SCHEMA_VERSION } from './schema.js';

/** The database's file name under `LOG_DIRECTORY`. */
export const DATABASE_FILE = 'automesh.db';

/** How long a write waits for another process's write transaction before failing (they last well under 1 ms). */
export const BUSY_TIMEOUT_MS = 5000;

const COMPANIONS = ['', '-wal', '-shm', '-journal'];

/** A write waiting for the next group commit. */
interface QueuedWrite {
  doing: string;
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** One open database file with its prepared statements, shared by the three stores of a storage. */
export class SqliteDatabase {
  readonly db: Database.Database;
  /** Absolute path of the file, for messages. */
  readonly file: string;
  private readonly statements = new Map<string, Database.Statement>();
  /** Writes asked for since the last group commit; committed at the end of this turn of the event loop. */
  private queued: QueuedWrite[] = [];
  private readonly flushSoon = (): void => this.flush();

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.file = file;
  }

  /**
   * Opens (creating if needed) the database at `file`, refusing links planted in its place, and brings its schema to
   * {@link SCHEMA_VERSION}. `setting` names where the path came from, for messages (e.g. `LOG_DIRECTORY=./logs`).
   */
  static open(file: string, setting?: string): SqliteDatabase {
    const absolute = resolve(file);
    const where = setting ? `${setting} (${absolute})` : absolute;
    try {
      mkdirSync(resolve(absolute, '..'), { recursive: true });
    } catch (error) {
      throw unavailable(`cannot create the directory of ${where}`, error);
    }
    refuseLinks(absolute);
    let db: Database.Database;
    try {
      db = new Database(absolute, { timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      throw unavailable(`cannot open ${where}`, error);
    }
    const opened = new SqliteDatabase(db, absolute);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      opened.migrate();
      refuseLinks(absolute);
    } catch (error) {
      db.close();
      throw error instanceof StorageError ? error : unavailable(`cannot use ${where}`, error);
    }
    return opened;
  }

  /** A prepared statement, prepared once per connection (the hot path never re-parses SQL). */
  statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  /**
   * Runs `work` in the next group commit: a write transaction taken at once (`BEGIN IMMEDIATE`, so read-modify-writes
   * of several processes never interleave) that holds every write asked for in this turn of the event loop, each
   * in a savepoint of its own. Resolves with what `work` returned once the transaction has committed; rejects with
   * what `work` threw (only its own writes are rolled back) or with the commit's failure.
   */
  write<T>(doing: string, work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(this.flushSoon);
      this.queued.push({ doing, work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** Commits the queued writes: one alone in its own transaction, several in one transaction of savepoints. */
  private flush(): void {
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    if (batch.length === 1) {
      const [only] = batch as [QueuedWrite];
      try {
        only.resolve(this.run(only.doing, () => this.db.transaction(only.work).immediate()));
      } catch (error) {
        only.reject(error);
      }
      return;
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.db
        .transaction(() => {
          for (const write of batch) {
            try {
              // A transaction inside a transaction is a savepoint: a write that throws rolls back alone.
              outcomes.push({ ok: true, value: this.db.transaction(write.work)() });
            } catch (error) {
              outcomes.push({ ok: false, error: this.failure(write.doing, error) });
            }
          }
        })
        .immediate();
    } catch (error) {
      // The transaction itself failed (busy, read-only, full disk): nothing of it was stored.
      for (const write of batch) write.reject(this.failure(write.doing, error));
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i] as (typeof outcomes)[number];
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }

  /** Runs a read (or a single-statement write), turning driver failures into `StorageError`s. */
  run<T>(doing: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw this.failure(doing, error);
    }
  }

  /** Commits the writes still queued, then closes the file. */
  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }

  /** A driver error as a backend-neutral `StorageError` (the caller's own errors pass unchanged). */
  private failure(doing: string, error: unknown): unknown {
    if (error instanceof StorageError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) {
      const hint =
        code === 'SQLITE_BUSY'
          ? `another process held the database's write lock for more than ${BUSY_TIMEOUT_MS} ms`
          : code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')
            ? 'the file or its directory is not writable (read-only disk or permissions)'
            : code === 'SQLITE_FULL'
              ? 'the disk is full'
              : code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB'
                ? 'the file is damaged or not an automesh database; move it aside and automesh starts a new one'
                : 'a disk or file-system error';
      return unavailable(`cannot ${doing} in ${this.file}: ${hint}`, error);
    }
    if (!this.db.open) return unavailable(`cannot ${doing}: the storage at ${this.file} was closed`, error);
    return error;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new StorageError(
        'unavailable',
        `${this.file} was written by a newer automesh (schema version ${version}; this `
          + `automesh knows up to ${SCHEMA_VERSION}). Upgrade automesh, or point LOG_DIRECTORY at another directory.`,
      );
    }
    this.db
      .transaction(() => {
        // Another process may have created the schema while this one waited for the write lock.
        if ((this.db.pragma('user_version', { simple: true }) as number) !== 0) return;
        this.db.exec(SCHEMA_V1);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate();
  }
}

function unavailable(what: string, cause: unknown): StorageError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(
    'unavailable',
    `Storage unavailable: ${what} (${reason}). Check the disk and the directory's `
      + 'permissions, or set LOG_DIRECTORY to a directory this process can write.',
    { cause },
  );
}

/**
 * Refuses to open the database when it or one of SQLite's companion files is a symbolic link: a link planted under
 * LOG_DIRECTORY would otherwise make automesh write wherever it points.
 */
function refuseLinks(file: string): void {
  for (const suffix of COMPANIONS) {
    const path = `${file}${suffix}`;
    let isLink = false;
    try {
      isLink = lstatSync(path).isSymbolicLink();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw unavailable(`cannot inspect ${path}`, error);
    }
    if (isLink) {
      throw new StorageError(
        'unavailable',
        `Refusing to open ${file}: ${path} is a symbolic link, and automesh never writes `
          + `through a link planted in its storage directory. Remove the link (rm '${path}') if you did not create it on purpose.`,
      );
    }
  }
}

/** The database path under a log directory. */
export function databasePath(logDirectory: string): string {
  return join(resolve(logDirectory), DATABASE_FILE);
}
