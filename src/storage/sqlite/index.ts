/**
 * The embedded-database backend, the default: all three stores in one SQLite file, `<LOG_DIRECTORY>/automesh.db`
 * (see `./database.ts` for how several processes share it).
 */
import type { Settings } from '../../config/settings.js';
import type { Storage } from '../types.js';
import { databasePath, SqliteDatabase } from './database.js';
import { SqliteRegistryStore } from './registry.js';
import { SqliteResultStore } from './results.js';
import { SqliteWorkflowStore } from './workflows.js';

/** {@link Storage} in the database file `file` (created with its directory if missing). */
export function openSqliteStorage(file: string, setting?: string): Storage {
  const database = SqliteDatabase.open(file, setting);
  return {
    results: new SqliteResultStore(database),
    registry: new SqliteRegistryStore(database),
    workflows: new SqliteWorkflowStore(database),
    location: database.file,
    close: async () => database.close(),
  };
}

/** The default storage: `automesh.db` under the `LOG_DIRECTORY` setting (default `./logs`). */
export function openStorageFromSettings(settings: Pick<Settings, 'LOG_DIRECTORY'>): Storage {
  return openSqliteStorage(databasePath(settings.LOG_DIRECTORY), `LOG_DIRECTORY=${settings.LOG_DIRECTORY}`);
}

export { DATABASE_FILE, databasePath } from './database.js';
export { SqliteRegistryStore, SqliteResultStore, SqliteWorkflowStore };
