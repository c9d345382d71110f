// The embedded database shared by real OS processes, and the faults that broke the file store: several writers at
// once lose nothing, a writer killed mid-transaction costs the next process nothing, links planted in the storage
// directory are never written through, and a full disk fails a save at once with `unavailable`.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CodeRegistry } from '../src/registry/index.js';
import { exportResults, isStorageError, openSqliteStorage, WorkflowLockedError } from '../src/storage/index.js';
import {
  COMMON_CODE,
  COMMON_TASK,
  OWN_PER_WORKER,
  SHARED,
  SHARED_CODE,
  SHARED_WORKFLOW,
} from './fixtures/storage-writer.js';
import { mountSmallDisk, unmountSmallDisk } from './helpers/small-disk.js';
import { tempDir } from './helpers/temp.js';
import { rejectsWith, result } from './storage/conformance.js';

const here = dirname(fileURLToPath(import.meta.url));
const base = tempDir('storage-processes');
let dirs = 0;
const freshDir = (): string => {
  const dir = join(base, `d${dirs++}`);
  mkdirSync(dir);
  return dir;
};
const execFileAsync = promisify(execFile);
const provenance = { provider: 'claude', model: 'claude-sonnet-4-6', resultId: 'res_1' };

test('4 processes writing results, registry entries and workflows at once: nothing lost, one file, no lock files', async () => {
  const dir = freshDir();
  const file = join(dir, 'automesh.db');
  const storage = openSqliteStorage(file);
  try {
    const registry = new CodeRegistry(storage.registry);
    const shared = await registry.register({ ...SHARED, code: SHARED_CODE, capabilities: ['math'], provenance });
    const workers = 4;
    const perWorker = 100;
    // Every worker starts writing at the same moment (after its start-up), so their writes overlap.
    const startAt = String(Date.now() + 4000);
    const outputs = await Promise.all(
      Array.from({ length: workers }, (_, n) =>
        execFileAsync(
          process.execPath,
          ['--import', 'tsx', join(here, 'fixtures', 'storage-writer.ts'), file, String(n), String(perWorker), startAt],
          { cwd: join(here, '..'), timeout: 120_000 },
        ),
      ),
    );
    const reports = outputs.map((o) => JSON.parse(o.stdout) as { registered: string[]; claimedShared: boolean });
    const registered = reports.flatMap((r) => r.registered);

    const after = await registry.get(shared.id);
    assert.equal(after?.successCount, shared.successCount + workers * perWorker);
    assert.equal(after?.stage, 'golden');
    const common = await registry.lookup({ ...SHARED, task: COMMON_TASK });
    assert.equal(common?.code, COMMON_CODE);
    assert.equal(common?.successCount, workers, 'the same code registered by 4 processes counts 4 successes');
    const all = await registry.list();
    const expected = 1 + workers * OWN_PER_WORKER * 2 + 1;
    assert.equal(all.length, expected);
    assert.deepEqual(all.damaged, []);
    assert.equal(new Set([shared.id, ...registered]).size, expected);
    assert.equal((await storage.registry.findByTaskKey(shared.taskKey)).entries.length, 1 + workers * OWN_PER_WORKER);
    assert.equal((await registry.lookup(SHARED))?.id, shared.id, 'the shared entry, with the most successes, wins');

    const results = await storage.results.list();
    assert.equal(results.length, workers * perWorker, 'every result of every process');
    for (let n = 0; n < workers; n++) {
      const loaded = await storage.workflows.load(`wf-${n}`);
      assert.equal(loaded?.steps.length, perWorker, `workflow of worker ${n}: every step`);
      assert.equal(loaded?.header?.status, 'finished');
      assert.equal(await storage.workflows.holder(`wf-${n}`), null, 'released');
    }
    assert.equal(reports.filter((r) => r.claimedShared).length, 1, 'exactly one process holds the shared workflow');
    assert.ok(await storage.workflows.holder(SHARED_WORKFLOW));
    // One database (and SQLite's own WAL companions), no file per task, no lock file.
    for (const name of readdirSync(dir)) assert.match(name, /^automesh\.db(-wal|-shm)?$/, `stray file ${name}`);
  } finally {
    await storage.close();
  }
});

/** Starts a child that runs `script` (ESM, with tsx) and resolves once it printed `ready`. */
async function childReady(script: string): Promise<ReturnType<typeof spawn>> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(here, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  return child;
}

async function kill(child: ReturnType<typeof spawn>): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const storageModule = JSON.stringify(join(here, '..', 'src', 'storage', 'index.ts'));

