// The KV storage on a real nats-server (JetStream KV): the storage conformance suite and the KV storage's own tests,
// each test on its own buckets, a second process played by a second connection; then what only a real server
// shows: how fast a registry hit is, an outage (unavailable, naming the server, never the password), and a restart
// that lost the store.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CodeRegistry, taskKey } from '../src/registry/index.js';
import { isStorageError, MemoryResultStore, openBusStorage, type Storage } from '../src/storage/index.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import type { Bus } from '../src/transport/bus.js';
import { connectNats, type NatsConnectSettings } from '../src/transport/nats/index.js';
import { input, provenance, runBusStorageExtras } from './storage/bus-extras.js';
import { busStorageHarness } from './storage/bus-harness.js';
import { owner, runStorageConformance, step } from './storage/conformance.js';

if (!natsServerAvailable()) throw new Error(NATS_MISSING);

const connectTo = (settings: NatsConnectSettings): Promise<Bus> =>
  connectNats({ settings, connectTimeoutMs: 3_000, reconnectWaitMs: 100 });

let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(() => server?.stop());

const harness = busStorageHarness(async () => ({ connect: () => connectTo({ NATS_URL: server.url }) }));
runStorageConformance('KV on nats-server', harness);
runBusStorageExtras('KV on nats-server', harness);

const register = (storage: Storage, code = 'result = 3628800') =>
  new CodeRegistry(storage.registry).register({
    ...input,
    capabilities: [],
    code,
    provenance,
  });

/** Retries `body` until it stops throwing (the client reconnecting), for at most `ms`. */
async function eventually<T>(ms: number, body: () => Promise<T>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await body();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('KV storage on nats-server: speed and outages', () => {
  test('a registry hit is answered from memory, well under a millisecond; a miss reads the bucket', async (t) => {
    const bus = await connectTo({ NATS_URL: server.url });
    const storage = await openBusStorage({
      bus,
      results: new MemoryResultStore(),
      buckets: { registry: 'speed-registry', workflows: 'speed-workflows' },
      onClose: () => bus.close(),
    });
    try {
      const entry = await register(storage);
      const missing = taskKey('calculator', 'nothing registered', 'deps');
      const time = async (calls: number, key: string): Promise<number> => {
        const start = process.hrtime.bigint();
        for (let i = 0; i < calls; i++) await storage.registry.findByTaskKey(key);
        return Number(process.hrtime.bigint() - start) / 1000 / calls;
      };
      await time(200, entry.taskKey);
      const hit = await time(5000, entry.taskKey);
      const miss = await time(200, missing);
      t.diagnostic(
        `findByTaskKey: hit ${hit.toFixed(1)} µs per call (memory), miss ${miss.toFixed(0)} µs (bucket read)`,
      );
      assert.equal((await storage.registry.findByTaskKey(entry.taskKey)).entries[0]?.id, entry.id);
      assert.ok(hit < 250, `a hit took ${hit.toFixed(1)} µs on average`);
      assert.ok(miss > hit, 'a miss goes to the server');
    } finally {
      await storage.close();
    }
  });

  test('an outage is unavailable, naming the server and never the password; hits still answer; work goes on after', async () => {
    const password = 'kv-pass-0123456789';
    const own = await startNatsServer({ config: `authorization { user: "mesh", password: "${password}" }` });
    const bus = await connectTo({ NATS_URL: `nats://mesh:${password}@127.0.0.1:${own.port}` });
    const storage = await openBusStorage({ bus, results: new MemoryResultStore(), onClose: () => bus.close() });
    try {
      const entry = await register(storage);
      const lease = await storage.workflows.claim('wf', owner('run-a'), 60_000);
      await own.kill();
      // Each call waits for the client's request timeout, so they run side by side.
      const calls = [
        storage.registry.get(entry.id),
        storage.workflows.saveStep(lease, step('fetch', 0)),
        storage.registry.findByTaskKey(taskKey('calculator', 'not in memory', 'deps')),
      ];
      for (const call of calls) {
        await assert.rejects(call, (error: unknown) => {
          assert.ok(isStorageError(error, 'unavailable'), String(error));
          assert.match(
            (error as Error).message,
            new RegExp(`127\\.0\\.0\\.1:${own.port}.*nats-server is running`, 's'),
          );
          assert.doesNotMatch((error as Error).message, new RegExp(password));
          return true;
        });
      }
      assert.equal(
        (await new CodeRegistry(storage.registry).lookup(input))?.id,
        entry.id,
        'a registry hit needs no server',
      );
      const reconnected = new Promise<void>((resolve) =>
        bus.onConnection((event) => event.type === 'reconnected' && resolve()),
      );
      await own.restart();
      await reconnected;
      await eventually(10_000, () => storage.workflows.saveStep(lease, step('fetch', 0)));
      assert.deepEqual(
        (await storage.workflows.load('wf'))?.steps.map((s) => s.stepId),
        ['fetch'],
      );
      assert.equal((await storage.registry.update(entry.id, (e) => ({ ...e, successCount: 9 })))?.successCount, 9);
    } finally {
      await storage.close();
      await own.stop();
    }
  });

  test('a bus closed before its storage ends the registry watch quietly', async () => {
    const bus = await connectTo({ NATS_URL: server.url });
    const warnings: string[] = [];
    const storage = await openBusStorage({
      bus,
      results: new MemoryResultStore(),
      buckets: { registry: 'quiet-registry', workflows: 'quiet-workflows' },
      onWarning: (message) => warnings.push(message),
    });
    await register(storage);
    await bus.close();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await storage.close();
    assert.deepEqual(warnings, [], 'no "watch stopped, opening it again" for a bus closed on purpose');
  });

  test('a restart that lost the store: the buckets are made again and the registry copy is emptied', async () => {
    const own = await startNatsServer();
    const bus = await connectTo({ NATS_URL: own.url });
    const storage = await openBusStorage({ bus, results: new MemoryResultStore(), onClose: () => bus.close() });
    try {
      const entry = await register(storage);
      await own.restart({ loseStore: true });
      // The lost entry stops being a hit once the copy is reloaded from the (new, empty) bucket.
      await eventually(10_000, async () => {
        assert.deepEqual((await storage.registry.findByTaskKey(entry.taskKey)).entries, []);
      });
      const again = await eventually(10_000, () => register(storage));
      assert.equal(again.successCount, 1);
      const lease = await storage.workflows.claim('wf', owner('run-a'), 60_000);
      await storage.workflows.saveStep(lease, step('fetch', 0));
      assert.equal((await storage.workflows.load('wf'))?.steps.length, 1);
    } finally {
      await storage.close();
      await own.stop();
    }
  });
});
