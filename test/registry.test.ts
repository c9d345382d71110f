// The code registry on the default store (the database): stages, lookup by normalized task, persistence, search,
// removal, damage and the speed of a lookup (it sits on the hot path of every registry hit). What every store must
// do is in test/storage/conformance.ts; several processes at once are in test/storage-processes.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { defineTool } from '../src/index.js';
import {
  CodeRegistry,
  codeDependencies,
  type DamagedRecord,
  dependencyHash,
  functionId,
  MAX_SHAPE_DEPTH,
  normalizeTask,
  type RegisterInput,
  type RegistryEntry,
  shapeOf,
  stageOf,
  taskKey,
} from '../src/registry/index.js';
import {
  InvalidNameError,
  isStorageError,
  openSqliteStorage,
  type RegistryStore,
  type Storage,
} from '../src/storage/index.js';
import { tempDir } from './helpers/temp.js';

const root = tempDir('registry-test');
const opened: Storage[] = [];
after(async () => {
  for (const storage of opened) await storage.close();
});
let dirs = 0;
const freshDir = (): string => join(root, `r${dirs++}`);

const provenance = { provider: 'claude', model: 'claude-sonnet-4-6', resultId: 'res_1' };
/** What the code depends on besides the task (system prompt, context shape, tools, output schema). */
const DEPS = { systemPromptHash: 'sp1', contextShapeHash: 'shape1', toolsHash: 'tools1', outputSchemaHash: 'schema1' };
const calc = (over: Partial<RegisterInput> = {}): RegisterInput => ({
  role: 'calculator',
  task: 'Calculate the factorial of 10',
  ...DEPS,
  capabilities: ['math'],
  code: 'let f = 1; for (let i = 2; i <= 10; i++) f *= i; result = f;',
  provenance,
  ...over,
});

/** A registry on the default store, the database file in `dir`. */
function newRegistry(dir = freshDir()): { registry: CodeRegistry; store: RegistryStore; file: string } {
  const storage = openSqliteStorage(join(dir, 'automesh.db'));
  opened.push(storage);
  return { registry: new CodeRegistry(storage.registry), store: storage.registry, file: storage.location };
}

/** Overwrites an entry's stored text, as a hand edit or a disk fault would. */
function damage(file: string, id: string, text: string): void {
  const db = new Database(file);
  try {
    db.prepare('UPDATE registry_entries SET body = ? WHERE id = ?').run(text, id);
  } finally {
    db.close();
  }
}

test('normalizeTask and taskKey ignore case, spacing and trailing punctuation, and NFC-normalize', () => {
  assert.equal(normalizeTask('  Calculate  the\tfactorial of 10. '), 'calculate the factorial of 10');
  assert.equal(normalizeTask('Why?!'), 'why');
  assert.equal(normalizeTask('Call f("x")'), 'call f("x")', 'closing quotes and brackets are kept');
  assert.equal(normalizeTask('Cafe\u0301'), normalizeTask('Caf\u00e9'));
  assert.equal(
    taskKey('calculator', 'Calculate  the factorial of 10.', 'h'),
    taskKey('calculator', 'calculate the factorial of 10', 'h'),
  );
  assert.notEqual(taskKey('calculator', 'x', 'h'), taskKey('other', 'x', 'h'));
  assert.notEqual(taskKey('calculator', 'x', 'h'), taskKey('calculator', 'x', 'h2'));
  assert.match(taskKey('a', 'b', 'c'), /^[0-9a-f]{64}$/);
});

test('stageOf: failures >= successes is candidate, 5 successes golden, 1 verified', () => {
  assert.equal(stageOf(0, 0), 'candidate');
  assert.equal(stageOf(1, 0), 'verified');
  assert.equal(stageOf(4, 0), 'verified');
  assert.equal(stageOf(5, 0), 'golden');
  assert.equal(stageOf(1, 1), 'candidate');
  assert.equal(stageOf(5, 4), 'golden');
  assert.equal(stageOf(5, 5), 'candidate');
});

