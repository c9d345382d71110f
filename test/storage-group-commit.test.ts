// The embedded database commits the writes of one turn of the event loop together, and a write that fails in such
// a group rolls back alone: the others are stored and resolve, it rejects with its own error.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteStorage } from '../src/storage/index.js';
import { tempDir } from './helpers/temp.js';
import { header, owner, rejectsWith, result, step } from './storage/conformance.js';

const base = tempDir('storage-group-commit');

/** Pages the write-ahead log holds: every commit appends the pages it changed (the file never shrinks by itself). */
function walPages(file: string): number {
  const pageSize = 4096;
  // A 32-byte file header, then one 24-byte frame header per page.
  return Math.round((statSync(`${file}-wal`).size - 32) / (pageSize + 24));
}

test('200 results saved in one turn are written by one commit, not 200', async () => {
  const storage = openSqliteStorage(join(base, 'many', 'automesh.db'));
  try {
    const created = walPages(storage.location);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => storage.results.save(result({ resultId: `r${i}`, task: `Task ${i}` }))),
    );
    const written = walPages(storage.location) - created;
    // One commit of 200 small rows writes a handful of table and index pages; a commit per row writes those it
    // changed again every time (3 or more pages a commit: 600+ pages).
    assert.ok(written < 60, `200 saves wrote ${written} pages to the log`);
    assert.equal((await storage.results.list()).length, 200);
  } finally {
    await storage.close();
  }
});

test('a write that fails in a group commit rolls back alone; the writes beside it are stored', async () => {
  const storage = openSqliteStorage(join(base, 'fail', 'automesh.db'));
  try {
    const { workflows, results } = storage;
    const lease = await workflows.claim('wf', owner('run-a'), 60_000);
    await workflows.release(lease);
    const taken = await workflows.claim('wf', owner('run-b'), 60_000);
    const outcomes = await Promise.allSettled([
      results.save(result({ resultId: 'kept-1' })),
      // Fenced: the lease was released, so this write is refused, in the same turn as the others.
      workflows.saveStep(lease, step('stale', 0)),
      workflows.saveHeader(taken, header('wf')),
      results.save(result({ resultId: 'kept-2' })),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    await rejectsWith(workflows.saveStep(lease, step('stale', 0)), 'conflict');
    assert.ok(await results.get('kept-1'));
    assert.ok(await results.get('kept-2'));
    const snapshot = await workflows.load('wf');
    assert.equal(snapshot?.header?.workflowId, 'wf');
    assert.deepEqual(snapshot?.steps, [], 'the refused step record was not stored');
  } finally {
    await storage.close();
  }
});

test('writes still queued when the storage closes are committed first', async () => {
  const file = join(base, 'close', 'automesh.db');
  const storage = openSqliteStorage(file);
  const saved = storage.results.save(result({ resultId: 'late' }));
  await storage.close();
  await saved;
  const again = openSqliteStorage(file);
  try {
    assert.equal((await again.results.get('late'))?.resultId, 'late');
  } finally {
    await again.close();
  }
});
