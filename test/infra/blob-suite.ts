/**
 * The blob store contract (`src/infra/blob-store.ts`), run on each backend: the local directory (one process) and the
 * object store on a real nats-server. Each test gets a store of its own (`open()`); a second store on the same backend
 * (`openOther()`: another connection, or another DirectoryBlobs on the same folder) sees what the first put.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BlobStore } from '../../src/infra/blob-store.js';
import { isMeshError } from '../../src/transport/oam/mesh-error.js';

export interface BlobHarness {
  /** A fresh, empty store. */
  open(): Promise<BlobStore>;
  /** Another handle on the store `open()` last returned (another process would see this). */
  openOther(): Promise<BlobStore>;
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

async function refusedName(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isMeshError(err, 'invalid_input'), `expected invalid_input, got ${String(err)}`);
    assert.match((err as Error).message, /is not a blob name: use "\/"-separated segments/);
    return true;
  });
}

export function blobSuite(label: string, harness: BlobHarness): void {
  describe(`blobs (${label})`, () => {
    test('put, get, getText, list and delete, seen by another handle', async () => {
      const blobs = await harness.open();
      const info = await blobs.put('notes.md', 'héllo');
      assert.equal(info.name, 'notes.md');
      assert.equal(info.size, 6);
      assert.ok(info.modified instanceof Date);
      await blobs.put('data/raw.bin', bytes(0, 255, 1, 128));
      const other = await harness.openOther();
      assert.deepEqual(await other.get('data/raw.bin'), bytes(0, 255, 1, 128));
      assert.equal(await other.getText('notes.md'), 'héllo');
      assert.deepEqual(
        (await other.list()).map((b) => [b.name, b.size]),
        [
          ['data/raw.bin', 4],
          ['notes.md', 6],
        ],
      );
      assert.equal(await other.delete('notes.md'), true);
      assert.equal(await blobs.get('notes.md'), null);
      assert.equal(await blobs.delete('notes.md'), false);
    });

    test('put replaces; empty blobs and big ones keep their exact bytes', async () => {
      const blobs = await harness.open();
      await blobs.put('a', 'first version, longer');
      await blobs.put('a', 'second');
      assert.equal(await blobs.getText('a'), 'second');
      await blobs.put('empty', new Uint8Array(0));
      assert.deepEqual(await blobs.get('empty'), new Uint8Array(0));
      // Larger than one object-store chunk (128 KiB) and than one NATS message.
      const big = new Uint8Array(1_500_000).map((_, i) => (i * 7) % 251);
      await blobs.put('big/blob', big);
      assert.deepEqual(await blobs.get('big/blob'), big);
      assert.deepEqual(
        (await blobs.list()).map((b) => [b.name, b.size]),
        [
          ['a', 6],
          ['big/blob', 1_500_000],
          ['empty', 0],
        ],
      );
    });

    test('missing blobs are null or false, not errors', async () => {
      const blobs = await harness.open();
      assert.equal(await blobs.get('nothing'), null);
      assert.equal(await blobs.getText('no/such/blob'), null);
      assert.equal(await blobs.delete('nothing'), false);
      assert.deepEqual(await blobs.list(), []);
    });

    test('list by prefix: a folder or the start of a name', async () => {
      const blobs = await harness.open();
      for (const name of ['reports/2026/a.md', 'reports/2026/b.md', 'reports/2025.md', 'raw', 'reportsx'])
        await blobs.put(name, name);
      const names = async (prefix: string) => (await blobs.list(prefix)).map((b) => b.name);
      assert.deepEqual(await names('reports/'), ['reports/2025.md', 'reports/2026/a.md', 'reports/2026/b.md']);
      assert.deepEqual(await names('reports/2026/'), ['reports/2026/a.md', 'reports/2026/b.md']);
      assert.deepEqual(await names('reports'), [
        'reports/2025.md',
        'reports/2026/a.md',
        'reports/2026/b.md',
        'reportsx',
      ]);
      assert.deepEqual(await names('r'), [
        'raw',
        'reports/2025.md',
        'reports/2026/a.md',
        'reports/2026/b.md',
        'reportsx',
      ]);
      assert.deepEqual(await names('zzz'), []);
      await refusedName(blobs.list('../'));
    });

    test('names that could escape, hide or mean nothing are refused, saying what a name is', async () => {
      const blobs = await harness.open();
      const bad: unknown[] = [
        '',
        '../escape',
        'a/../../b',
        '/etc/passwd',
        'a//b',
        'a/',
        '.hidden',
        'a/.b',
        '..',
        'back\\slash',
        'sp ace',
        'x'.repeat(513),
        42,
        null,
      ];
      for (const name of bad) {
        await refusedName(blobs.put(name as string, 'x'));
        await refusedName(blobs.get(name as string));
        await refusedName(blobs.delete(name as string));
      }
      assert.deepEqual(await blobs.list(), [], 'nothing was written for a refused name');
      await blobs.put('_ok.name-1/A_b.c', 'fine');
      assert.equal(await blobs.getText('_ok.name-1/A_b.c'), 'fine');
    });

    test('put refuses data that is neither bytes nor a string; getText refuses bytes that are not UTF-8', async () => {
      const blobs = await harness.open();
      await assert.rejects(blobs.put('x', { a: 1 } as unknown as string), (err: unknown) => {
        assert.ok(isMeshError(err, 'invalid_input'));
        assert.match(
          (err as Error).message,
          /takes a Uint8Array or a string, not object; store JSON as JSON\.stringify/,
        );
        return true;
      });
      await blobs.put('binary', bytes(0xff, 0xfe));
      await assert.rejects(blobs.getText('binary'), (err: unknown) => {
        assert.ok(isMeshError(err, 'invalid_input'));
        assert.match(
          (err as Error).message,
          /Blob "binary" holds bytes that are not UTF-8 text; read it with blobs\.get/,
        );
        return true;
      });
    });

    test('concurrent puts of one name leave one whole version; of many names, all of them', async () => {
      const blobs = await harness.open();
      const versions = Array.from({ length: 8 }, (_, i) => String(i).repeat(1000 + i));
      await Promise.all(versions.map((v) => blobs.put('contended', v)));
      assert.ok(versions.includes((await blobs.getText('contended')) as string));
      await Promise.all(Array.from({ length: 20 }, (_, i) => blobs.put(`many/${i}`, `v${i}`)));
      assert.equal((await blobs.list('many/')).length, 20);
      assert.equal(await blobs.getText('many/13'), 'v13');
    });
  });
}