test('register creates a verified entry with a content-hash id and full provenance', async () => {
  const { registry, store } = newRegistry();
  const entry = await registry.register(calc());
  assert.equal(entry.stage, 'verified');
  assert.equal(entry.successCount, 1);
  assert.equal(entry.failureCount, 0);
  assert.match(entry.id, /^fn_[0-9a-f]{16}$/);
  assert.equal(
    entry.id,
    functionId(taskKey('calculator', 'Calculate the factorial of 10', dependencyHash(DEPS)), calc().code),
  );
  assert.equal(entry.normalizedTask, 'calculate the factorial of 10');
  assert.deepEqual({ ...entry.provenance, createdAt: 'x' }, { ...provenance, createdAt: 'x' });
  assert.ok(!Number.isNaN(Date.parse(entry.provenance.createdAt)));
  assert.deepEqual(await store.get(entry.id), entry);
});

test('registering existing code counts a success; 5 successes make it golden', async () => {
  const { registry } = newRegistry();
  const first = await registry.register(calc());
  const again = await registry.register(calc({ task: 'calculate the factorial of 10!' }));
  assert.equal(again.id, first.id, 'same normalized task, same code: same entry');
  assert.equal(again.successCount, 2);
  assert.equal(again.task, 'Calculate the factorial of 10', 'the first wording is kept');
  for (let i = 0; i < 2; i++) assert.equal((await registry.recordSuccess(first.id))?.stage, 'verified');
  const golden = await registry.recordSuccess(first.id);
  assert.equal(golden?.successCount, 5);
  assert.equal(golden?.stage, 'golden');
});

test('concurrent writes in one process wait for each other: 25 successes and 10 new codes of one task, none lost', async () => {
  const { registry, store } = newRegistry();
  const first = await registry.register(calc());
  // Every write below takes the entry's or the task index's lock while others hold it, so each one has to wait
  // and retry; a lost update would show as a count below 26 or an index missing an id.
  await Promise.all([
    ...Array.from({ length: 25 }, () => registry.recordSuccess(first.id)),
    ...Array.from({ length: 10 }, (_, i) => registry.register(calc({ code: `result = ${i};` }))),
  ]);
  assert.equal((await store.get(first.id))?.successCount, 26);
  const ids = (await store.findByTaskKey(first.taskKey)).entries.map((e) => e.id).sort();
  assert.equal(ids.length, 11);
  assert.ok(ids.includes(first.id));
});

test('a failure demotes a verified entry to candidate, which lookup no longer returns', async () => {
  const { registry } = newRegistry();
  const entry = await registry.register(calc());
  assert.equal((await registry.lookup(calc()))?.id, entry.id);
  const failed = await registry.recordFailure(entry.id, 'RangeError: boom');
  assert.equal(failed?.stage, 'candidate');
  assert.equal(failed?.failureCount, 1);
  assert.equal(failed?.lastError, 'RangeError: boom');
  assert.ok(failed?.lastUsedAt);
  assert.equal(await registry.lookup(calc()), null);
  // It earns its way back: successes must outnumber failures again.
  assert.equal((await registry.recordSuccess(entry.id))?.stage, 'verified');
  assert.equal((await registry.lookup(calc()))?.id, entry.id);
  // Golden entries drop too, once failures catch up (stage is a function of the counts).
  const { registry: r2 } = newRegistry();
  const g = await r2.register(calc());
  for (let i = 0; i < 4; i++) await r2.recordSuccess(g.id);
  let last: RegistryEntry | null = null;
  for (let i = 0; i < 5; i++) last = await r2.recordFailure(g.id, `failure ${i}`);
  assert.equal(last?.stage, 'candidate');
  assert.equal(await r2.lookup(calc()), null);
  assert.equal(await registry.recordSuccess('fn_0000000000000000'), null, 'unknown id → null');
  assert.equal(await registry.recordFailure('fn_0000000000000000', 'x'), null);
});

test('lookup matches the normalized task and ignores other roles and other system-prompt hashes', async () => {
  const { registry } = newRegistry();
  const entry = await registry.register(calc({ task: 'Calculate  the factorial of 10.' }));
  assert.equal(
    (await registry.lookup({ role: 'calculator', task: 'calculate the factorial of 10', ...DEPS }))?.id,
    entry.id,
  );
  assert.equal(await registry.lookup({ role: 'CALCULATOR', task: 'calculate the factorial of 10', ...DEPS }), null);
  assert.equal(await registry.lookup({ role: 'analyst', task: 'Calculate the factorial of 10', ...DEPS }), null);
  assert.equal(
    await registry.lookup({
      role: 'calculator',
      task: 'Calculate the factorial of 10',
      ...DEPS,
      systemPromptHash: 'sp2',
    }),
    null,
  );
  assert.equal(await registry.lookup({ role: 'calculator', task: 'Calculate the factorial of 11', ...DEPS }), null);
});

