// Blobs (`this.blobs`): the one contract suite on both backends, the directory of a mesh in one process and the
// `automesh-blobs` object store on a real nats-server; then what only the directory has to refuse (links planted in
// it, FIFOs, a blob that is also a folder) and what it must not leave behind (temporary files).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DirectoryBlobs } from '../src/infra/directory-blobs.js';
import { ObjectStoreBlobs } from '../src/infra/object-store-blobs.js';
import { isStorageError } from '../src/storage/errors.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import type { Bus } from '../src/transport/bus.js';
import { connectNats } from '../src/transport/nats/index.js';
import { isMeshError } from '../src/transport/oam/mesh-error.js';
import { tempDir } from './helpers/temp.js';
import { blobSuite } from './infra/blob-suite.js';

let folder = '';
blobSuite('local directory', {
  async open() {
    folder = join(tempDir('blobs'), 'logs', 'blobs');
    return new DirectoryBlobs(folder);
  },
  async openOther() {
    return new DirectoryBlobs(folder);
  },
});

describe('on a nats-server', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
  let server: NatsServer;
  const buses: Bus[] = [];
  let bucket = '';
  let count = 0;
  const connect = async (): Promise<Bus> => {
    const bus = await connectNats({ settings: { NATS_URL: server.url }, name: 'automesh-test-blobs' });
    buses.push(bus);
    return bus;
  };
  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    await server?.stop();
  });
  test('the mesh opens the automesh-blobs object store', async () => {
    const blobs = await ObjectStoreBlobs.open(await connect());
    assert.equal(blobs.kind, 'object-store');
    assert.match(blobs.location, /^automesh-blobs on nats:\/\/127\.0\.0\.1:\d+$/);
    await blobs.put('hello', 'world');
    assert.equal(await (await ObjectStoreBlobs.open(await connect())).getText('hello'), 'world');
  });
  // Each test a bucket of its own, each handle its own connection (as another process's would be).
  blobSuite('NATS object store', {
    async open() {
      bucket = `automesh-blobs-test-${++count}`;
      const bus = await connect();
      return new ObjectStoreBlobs(await bus.objectStore(bucket), bus.location);
    },
    async openOther() {
      const bus = await connect();
      return new ObjectStoreBlobs(await bus.objectStore(bucket), bus.location);
    },
  });
});

describe('the directory never goes through a link, nor leaves temporary files', () => {
  const refusedLink = (err: unknown): boolean => {
    assert.ok(isStorageError(err, 'unavailable'), `expected a storage error, got ${String(err)}`);
    assert.match((err as Error).message, /is a symbolic link, and automesh never reads or writes blobs through a link/);
    return true;
  };

  test('a link planted at a blob name is refused for get, put and delete; its target is untouched', async () => {
    const base = tempDir('blobs-link');
    const root = join(base, 'blobs');
    mkdirSync(root);
    const secret = join(base, 'secret.txt');
    writeFileSync(secret, 'do not read or overwrite');
    symlinkSync(secret, join(root, 'planted'));
    const blobs = new DirectoryBlobs(root);
    await assert.rejects(blobs.get('planted'), refusedLink);
    await assert.rejects(blobs.getText('planted'), refusedLink);
    await assert.rejects(blobs.put('planted', 'overwritten'), refusedLink);
    await assert.rejects(blobs.delete('planted'), refusedLink);
    assert.equal(readFileSync(secret, 'utf8'), 'do not read or overwrite');
    assert.deepEqual(await blobs.list(), [], 'a link is not a blob');
  });

  test('a link planted as a folder (or as the blobs root) is never followed', async () => {
    const base = tempDir('blobs-link-dir');
    const outside = join(base, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'inside.txt'), 'outside the store');
    const root = join(base, 'blobs');
    mkdirSync(root);
    symlinkSync(outside, join(root, 'reports'));
    const blobs = new DirectoryBlobs(root);
    await assert.rejects(blobs.put('reports/new.md', 'x'), refusedLink);
    await assert.rejects(blobs.get('reports/inside.txt'), refusedLink);
    await assert.rejects(blobs.delete('reports/inside.txt'), refusedLink);
    assert.deepEqual(readdirSync(outside), ['inside.txt'], 'nothing was written through the link');
    assert.deepEqual(await blobs.list(), []);

    const linkedRoot = join(base, 'linked-root');
    symlinkSync(outside, linkedRoot);
    const viaLink = new DirectoryBlobs(linkedRoot);
    await assert.rejects(viaLink.put('a', 'x'), refusedLink);
    await assert.rejects(viaLink.get('inside.txt'), refusedLink);
    await assert.rejects(viaLink.list(), /is a symbolic link/);
    assert.deepEqual(readdirSync(outside), ['inside.txt']);
  });

  test('a FIFO planted at a blob name is refused at once (the read does not hang)', async () => {
    const root = join(tempDir('blobs-fifo'), 'blobs');
    mkdirSync(root);
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const blobs = new DirectoryBlobs(root);
    await assert.rejects(blobs.get('pipe'), /is not a regular file/);
    await assert.rejects(blobs.put('pipe', 'x'), /is not a regular file/);
  });

  test('a blob cannot also be a folder of blobs', async () => {
    const blobs = new DirectoryBlobs(join(tempDir('blobs-clash'), 'blobs'));
    await blobs.put('a/b', 'x');
    await assert.rejects(blobs.put('a', 'y'), (err: unknown) => {
      assert.ok(isMeshError(err, 'invalid_input'));
      assert.match((err as Error).message, /"a" is a folder of other blobs \(a\/…\)\. Pick another name/);
      return true;
    });
    await blobs.put('c', 'x');
    await assert.rejects(blobs.put('c/d', 'y'), /"c" is a blob, so it cannot also be a folder/);
    assert.equal(await blobs.get('a'), null, 'a folder is no blob');
    assert.equal(await blobs.delete('a'), false);
  });

  test('puts leave no temporary file, and the store is made on the first put', async () => {
    const base = tempDir('blobs-temp');
    const root = join(base, 'logs', 'blobs');
    const blobs = new DirectoryBlobs(root);
    assert.deepEqual(await blobs.list(), [], 'listing a store never written is empty');
    assert.deepEqual(readdirSync(base), [], 'reading made nothing');
    await Promise.all(Array.from({ length: 10 }, (_, i) => blobs.put(`f/${i % 3}`, `v${i}`)));
    assert.deepEqual(readdirSync(join(root, 'f')).sort(), ['0', '1', '2']);
    assert.equal(blobs.location, root);
  });
});
