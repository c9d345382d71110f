// The KV storage shared by real OS processes on one nats-server: 3 nodes updating the same registry entries at once
// lose no count, every node's entries are filed under the shared task key, a node that watched meanwhile sees the
// final counts from its live copy, and of 3 claims of one workflow exactly one wins.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CodeRegistry } from '../src/registry/index.js';
import { MemoryResultStore, openBusStorage } from '../src/storage/index.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import { connectNats } from '../src/transport/nats/index.js';
import {
  COMMON_CODE,
  COMMON_TASK,
  FAILURES_PER_WORKER,
  OWN_PER_WORKER,
  SHARED,
  SHARED_CODE,
  SHARED_WORKFLOW,
} from './fixtures/kv-registry-writer.js';

if (!natsServerAvailable()) throw new Error(NATS_MISSING);

const here = dirname(fileURLToPath(import.meta.url));
const execFileAsync = promisify(execFile);
const provenance = { provider: 'claude', model: 'm', resultId: null };

let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(() => server?.stop());

test('3 processes updating the same entries on one nats-server: counts exact, one claim wins, a watcher sees it all', async () => {
  const buckets = { registry: 'procs-registry', workflows: 'procs-workflows' };
  const bus = await connectNats({ settings: { NATS_URL: server.url }, connectTimeoutMs: 3_000 });
  const storage = await openBusStorage({ bus, results: new MemoryResultStore(), buckets, onClose: () => bus.close() });
  try {
    const registry = new CodeRegistry(storage.registry);
    const shared = await registry.register({ ...SHARED, code: SHARED_CODE, capabilities: ['math'], provenance });
    const workers = 3;
    const count = 60;
    const startAt = String(Date.now() + 3000);
    const outputs = await Promise.all(
      Array.from({ length: workers }, (_, n) =>
        execFileAsync(
          process.execPath,
          [
            '--import',
            'tsx',
            join(here, 'fixtures', 'kv-registry-writer.ts'),
            server.url,
            buckets.registry,
            buckets.workflows,
            String(n),
            String(count),
            startAt,
          ],
          { cwd: join(here, '..'), timeout: 60_000 },
        ),
      ),
    );
    const reports = outputs.map((o) => JSON.parse(o.stdout) as { registered: string[]; claimed: boolean });

    const final = await storage.registry.get(shared.id);
    assert.equal(final?.successCount, 1 + workers * count, 'every success of every process counted');
    assert.equal(final?.failureCount, workers * FAILURES_PER_WORKER, 'every failure counted');
    assert.equal(final?.stage, 'golden');
    const common = await registry.lookup({ ...SHARED, task: COMMON_TASK });
    assert.equal(common?.code, COMMON_CODE);
    assert.equal(common?.successCount, workers, 'the same code registered by 3 processes counts 3 successes');
    const filed = await storage.registry.findByTaskKey(shared.taskKey);
    assert.equal(filed.entries.length, 1 + workers * OWN_PER_WORKER);
    assert.deepEqual(filed.damaged, []);
    assert.equal(new Set(reports.flatMap((r) => r.registered)).size, workers * OWN_PER_WORKER + 1);
    assert.equal(reports.filter((r) => r.claimed).length, 1, 'exactly one process holds the shared workflow');
    assert.ok(await storage.workflows.holder(SHARED_WORKFLOW));

    // This node watched the whole time: its live copy reaches the final counts without reading the bucket.
    let seen = -1;
    for (let i = 0; i < 100 && seen !== 1 + workers * count; i++) {
      seen = (await storage.registry.findByTaskKey(shared.taskKey)).entries.find((e) => e.id === shared.id)
        ?.successCount as number;
      if (seen !== 1 + workers * count) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(seen, 1 + workers * count, "the watching node's copy shows the final count");
  } finally {
    await storage.close();
  }
});