test('lookup prefers golden, then more successes, then the newest', async () => {
  const { registry } = newRegistry();
  const a = await registry.register(calc({ code: 'result = 3628800' }));
  const b = await registry.register(calc({ code: 'result = 3628800 // b' }));
  assert.equal((await registry.lookup(calc()))?.id, b.id, 'equal stage and successes: the newest');
  await registry.recordSuccess(a.id);
  assert.equal((await registry.lookup(calc()))?.id, a.id, 'more successes');
  for (let i = 0; i < 5; i++) await registry.recordSuccess(b.id);
  for (let i = 0; i < 10; i++) await registry.recordSuccess(a.id);
  for (let i = 0; i < 9; i++) await registry.recordFailure(a.id, 'flaky');
  const [ea, eb] = [await registry.get(a.id), await registry.get(b.id)];
  assert.equal(ea?.stage, 'golden');
  assert.equal(eb?.stage, 'golden');
  assert.equal((await registry.lookup(calc()))?.id, a.id, 'both golden: more successes (12 vs 6)');
  const c = await registry.register(calc({ code: 'result = 3628800 // c' }));
  for (let i = 0; i < 20; i++) await registry.recordSuccess(c.id);
  for (let i = 0; i < 21; i++) await registry.recordFailure(c.id, 'broken');
  assert.equal((await registry.get(c.id))?.stage, 'candidate');
  assert.equal((await registry.lookup(calc()))?.id, a.id, 'a candidate with many successes is still not reused');
});

test('entries survive a restart: a new registry instance on the same directory finds them', async () => {
  const dir = freshDir();
  const entry = await newRegistry(dir).registry.register(calc());
  await newRegistry(dir).registry.recordSuccess(entry.id);
  const reopened = newRegistry(dir).registry;
  const found = await reopened.lookup({ role: 'calculator', task: 'CALCULATE the factorial of 10', ...DEPS });
  assert.equal(found?.id, entry.id);
  assert.equal(found?.successCount, 2);
  assert.equal(found?.code, calc().code);
});

test('list filters by role and stage; search ranks by task, role and code words; byCapability', async () => {
  const { registry } = newRegistry();
  const fact = await registry.register(calc());
  const fib = await registry.register(
    calc({
      task: 'Compute the 20th Fibonacci number',
      code: 'function fibonacci(n) { return n < 2 ? n : fibonacci(n - 1) + fibonacci(n - 2) } result = fibonacci(20)',
    }),
  );
  const sales = await registry.register(
    calc({
      role: 'analyst',
      task: 'Total revenue by region',
      capabilities: ['data', 'SQL'],
      code: "const rows = await database.query('select region, sum(revenue) from sales group by region'); result = rows;",
    }),
  );
  await registry.recordFailure(fib.id, 'wrong');
  for (let i = 0; i < 4; i++) await registry.recordSuccess(fact.id);

  assert.deepEqual(
    (await registry.list({ role: 'analyst' })).map((e) => e.id),
    [sales.id],
  );
  assert.deepEqual(
    (await registry.list({ stage: 'golden' })).map((e) => e.id),
    [fact.id],
  );
  assert.deepEqual(
    (await registry.list({ stage: 'candidate' })).map((e) => e.id),
    [fib.id],
  );
  assert.equal((await registry.list()).length, 3);

  const byFactorial = await registry.search('factorial');
  assert.deepEqual(
    byFactorial.map((h) => h.entry.id),
    [fact.id],
  );
  const byRevenue = await registry.search('revenue region');
  assert.equal(byRevenue[0]?.entry.id, sales.id);
  assert.ok(byRevenue[0]!.score >= 6, 'task words score high');
  assert.equal((await registry.search('database'))[0]?.entry.id, sales.id, 'found through the code');
  assert.equal((await registry.search('analyst'))[0]?.entry.id, sales.id, 'found through the role');
  const math = await registry.search('calculate fibonacci');
  assert.equal(math[0]?.entry.id, fib.id, 'fibonacci in task and code beats calculate alone');
  assert.ok(math.some((h) => h.entry.id === fact.id));
  assert.deepEqual(await registry.search('nothing-like-this'), []);
  assert.equal((await registry.search('the', { limit: 1 })).length, 1);

  assert.deepEqual(
    (await registry.byCapability('sql')).map((e) => e.id),
    [sales.id],
  );
  assert.deepEqual(new Set((await registry.byCapability('math')).map((e) => e.id)), new Set([fact.id, fib.id]));
  assert.deepEqual(await registry.byCapability('poetry'), []);
});

