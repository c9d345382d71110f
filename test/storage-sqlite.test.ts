// The embedded database passes the storage conformance suite.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage, type Storage } from '../src/storage/index.js';
import { tempDir } from './helpers/temp.js';
import { runStorageConformance } from './storage/conformance.js';

const base = tempDir('storage-sqlite');
let count = 0;

/** Writes straight into the file, as a hand edit or a disk fault would. */
function tamper(storage: Storage, sql: string, ...params: unknown[]): void {
  const db = new Database(storage.location);
  try {
    const changed = db.prepare(sql).run(...params).changes;
    if (changed !== 1) throw new Error(`tamper: ${changed} rows changed by ${sql}`);
  } finally {
    db.close();
  }
}

runStorageConformance('sqlite', {
  open: async () => openSqliteStorage(join(base, `s${count++}`, 'automesh.db')),
  reopen: async (storage) => openSqliteStorage(storage.location),
  damage: {
    result: async (storage, role, resultId, text) =>
      tamper(storage, 'UPDATE results SET body = ? WHERE role = ? AND result_id = ?', text, role, resultId),
    entry: async (storage, id, text) => tamper(storage, 'UPDATE registry_entries SET body = ? WHERE id = ?', text, id),
    header: async (storage, workflowId, text) =>
      tamper(storage, 'UPDATE workflow_headers SET body = ? WHERE workflow_id = ?', text, workflowId),
    step: async (storage, workflowId, stepId, text) =>
      tamper(
        storage,
        'UPDATE workflow_steps SET body = ? WHERE workflow_id = ? AND step_id = ?',
        text,
        workflowId,
        stepId,
      ),
  },
});