test('a writer killed in the middle of a transaction costs the next process nothing but that transaction', async () => {
  const file = join(freshDir(), 'automesh.db');
  const first = openSqliteStorage(file);
  await first.results.save(result({ resultId: 'before' }));
  await first.close();
  // The child takes the write lock, writes inside its transaction, and is killed before it commits; it also holds
  // a workflow lease, as a crashed run would.
  const child = await childReady(`
    import Database from 'better-sqlite3';
    import { openSqliteStorage } from ${storageModule};
    const storage = openSqliteStorage(${JSON.stringify(file)});
    await storage.workflows.claim('nightly', { runId: 'crashed', host: 'build-7', pid: process.pid, since: new Date().toISOString() }, 400);
    const db = new Database(${JSON.stringify(file)});
    db.exec('BEGIN IMMEDIATE');
    db.prepare("UPDATE results SET body = 'half-written' WHERE result_id = 'before'").run();
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`);
  const holderPid = child.pid;
  await kill(child);

  const started = performance.now();
  const next = openSqliteStorage(file);
  try {
    await next.results.save(result({ resultId: 'after' }));
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 500, `the next write waited ${elapsed.toFixed(0)} ms`);
    assert.deepEqual(
      await next.results.get('before'),
      result({ resultId: 'before' }),
      'the killed transaction was rolled back',
    );
    // Its lease is live until it expires; then the next run takes the workflow over.
    await assert.rejects(
      next.workflows.claim('nightly', { runId: 'next', host: 'h', pid: 1, since: 'now' }, 60_000),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowLockedError);
        assert.match(error.message, new RegExp(`pid ${holderPid} on build-7`));
        return true;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 450));
    assert.equal(
      (await next.workflows.claim('nightly', { runId: 'next', host: 'h', pid: 1, since: 'now' }, 60_000)).generation,
      2,
    );
  } finally {
    await next.close();
  }
});

test('links planted in the storage directory are refused, never written through', async () => {
  for (const name of ['automesh.db', 'automesh.db-wal', 'automesh.db-shm']) {
    const dir = freshDir();
    // A link to a file that does not exist yet: following it would create the file outside.
    const outside = join(freshDir(), 'created-through-the-link');
    symlinkSync(outside, join(dir, name));
    let error: unknown = null;
    try {
      const storage = openSqliteStorage(join(dir, 'automesh.db'));
      await storage.results.save(result());
      await storage.close();
    } catch (e) {
      error = e;
    }
    assert.equal(existsSync(outside), false, `${name}: nothing was written through the link`);
    assert.ok(isStorageError(error, 'unavailable'), `${name}: ${String(error)}`);
    assert.match(
      (error as Error).message,
      new RegExp(`${name.replace('.', '\\.')} is a symbolic link, and automesh never writes through a link`),
    );
  }
});

test('logs export writes <role>/<resultId>.json and refuses planted links', async () => {
  const storage = openSqliteStorage(join(freshDir(), 'automesh.db'));
  try {
    await storage.results.save(result());
    await storage.results.save(result({ resultId: 'res_2', role: 'analyst' }));
    const out = freshDir();
    const report = await exportResults(storage.results, out);
    assert.deepEqual({ written: report.written, damaged: report.damaged }, { written: 2, damaged: [] });
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'calculator', 'res_1.json'), 'utf8')), result());
    assert.deepEqual(readdirSync(join(out, 'analyst')), ['res_2.json'], 'no temporary file left');
    // Again, over the files of the first export.
    assert.equal((await exportResults(storage.results, out)).written, 2);

    const outsideDir = freshDir();
    const planted = freshDir();
    symlinkSync(outsideDir, join(planted, 'calculator'));
    await rejectsWith(exportResults(storage.results, planted), 'unavailable', /calculator: it is a symbolic link/);
    assert.deepEqual(readdirSync(outsideDir), [], 'nothing written through the directory link');

    const plantedFile = freshDir();
    const target = join(freshDir(), 'precious.txt');
    writeFileSync(target, 'do not touch');
    mkdirSync(join(plantedFile, 'calculator'));
    symlinkSync(target, join(plantedFile, 'calculator', 'res_1.json'));
    await rejectsWith(exportResults(storage.results, plantedFile), 'unavailable', /res_1\.json: it is a symbolic link/);
    assert.equal(readFileSync(target, 'utf8'), 'do not touch');
  } finally {
    await storage.close();
  }
});

test('a full disk fails a save at once with unavailable; what was saved stays readable', async (t) => {
  const dir = freshDir();
  if (!mountSmallDisk(dir)) {
    t.skip('needs root and mount to make a small disk');
    return;
  }
  try {
    const storage = openSqliteStorage(join(dir, 'automesh.db'));
    try {
      await storage.results.save(result({ resultId: 'kept' }));
      // Fill the disk with a file of another program.
      try {
        writeFileSync(join(dir, 'filler'), Buffer.alloc(2 * 1024 * 1024));
      } catch {
        // ENOSPC: the disk is full now, which is the point.
      }
      const started = performance.now();
      await rejectsWith(
        storage.results.save(
          result({ resultId: 'lost', envelope: { status: 'success', output: 'x'.repeat(300_000) } }),
        ),
        'unavailable',
        /cannot save result lost in .*automesh\.db: the disk is full/,
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 1000, `the failed save took ${elapsed.toFixed(0)} ms`);
      assert.ok(await storage.results.get('kept'), 'what was saved stays readable');
    } finally {
      const closing = performance.now();
      await storage.close();
      assert.ok(performance.now() - closing < 1000, 'close is quick');
    }
  } finally {
    unmountSmallDisk(dir);
  }
  assert.equal(existsSync(join(dir, 'automesh.db')), false, 'the small disk is gone');
});