test('remove deletes the entry and its index reference', async () => {
  const { registry, store } = newRegistry();
  const entry = await registry.register(calc());
  const other = await registry.register(calc({ code: 'result = 3628800' }));
  assert.equal(await registry.remove(entry.id), true);
  assert.equal(await registry.get(entry.id), null);
  assert.deepEqual(
    (await store.findByTaskKey(entry.taskKey)).entries.map((e) => e.id),
    [other.id],
  );
  assert.equal(await registry.remove(entry.id), false);
  assert.equal(await registry.remove(other.id), true);
  assert.deepEqual(await store.findByTaskKey(entry.taskKey), { entries: [], damaged: [] });
  assert.equal(await registry.lookup(calc()), null);
});

test('registry: unsafe ids are refused; a damaged entry affects only itself', async () => {
  const { registry, store, file } = newRegistry();
  await assert.rejects(store.get('../../etc/passwd'), InvalidNameError);
  await assert.rejects(registry.recordSuccess('fn_x/../../y'), InvalidNameError);
  await assert.rejects(store.findByTaskKey('../x'), InvalidNameError);
  const entry = await registry.register(calc());

  // A damaged entry affects only itself: the lookup reports it and goes on with the other entries of the task.
  const sibling = await registry.register(calc({ code: 'result = 3628800;' }));
  damage(file, entry.id, '{"id": "fn_');
  const seen: DamagedRecord[] = [];
  assert.equal((await registry.lookup(calc(), { onDamaged: (record) => seen.push(record) }))?.id, sibling.id);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.kind, 'entry');
  assert.equal(seen[0]?.id, entry.id);
  assert.equal(seen[0]?.path, file);
  assert.match(seen[0]?.reason ?? '', /is damaged \(not valid JSON.*automesh registry rm/s);
  damage(file, entry.id, JSON.stringify({ ...entry, successCount: 'many' }));
  await assert.rejects(
    registry.get(entry.id),
    (error: unknown) => isStorageError(error, 'damaged') && /wrong shape: successCount/.test((error as Error).message),
    'reading that very record reports it',
  );
  const listed = await registry.list();
  assert.deepEqual(
    listed.map((e) => e.id),
    [sibling.id],
    'a listing goes on without it',
  );
  assert.deepEqual(
    listed.damaged.map((d) => [d.kind, d.id]),
    [['entry', entry.id]],
    '...and flags it',
  );
  assert.match(listed.damaged[0]?.reason ?? '', /wrong shape: successCount/);
  assert.equal((await registry.list({ role: 'nobody' })).damaged.length, 1, 'whatever the filter');
  assert.equal(await registry.remove(entry.id), true, 'a damaged entry can be removed');
  assert.deepEqual((await registry.list()).damaged, []);
});

test('an entry written before the key covered context shape, tools and schema is listed but never reused', async () => {
  const { registry, store } = newRegistry();
  const fresh = await registry.register(calc());
  // The entry as an older automesh wrote it: key of role, task and system-prompt hash only, no other hashes.
  const oldKey = taskKey('calculator', 'Calculate the factorial of 10', 'sp1');
  const { contextShapeHash: _s, toolsHash: _t, outputSchemaHash: _o, ...rest } = fresh;
  const old = { ...rest, id: functionId(oldKey, 'result = 1;'), taskKey: oldKey, code: 'result = 1;' };
  await store.put(old);
  assert.deepEqual((await registry.list()).map((e) => e.id).sort(), [fresh.id, old.id].sort());
  assert.equal((await registry.get(old.id))?.code, 'result = 1;');
  assert.equal((await registry.lookup(calc()))?.id, fresh.id);
  // Even stored under a current key (hand-edited), it does not match: it lacks the dependency hashes.
  await store.put({ ...old, taskKey: fresh.taskKey });
  await registry.remove(fresh.id);
  assert.equal(await registry.lookup(calc()), null);
});

