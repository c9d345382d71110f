/**
 * What the KV storage must do beyond the conformance suite, on any bus: ids with dots never share keys, the
 * registry's live copy (read-your-writes, lag covered by a direct read), records larger than one message, a damaged
 * lease, removals that leave no key behind.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CodeRegistry, functionId, taskKey } from '../../src/registry/index.js';
import type { Storage } from '../../src/storage/index.js';
import { fromKeyToken, keyToken, stepIndexKey, stepKey } from '../../src/storage/nats/keys.js';
import type { Bus, KvBucket, KvWatch } from '../../src/transport/bus.js';
import type { BusStorageHarness } from './bus-harness.js';
import { entry, header, owner, rejectsWith, step } from './conformance.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface LaggingBus {
  bus: Bus;
  /** Lets the watches deliver (everything held back first). */
  release(): void;
  /** How many times a bucket's keys were listed (a direct read of the registry's index lists them). */
  listings(): number;
}

/** A bus whose KV watches deliver nothing until `release()` (a watch lagging behind), counting `keys()` calls. */
export function laggingBus(bus: Bus): LaggingBus {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let listings = 0;
  const wrapBucket = (bucket: KvBucket): KvBucket =>
    new Proxy(bucket, {
      get(target, property) {
        if (property === 'keys')
          return (prefix?: string) => {
            listings++;
            return target.keys(prefix);
          };
        if (property === 'watch')
          return async (...args: Parameters<KvBucket['watch']>): Promise<KvWatch> => {
            const watch = await target.watch(...args);
            async function* held() {
              await released;
              yield* watch;
            }
            const iterator = held();
            return { [Symbol.asyncIterator]: () => iterator, stop: () => watch.stop() };
          };
        const value = Reflect.get(target, property) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const wrapped = new Proxy(bus, {
    get(target, property) {
      if (property === 'kv') return async (...args: Parameters<Bus['kv']>) => wrapBucket(await target.kv(...args));
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { bus: wrapped, release, listings: () => listings };
}

/** A lookup's input: the task of the conformance suite's `entry()`. */
export const input = {
  role: 'calculator',
  task: 'Calculate the factorial of 10',
  systemPromptHash: 'sp1',
  contextShapeHash: 's',
  toolsHash: 't',
  outputSchemaHash: 'o',
};
export const provenance = { provider: 'claude', model: 'm', resultId: null };

export function runBusStorageExtras(backend: string, harness: BusStorageHarness): void {
  const withStorage = (fn: (storage: Storage) => Promise<void>) => async () => {
    const storage = await harness.open();
    try {
      await fn(storage);
    } finally {
      await storage.close();
    }
  };
  const keysOf = async (storage: Storage, which: 'registry' | 'workflows', prefix = ''): Promise<string[]> => {
    const { bus, names } = harness.busOf(storage);
    return (await (await bus.kv(names[which])).keys(prefix)).sort();
  };

  describe(`${backend}: KV keys, live registry copy, large records`, () => {
    test('a key token is one-to-one and never holds a dot', () => {
      for (const value of ['a.b', 'a', 'b.c', 'a=2Eb', 'x_y-z.1', 'é.ü', '=', '.']) {
        const token = keyToken(value);
        assert.match(token, /^[-_=A-Za-z0-9]+$/);
        assert.equal(fromKeyToken(token), value);
      }
      assert.notEqual(keyToken('a.b'), keyToken('a=2Eb'));
      assert.notEqual(stepKey('a.b', 'c'), stepKey('a', 'b.c'));
      assert.equal(fromKeyToken('a.b'), null, 'a token with a dot is not one of ours');
    });

    test(
      'workflow, step and entry ids with dots never reach each other: wf "a.b" step "c" and wf "a" step "b.c"',
      withStorage(async ({ workflows, registry }) => {
        const ab = await workflows.claim('a.b', owner('run-1'), 60_000);
        const a = await workflows.claim('a', owner('run-1'), 60_000);
        await workflows.saveHeader(ab, header('a.b'));
        await workflows.saveStep(ab, step('c', 0));
        await workflows.saveHeader(a, header('a'));
        await workflows.saveStep(a, step('b.c', 0));
        assert.deepEqual(
          (await workflows.load('a.b'))?.steps.map((s) => s.stepId),
          ['c'],
        );
        assert.deepEqual(
          (await workflows.load('a'))?.steps.map((s) => s.stepId),
          ['b.c'],
        );
        assert.equal(await workflows.remove('a'), true);
        assert.equal(await workflows.load('a'), null);
        assert.deepEqual(
          (await workflows.load('a.b'))?.steps.map((s) => s.stepId),
          ['c'],
          'removing "a" left "a.b" alone',
        );
        assert.equal((await workflows.holder('a.b'))?.generation, 1);

        const dotted = entry({ id: 'fn.x.y' });
        const plain = entry({ id: 'fn', code: 'result = 1' });
        await registry.put(dotted);
        await registry.put(plain);
        assert.equal((await registry.get('fn.x.y'))?.id, 'fn.x.y');
        assert.equal(await registry.remove('fn'), true);
        assert.deepEqual(
          (await registry.findByTaskKey(dotted.taskKey)).entries.map((e) => e.id),
          ['fn.x.y'],
        );
      }),
    );

    test(
      'the writer reads its registry write back from memory at once; a node whose watch lags finds it by a direct read',
      withStorage(async (storage) => {
        let a!: LaggingBus;
        let b!: LaggingBus;
        const nodeA = await harness.reopenWith(storage, (bus) => {
          a = laggingBus(bus);
          return a.bus;
        });
        const nodeB = await harness.reopenWith(storage, (bus) => {
          b = laggingBus(bus);
          return b.bus;
        });
        try {
          const verified = await new CodeRegistry(nodeA.registry).register({
            ...input,
            capabilities: [],
            code: 'result = 3628800',
            provenance,
          });
          const listedBefore = a.listings();
          assert.equal((await new CodeRegistry(nodeA.registry).lookup(input))?.id, verified.id);
          assert.equal(a.listings(), listedBefore, 'the writer answered from its own copy, with no read of the bucket');

          // Node B's watch has delivered nothing: its copy is empty, and the lookup reads the bucket.
          const found = await new CodeRegistry(nodeB.registry).lookup(input);
          assert.equal(found?.id, verified.id, 'a function just verified on A is found on B despite the lag');
          assert.ok(b.listings() > 0, 'B read the bucket');

          // A demoted entry in B's copy is not trusted either: A's verified update is read directly.
          const other = await new CodeRegistry(nodeB.registry).register({
            ...input,
            task: 'Another task',
            capabilities: [],
            code: 'result = 2',
            provenance,
          });
          b.release();
          await new CodeRegistry(nodeB.registry).recordFailure(other.id, 'boom');
          // Wait until B's copy shows the candidate (its watch now runs).
          const otherKey = other.taskKey;
          for (let i = 0; i < 100; i++) {
            const copy = await nodeB.registry.findByTaskKey(otherKey);
            if (copy.entries[0]?.stage === 'candidate') break;
            await sleep(10);
          }
          await nodeA.registry.update(other.id, (e) => ({ ...e, successCount: 5, stage: 'golden' }));
          const listed = b.listings();
          const fresh = await nodeB.registry.findByTaskKey(otherKey);
          assert.equal(fresh.entries[0]?.stage, 'golden');
          // Once the watch delivered everything, B answers from memory.
          let fromMemory = false;
          for (let i = 0; i < 200 && !fromMemory; i++) {
            const before = b.listings();
            const hit = await nodeB.registry.findByTaskKey(otherKey);
            fromMemory = b.listings() === before && hit.entries[0]?.stage === 'golden';
            if (!fromMemory) await sleep(10);
          }
          assert.ok(
            fromMemory,
            `B's copy caught up with A's write (B listed ${b.listings() - listed} times meanwhile)`,
          );
          a.release();
        } finally {
          await nodeA.close();
          await nodeB.close();
        }
      }),
    );

    test(
      'an entry larger than one message is stored in parts, read on another node, and replaced without leftovers',
      withStorage(async (storage) => {
        const { maxPayload } = harness.busOf(storage).bus;
        const key = taskKey('calculator', 'Big code', 'deps');
        const code = `result = "${'x'.repeat(Math.ceil(maxPayload * 1.5))}"`;
        const big = entry({ task: 'Big code', taskKey: key, code, id: functionId(key, code) });
        await storage.registry.put(big);
        const parts = await keysOf(storage, 'registry', `entry.${keyToken(big.id)}.part.`);
        assert.equal(parts.length, 2, 'two parts');
        const other = await harness.reopen(storage);
        try {
          assert.deepEqual(await other.registry.get(big.id), big);
          assert.equal((await other.registry.findByTaskKey(key)).entries[0]?.code, code);
          const bigger = await other.registry.update(big.id, (e) => ({ ...e, code: `${e.code};`, successCount: 2 }));
          assert.equal(bigger?.successCount, 2);
          assert.equal((await storage.registry.get(big.id))?.code, `${code};`);
          const after = await keysOf(storage, 'registry', `entry.${keyToken(big.id)}.part.`);
          assert.equal(after.length, 2, 'the old version’s parts were deleted');
          assert.notDeepEqual(after, parts);
          await other.registry.update(big.id, (e) => ({ ...e, code: 'result = 1' }));
          assert.deepEqual(await keysOf(storage, 'registry', `entry.${keyToken(big.id)}.part.`), []);
          assert.equal((await storage.registry.get(big.id))?.code, 'result = 1');
          // A large step, written twice: one version's parts remain.
          const lease = await storage.workflows.claim('wf', owner('run-a'), 60_000);
          const envelope = { status: 'success', output: 'y'.repeat(Math.ceil(maxPayload * 1.2)) };
          await storage.workflows.saveStep(lease, step('big', 0, { envelope }));
          await storage.workflows.saveStep(lease, step('big', 0, { envelope: { ...envelope, again: true } }));
          assert.equal((await keysOf(storage, 'workflows', `${stepKey('wf', 'big')}.part.`)).length, 2);
          assert.equal((await other.workflows.load('wf'))?.steps[0]?.envelope?.again, true);
        } finally {
          await other.close();
        }
      }),
    );

    test(
      'a large record rewritten while another node reads it: every read is one whole version, never damage',
      withStorage(async (storage) => {
        const size = Math.ceil(harness.busOf(storage).bus.maxPayload * 1.3);
        const big = (n: number) =>
          step('big', 0, { envelope: { status: 'success', output: `${n % 10}`.repeat(size), n } });
        const lease = await storage.workflows.claim('wf', owner('run-a'), 60_000);
        await storage.workflows.saveStep(lease, big(0));
        const other = await harness.reopen(storage);
        try {
          let done = false;
          const writes = (async () => {
            for (let n = 1; n <= 12; n++) await storage.workflows.saveStep(lease, big(n));
          })().finally(() => {
            done = true;
          });
          let reads = 0;
          try {
            while (!done || reads < 3) {
              const loaded = await other.workflows.load('wf');
              assert.deepEqual(loaded?.damaged, []);
              const envelope = loaded?.steps[0]?.envelope;
              assert.equal(envelope?.output, `${(envelope?.n as number) % 10}`.repeat(size), 'a whole version');
              reads++;
            }
          } finally {
            await writes;
          }
          assert.equal((await other.workflows.load('wf'))?.steps[0]?.envelope?.n, 12);
        } finally {
          await other.close();
        }
      }),
    );

    test(
      'a damaged part is reported as damage of its record only',
      withStorage(async (storage) => {
        const { bus, names } = harness.busOf(storage);
        const lease = await storage.workflows.claim('wf', owner('run-a'), 60_000);
        await storage.workflows.saveStep(lease, step('small', 0));
        const envelope = { status: 'success', output: 'y'.repeat(Math.ceil(bus.maxPayload * 1.2)) };
        await storage.workflows.saveStep(lease, step('big', 1, { envelope }));
        const [first] = await keysOf(storage, 'workflows', `${stepKey('wf', 'big')}.part.`);
        await (await bus.kv(names.workflows)).put(first as string, new TextEncoder().encode('garbage'));
        const loaded = await storage.workflows.load('wf');
        assert.deepEqual(
          loaded?.steps.map((s) => s.stepId),
          ['small'],
        );
        assert.deepEqual(
          loaded?.damaged.map((d) => [d.kind, d.id]),
          [['step', 'big']],
        );
        assert.match(loaded?.damaged[0]?.reason ?? '', /Step big of workflow wf in .* is damaged \(its parts/);
      }),
    );

    test(
      'a damaged step list: load finds the steps by listing keys, and the next save writes the list again',
      withStorage(async (storage) => {
        const { workflows } = storage;
        const { bus, names } = harness.busOf(storage);
        const lease = await workflows.claim('wf', owner('run-a'), 60_000);
        await workflows.saveStep(lease, step('fetch', 0));
        await workflows.saveStep(lease, step('sum', 1));
        const bucket = await bus.kv(names.workflows);
        await bucket.put(stepIndexKey('wf'), new TextEncoder().encode('{"not": "a list"}'));
        assert.deepEqual(
          (await workflows.load('wf'))?.steps.map((s) => s.stepId),
          ['fetch', 'sum'],
        );
        await workflows.saveStep(lease, step('more', 2));
        assert.deepEqual(JSON.parse(new TextDecoder().decode((await bucket.get(stepIndexKey('wf')))?.value)), [
          'fetch',
          'sum',
          'more',
        ]);
      }),
    );

    test(
      'a damaged lease is taken over with a generation above every earlier one; its holder is fenced off',
      withStorage(async (storage) => {
        const { workflows } = storage;
        const { bus, names } = harness.busOf(storage);
        // A lease past the first half of its term: the holder's writes read it again (see the next test).
        const first = await workflows.renew(await workflows.claim('wf', owner('run-a'), 60_000), 300);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await (await bus.kv(names.workflows)).put(`lease.${keyToken('wf')}`, new TextEncoder().encode('{"lease'));
        await rejectsWith(workflows.holder('wf'), 'damaged', /The lease of workflow wf in .* is damaged/);
        await rejectsWith(workflows.saveStep(first, step('fetch', 0)), 'damaged');
        const taken = await workflows.claim('wf', owner('run-b'), 60_000);
        assert.ok(taken.generation > first.generation, `generation ${taken.generation} > ${first.generation}`);
        await rejectsWith(workflows.saveStep(first, step('fetch', 0)), 'conflict');
        await workflows.saveStep(taken, step('fetch', 0));
      }),
    );

    test(
      "in the first half of its term a holder's writes trust the lease it wrote, without reading it; then they read it",
      withStorage(async (storage) => {
        const { workflows } = storage;
        const { bus, names } = harness.busOf(storage);
        const lease = await workflows.claim('wf', owner('run-a'), 400);
        // Damage no store would write: only a read of the lease can notice it.
        await (await bus.kv(names.workflows)).put(`lease.${keyToken('wf')}`, new TextEncoder().encode('{"lease'));
        await workflows.saveStep(lease, step('fetch', 0));
        await new Promise((resolve) => setTimeout(resolve, 250));
        await rejectsWith(workflows.saveStep(lease, step('fetch', 1)), 'damaged');
      }),
    );

    test(
      'removing entries (moved between task keys, damaged) leaves no key behind',
      withStorage(async (storage) => {
        const { registry } = storage;
        const a = entry();
        const moved = entry({ code: 'result = 2' });
        await registry.put(a);
        await registry.put(moved);
        await registry.update(moved.id, (e) => ({ ...e, taskKey: taskKey('calculator', 'elsewhere', 'deps') }));
        const { bus, names } = harness.busOf(storage);
        await (await bus.kv(names.registry)).put(`entry.${keyToken(a.id)}`, new TextEncoder().encode('{'));
        assert.equal(await registry.remove(a.id), true);
        assert.equal(await registry.remove(moved.id), true);
        assert.deepEqual(await keysOf(storage, 'registry'), []);
      }),
    );
  });
}