test('lookup on a registry of 500 entries takes well under 1 ms (median)', async () => {
  const { registry } = newRegistry();
  const tasks = Array.from({ length: 500 }, (_, i) => `Compute task number ${i} of the benchmark`);
  // Several entries share each of the first 50 task keys, like code regenerated after failures.
  for (let i = 0; i < 500; i++) {
    const task = tasks[i < 100 ? i % 50 : i]!;
    await registry.register(calc({ task, code: `result = ${i} /* ${'x'.repeat(400)} */` }));
  }
  assert.equal((await registry.list()).length, 500);

  const time = async (task: string): Promise<number> => {
    const start = process.hrtime.bigint();
    await registry.lookup({ role: 'calculator', task, ...DEPS });
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;
  for (let i = 0; i < 200; i++) await time(tasks[i % 500]!); // warm-up (JIT)
  const hits: number[] = [];
  const misses: number[] = [];
  for (let i = 0; i < 2000; i++) {
    hits.push(await time(tasks[(i * 7) % 500]!));
    misses.push(await time(`Never registered ${i}`));
  }
  assert.ok(await registry.lookup({ role: 'calculator', task: tasks[3]!, ...DEPS }));
  console.log(
    `registry lookup, 500 entries: hit median ${(median(hits) * 1000).toFixed(0)} µs (p95 `
      + `${(p95(hits) * 1000).toFixed(0)} µs), miss median ${(median(misses) * 1000).toFixed(0)} µs`,
  );
  assert.ok(median(hits) < 1, `median lookup ${median(hits)} ms`);
  assert.ok(median(misses) < 1, `median miss ${median(misses)} ms`);
});

describe('the task key covers what code depends on, never values', () => {
  const key = (
    over: Partial<Parameters<typeof codeDependencies>[0]> & { role?: string; task?: string } = {},
  ): string => {
    const { role = 'calculator', task = 'Sum the numbers', ...deps } = over;
    return taskKey(
      role,
      task,
      dependencyHash(
        codeDependencies({
          systemPrompt: 'You are a math expert.',
          context: { nums: [1, 2, 3] },
          tools: [],
          ...deps,
        }),
      ),
    );
  };
  const base = key();
  const tool = (name: string, input?: z.ZodType<unknown[]>, output?: z.ZodType) =>
    defineTool({
      name,
      description: 'A tool',
      run: () => null,
      ...(input ? { input } : {}),
      ...(output ? { output } : {}),
    });

  test('role and normalized task', () => {
    assert.notEqual(key({ role: 'analyst' }), base);
    assert.notEqual(key({ task: 'Sum the other numbers' }), base);
    assert.equal(key({ task: '  sum the NUMBERS. ' }), base);
  });

  test('system prompt', () => {
    assert.notEqual(key({ systemPrompt: 'You are a careful math expert.' }), base);
  });

  test('context shape: keys and value types, recursively; not values, lengths or key order', () => {
    assert.equal(key({ context: { nums: [10, 20, 30, 40] } }), base, 'other numbers, other length');
    assert.notEqual(key({ context: { values: [10, 20, 30] } }), base, 'another key (the issue: nums vs values)');
    assert.notEqual(key({ context: { nums: ['1', '2'] } }), base, 'strings instead of numbers');
    assert.notEqual(key({ context: { nums: [] } }), base, 'an empty array says nothing of its items');
    assert.notEqual(key({ context: {} }), base);
    assert.notEqual(key({ context: { nums: [1, 2, 3], unit: 'kg' } }), base, 'an extra key');
    const nested = (value: unknown) => key({ context: { order: { id: 'a1', lines: [{ sku: 'x', qty: value }] } } });
    assert.equal(nested(1), nested(99));
    assert.notEqual(nested(1), nested('1'), 'a type change deep inside');
    assert.notEqual(nested(1), nested(null));
    assert.equal(key({ context: { a: 1, b: 'x' } }), key({ context: { b: 'y', a: 2 } }), 'key order');
    assert.equal(
      key({ context: { at: new Date(0) } }),
      key({ context: { at: '2026-01-01T00:00:00.000Z' } }),
      'a Date reaches the code as its ISO string',
    );
    // Bounded: nesting past MAX_SHAPE_DEPTH counts only as "object".
    const deep = (leaf: unknown) => {
      let value: unknown = leaf;
      for (let i = 0; i < MAX_SHAPE_DEPTH + 2; i++) value = { down: value };
      return key({ context: { deep: value } });
    };
    assert.equal(deep(1), deep('one'));
    assert.equal(
      shapeOf({ n: 1, s: 'x', b: true, z: null, list: [1, 'a', 2] }),
      '{"b":boolean,"list":[number|string],"n":number,"s":string,"z":null}',
    );
  });

  test('context shape of workflow dependencies: the output counts, run-to-run fields of the envelope do not', () => {
    const envelope = (over: Record<string, unknown>) => ({
      status: 'success',
      output: [2, 3, 5],
      code: 'result = [2, 3, 5]',
      repairs: 0,
      executionTime: 1.25,
      tokens: { input: 300, output: 20, total: 320 },
      costUsd: 0.0012,
      resultId: 'r1',
      functionId: 'fn_1',
      error: null,
      errorCategory: null,
      cached: false,
      logs: [],
      agentId: 'calculator-1',
      role: 'calculator',
      provider: 'claude',
      model: 'claude-sonnet-4-6',
      stepId: 'primes',
      attempts: [
        {
          code: 'x',
          error: null,
          errorCategory: null,
          provider: 'claude',
          model: 'm',
          tokens: {},
          durationMs: 3,
          reply: 'r',
          replyTruncated: false,
        },
      ],
      ...over,
    });
    const step = (dep: Record<string, unknown>) =>
      key({
        context: { primes: dep, previousStepResults: { primes: dep }, workflowId: 'w1', stepId: 'sum' },
      });
    const generated = step(envelope({}));
    const fromRegistry = step(
      envelope({
        output: [7, 11],
        provider: null,
        model: null,
        costUsd: 0,
        cached: true,
        logs: ['note'],
        recovered: true,
        attempts: [
          {
            code: 'x',
            error: null,
            errorCategory: null,
            provider: null,
            model: null,
            tokens: {},
            durationMs: 1,
            reply: null,
            replyTruncated: false,
          },
        ],
      }),
    );
    assert.equal(fromRegistry, generated);
    assert.notEqual(step(envelope({ output: { primes: [2, 3, 5] } })), generated, 'an output of another shape');
  });

  test('tools: names and signatures, in any order', () => {
    const query = tool('database.query', z.tuple([z.string()]));
    const rates = tool('fx.rate', z.tuple([z.string(), z.string()]), z.number());
    const withTools = key({ tools: [query, rates] });
    assert.notEqual(withTools, base);
    assert.equal(key({ tools: [rates, query] }), withTools, 'order does not matter');
    assert.notEqual(key({ tools: [query] }), withTools, 'a tool less');
    assert.notEqual(key({ tools: [tool('database.run', z.tuple([z.string()])), rates] }), withTools, 'a renamed tool');
    assert.notEqual(
      key({ tools: [tool('database.query', z.tuple([z.number()])), rates] }),
      withTools,
      'another argument type',
    );
    assert.notEqual(
      key({ tools: [query, tool('fx.rate', z.tuple([z.string(), z.string()]), z.string())] }),
      withTools,
      'another result type',
    );
    assert.notEqual(key({ tools: [tool('database.query'), rates] }), withTools, 'no schema at all');
  });

  test("peers the code may call: their names and contracts' schemas, in any order; none is the hash of the tools alone", () => {
    const words = {
      role: 'nlp.words',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
      outputSchema: { type: 'object', properties: { count: { type: 'number' } } },
    };
    const analyst = { role: 'analyst', inputSchema: {}, outputSchema: null };
    const withPeers = key({ peers: [words, analyst] });
    assert.equal(key({ peers: [] }), base, 'no peers: the key code registered before peers existed had');
    assert.notEqual(withPeers, base);
    assert.equal(key({ peers: [analyst, words] }), withPeers, 'order does not matter');
    assert.notEqual(key({ peers: [words] }), withPeers, 'a peer less');
    assert.notEqual(
      key({
        peers: [{ ...words, inputSchema: { type: 'object', properties: { body: { type: 'string' } } } }, analyst],
      }),
      withPeers,
      'another input schema',
    );
    assert.notEqual(key({ peers: [{ ...words, outputSchema: null }, analyst] }), withPeers, 'another output schema');
    assert.notEqual(key({ peers: [{ ...words, role: 'nlp.count' }, analyst] }), withPeers, 'a renamed peer');
  });

  test('output schema', () => {
    const total = key({ outputSchema: z.object({ total: z.number() }) });
    assert.notEqual(total, base, 'a schema or none');
    assert.equal(key({ outputSchema: z.object({ total: z.number() }) }), total, 'an equal schema');
    assert.notEqual(key({ outputSchema: z.object({ total: z.string() }) }), total);
    assert.notEqual(key({ outputSchema: z.object({ total: z.number(), unit: z.string() }) }), total);
  });
});
