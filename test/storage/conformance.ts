/**
 * The storage conformance suite: what every backend (memory, the embedded database, …) must do, run by each
 * backend's test file with a harness that opens it. Results, the code registry and per-step workflow state with
 * its owner lease; concurrency, damage and invalid names. A backend passes all of it or it is not a backend.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CodeRegistry, functionId, normalizeTask, type RegistryEntry, taskKey } from '../../src/registry/index.js';
import {
  isStorageError,
  type LeaseOwner,
  type StepRecord,
  type Storage,
  type StorageErrorCode,
  type StoredResult,
  type WorkflowHeader,
  WorkflowLockedError,
} from '../../src/storage/index.js';

/** How the suite reaches a backend. */
export interface StorageHarness {
  /** A new, empty storage. */
  open(): Promise<Storage>;
  /** Another storage on the same data as `storage`, as a second process or a restart would open it. */
  reopen(storage: Storage): Promise<Storage>;
  /** Overwrites the stored text of one existing record, as a disk fault or a hand edit would. */
  damage: {
    result(storage: Storage, role: string, resultId: string, text: string): Promise<void>;
    entry(storage: Storage, id: string, text: string): Promise<void>;
    header(storage: Storage, workflowId: string, text: string): Promise<void>;
    step(storage: Storage, workflowId: string, stepId: string, text: string): Promise<void>;
  };
}

export const result = (over: Partial<StoredResult> = {}): StoredResult => ({
  resultId: 'res_1',
  role: 'calculator',
  task: 'Calculate 2 + 2',
  createdAt: '2025-01-01T00:00:00.000Z',
  promptHashes: { system: 'abc' },
  envelope: { status: 'success', output: 4, code: 'result = 2 + 2', repairs: 0, error: null },
  ...over,
});

export function entry(over: Partial<RegistryEntry> = {}): RegistryEntry {
  const task = over.task ?? 'Calculate the factorial of 10';
  const key = over.taskKey ?? taskKey(over.role ?? 'calculator', task, 'deps');
  const code = over.code ?? 'let f = 1; for (let i = 2; i <= 10; i++) f *= i; result = f;';
  return {
    id: functionId(key, code),
    role: 'calculator',
    task,
    normalizedTask: normalizeTask(task),
    taskKey: key,
    systemPromptHash: 'sp1',
    contextShapeHash: 'shape1',
    toolsHash: 'tools1',
    outputSchemaHash: 'schema1',
    capabilities: ['math'],
    code,
    provenance: {
      provider: 'claude',
      model: 'claude-sonnet-4-6',
      resultId: 'res_1',
      createdAt: '2025-01-01T00:00:00.000Z',
    },
    successCount: 1,
    failureCount: 0,
    stage: 'verified',
    lastUsedAt: null,
    lastError: null,
    ...over,
  };
}

export const owner = (runId: string, pid = 4242): LeaseOwner => ({
  runId,
  host: 'build-7',
  pid,
  since: '2026-01-01T00:00:00.000Z',
});

export const header = (workflowId: string, over: Partial<WorkflowHeader> = {}): WorkflowHeader => ({
  workflowId,
  status: 'running',
  stepIds: ['fetch', 'sum'],
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

export const step = (stepId: string, index: number, over: Partial<StepRecord> = {}): StepRecord => ({
  stepId,
  index,
  role: 'calculator',
  task: `Step ${stepId}`,
  specHash: `spec-${stepId}`,
  status: 'success',
  envelope: { status: 'success', output: index * 10, logs: [] },
  startedAt: '2026-01-01T00:00:01.000Z',
  finishedAt: '2026-01-01T00:00:02.000Z',
  ...over,
});

/** Asserts a promise rejects with a storage error of `code` whose message matches `message`. */
export async function rejectsWith(promise: Promise<unknown>, code: StorageErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isStorageError(error, code), `expected a StorageError "${code}", got ${String(error)}`);
    if (message) assert.match((error as Error).message, message);
    return true;
  });
}

const BAD_NAMES = [
  '../evil',
  '..',
  '.',
  '',
  'a/b',
  'a\\b',
  '/etc/passwd',
  '.hidden',
  'x\0y',
  'sp ace',
  'a'.repeat(129),
];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the whole suite against the backend `harness` opens. */
export function runStorageConformance(backend: string, harness: StorageHarness): void {
  const withStorage = (fn: (storage: Storage) => Promise<void>) => async () => {
    const storage = await harness.open();
    try {
      await fn(storage);
    } finally {
      await storage.close();
    }
  };

  describe(`${backend} storage: results`, () => {
    test(
      'save, get by id with or without role, missing is null',
      withStorage(async ({ results }) => {
        assert.equal(await results.get('res_1'), null, 'an empty store is empty, not an error');
        await results.save(result());
        assert.deepEqual(await results.get('res_1'), result());
        assert.deepEqual(await results.get('res_1', 'calculator'), result());
        assert.equal(await results.get('res_1', 'analyst'), null);
        assert.equal(await results.get('res_missing'), null);
        await results.save(result({ envelope: { status: 'failure' } }));
        assert.deepEqual((await results.get('res_1'))?.envelope, { status: 'failure' }, 'a save replaces');
        const read = await results.get('res_1');
        (read!.envelope as Record<string, unknown>).status = 'changed by the caller';
        assert.deepEqual((await results.get('res_1'))?.envelope, { status: 'failure' }, 'callers get copies');
      }),
    );

    test(
      'list: newest first, by role, since, with a limit; status comes from the envelope',
      withStorage(async ({ results }) => {
        await results.save(result({ resultId: 'b', createdAt: '2025-03-01T10:00:00.000Z' }));
        await results.save(
          result({ resultId: 'a', createdAt: '2025-05-01T10:00:00.000Z', envelope: { status: 'failure' } }),
        );
        await results.save(
          result({ resultId: 'c', role: 'analyst', createdAt: '2025-04-01T10:00:00.000Z', envelope: {} }),
        );
        await results.save(result({ resultId: 'd', createdAt: '2025-01-01T10:00:00.000Z' }));
        // Another process may use another offset; order is by instant, not by text.
        await results.save(result({ resultId: 'e', createdAt: '2025-05-01T11:30:00.000+02:00' }));
        const all = await results.list();
        assert.deepEqual(
          all.map((r) => r.resultId),
          ['a', 'e', 'c', 'b', 'd'],
        );
        assert.deepEqual(all[0], {
          resultId: 'a',
          role: 'calculator',
          task: 'Calculate 2 + 2',
          status: 'failure',
          createdAt: '2025-05-01T10:00:00.000Z',
        });
        assert.equal(all.find((r) => r.resultId === 'c')?.status, 'unknown');
        assert.deepEqual(
          (await results.list({ role: 'calculator' })).map((r) => r.resultId),
          ['a', 'e', 'b', 'd'],
        );
        assert.deepEqual(
          (await results.list({ limit: 2 })).map((r) => r.resultId),
          ['a', 'e'],
        );
        assert.deepEqual(
          (await results.list({ since: '2025-04-01T10:00:00Z' })).map((r) => r.resultId),
          ['a', 'e', 'c'],
        );
        assert.deepEqual(await results.list({ limit: 0 }), []);
        assert.deepEqual(await results.list({ role: 'nobody' }), []);
        await assert.rejects(results.list({ limit: -1 }), RangeError);
        await assert.rejects(results.list({ since: 'yesterday' }), /since must be an ISO time/);
      }),
    );

    test(
      'scan: every result oldest first, by role and since',
      withStorage(async ({ results }) => {
        for (const [id, day, role] of [
          ['r2', '02', 'calculator'],
          ['r1', '01', 'calculator'],
          ['r3', '03', 'analyst'],
        ] as const) {
          await results.save(result({ resultId: id, role, createdAt: `2025-01-${day}T00:00:00.000Z` }));
        }
        const ids = async (options = {}): Promise<string[]> => {
          const seen: string[] = [];
          for await (const item of results.scan(options))
            seen.push(item.result?.resultId ?? `damaged ${item.damaged?.resultId}`);
          return seen;
        };
        assert.deepEqual(await ids(), ['r1', 'r2', 'r3']);
        assert.deepEqual(await ids({ role: 'calculator' }), ['r1', 'r2']);
        assert.deepEqual(await ids({ since: '2025-01-02T00:00:00.000Z' }), ['r2', 'r3']);
      }),
    );

    test(
      'a damaged result affects only itself: get reports it, list and scan go on',
      withStorage(async (storage) => {
        const { results } = storage;
        await results.save(result());
        await results.save(result({ resultId: 'res_2', createdAt: '2025-01-02T00:00:00.000Z' }));
        const cases: Array<[string, RegExp]> = [
          ['{"resultId": "res_1", "role": "calc', /not valid JSON/],
          ['', /is empty/],
          ['[1, 2]', /wrong shape/],
          [JSON.stringify({ ...result(), envelope: 'ok' }), /wrong shape: envelope/],
        ];
        for (const [text, reason] of cases) {
          await harness.damage.result(storage, 'calculator', 'res_1', text);
          for (const read of [() => results.get('res_1'), () => results.get('res_1', 'calculator')]) {
            await rejectsWith(
              read(),
              'damaged',
              new RegExp(`Result res_1 in .* is damaged \\(.*${reason.source}`, 's'),
            );
          }
          assert.deepEqual(
            (await results.list()).map((r) => r.resultId),
            ['res_2', 'res_1'],
            'still listed',
          );
          const scanned: string[] = [];
          for await (const item of results.scan()) {
            if (item.damaged) {
              assert.match(item.damaged.reason, reason);
              scanned.push(`damaged ${item.damaged.role}/${item.damaged.resultId}`);
            } else scanned.push(item.result.resultId);
          }
          assert.deepEqual(scanned, ['damaged calculator/res_1', 'res_2']);
        }
      }),
    );

    test(
      'unsafe names are refused with invalid-name, and nothing is stored',
      withStorage(async ({ results }) => {
        for (const name of BAD_NAMES) {
          await rejectsWith(results.save(result({ role: name })), 'invalid-name');
          await rejectsWith(results.save(result({ resultId: name })), 'invalid-name');
          await rejectsWith(results.get(name), 'invalid-name');
          await rejectsWith(results.get('res_1', name), 'invalid-name');
          await rejectsWith(results.list({ role: name }), 'invalid-name');
        }
        await rejectsWith(
          results.save(result({ role: '../../outside' })),
          'invalid-name',
          /Invalid role "\.\.\/\.\.\/outside": use 1 to 128 letters, digits/,
        );
        await rejectsWith(results.save(result({ role: 'registry' })), 'invalid-name', /reserved/);
        await rejectsWith(results.save(result({ role: 'Workflows' })), 'invalid-name', /reserved/);
        await assert.rejects(results.save(result({ envelope: 'ok' as never })), /Cannot save result res_1: envelope/);
        assert.deepEqual(await results.list(), []);
        // Names with dots, dashes and underscores inside are fine.
        await results.save(result({ role: 'data-analyst_2', resultId: 'res.2025-01-01_x' }));
        assert.ok(await results.get('res.2025-01-01_x', 'data-analyst_2'));
      }),
    );

    test(
      'results survive a reopen, and concurrent readers only see whole records',
      withStorage(async (storage) => {
        const big = (n: number): StoredResult =>
          result({ envelope: { status: 'success', output: `${n}`.repeat(200_000), n } });
        await storage.results.save(big(0));
        const other = await harness.reopen(storage);
        try {
          const writes = (async () => {
            for (let n = 1; n <= 20; n++) await storage.results.save(big(n));
          })();
          let reads = 0;
          let done = false;
          void writes.finally(() => {
            done = true;
          });
          while (!done || reads < 3) {
            const read = await other.results.get('res_1', 'calculator');
            const n = read?.envelope.n as number;
            assert.equal(read?.envelope.output, `${n}`.repeat(200_000), 'a complete version');
            reads++;
            await sleep(0);
          }
          await writes;
          assert.equal((await other.results.get('res_1'))?.envelope.n, 20);
        } finally {
          await other.close();
        }
      }),
    );
  });

  describe(`${backend} storage: registry`, () => {
    test(
      'put, get, update, upsert, remove',
      withStorage(async ({ registry }) => {
        const e = entry();
        assert.equal(await registry.get(e.id), null);
        await registry.put(e);
        assert.deepEqual(await registry.get(e.id), e);
        const updated = await registry.update(e.id, (x) => ({ ...x, successCount: x.successCount + 1 }));
        assert.equal(updated?.successCount, 2);
        assert.equal((await registry.get(e.id))?.successCount, 2);
        assert.equal(await registry.update('fn_0000000000000000', (x) => x), null, 'update of a missing entry is null');
        const created = await registry.upsert('fn_1111111111111111', (current) => {
          assert.equal(current, null);
          return entry({ id: 'fn_1111111111111111', code: 'result = 1' });
        });
        assert.equal(created.id, 'fn_1111111111111111');
        const again = await registry.upsert(created.id, (current) => ({
          ...current!,
          successCount: current!.successCount + 1,
        }));
        assert.equal(again.successCount, 2);
        await rejectsWith(
          registry.update(e.id, (x) => ({ ...x, id: 'fn_other' })),
          'conflict',
          /must not change the id/,
        );
        await assert.rejects(
          registry.update(e.id, (x) => ({ ...x, successCount: -1 })),
          /successCount/,
        );
        assert.equal((await registry.get(e.id))?.successCount, 2, 'a refused update changed nothing');
        assert.equal(await registry.remove(e.id), true);
        assert.equal(await registry.remove(e.id), false);
        assert.equal(await registry.get(e.id), null);
      }),
    );

    test(
      'findByTaskKey returns the entries of one key, following moves and removals',
      withStorage(async ({ registry }) => {
        const a = entry();
        const b = entry({ code: 'result = 3628800' });
        const other = entry({ task: 'Another task', code: 'result = 0' });
        for (const e of [a, b, other]) await registry.put(e);
        const ids = async (key: string): Promise<string[]> =>
          (await registry.findByTaskKey(key)).entries.map((e) => e.id).sort();
        assert.deepEqual(await ids(a.taskKey), [a.id, b.id].sort());
        assert.deepEqual(await ids(other.taskKey), [other.id]);
        await registry.update(b.id, (x) => ({ ...x, taskKey: other.taskKey }));
        assert.deepEqual(await ids(a.taskKey), [a.id]);
        assert.deepEqual(await ids(other.taskKey), [b.id, other.id].sort());
        await registry.remove(a.id);
        assert.deepEqual(await registry.findByTaskKey(a.taskKey), { entries: [], damaged: [] });
      }),
    );

    test(
      'list is newest first; search matches words of task, role, capabilities and code',
      withStorage(async ({ registry }) => {
        const fact = entry({ provenance: { ...entry().provenance, createdAt: '2025-01-01T00:00:00.000Z' } });
        const fib = entry({
          task: 'Compute the 20th Fibonacci number',
          code: 'function fibonacci(n) { return n < 2 ? n : fibonacci(n - 1) + fibonacci(n - 2) } result = fibonacci(20)',
          provenance: { ...entry().provenance, createdAt: '2025-02-01T00:00:00.000Z' },
        });
        const sales = entry({
          role: 'analyst',
          task: 'Total revenue by region',
          capabilities: ['data', 'SQL'],
          code: "const rows = await database.query('select region, sum(revenue) from sales'); result = rows;",
          provenance: { ...entry().provenance, createdAt: '2025-03-01T00:00:00.000Z' },
        });
        for (const e of [fact, fib, sales]) await registry.put(e);
        assert.deepEqual(
          (await registry.list()).entries.map((e) => e.id),
          [sales.id, fib.id, fact.id],
        );
        const found = async (text: string, limit?: number): Promise<string[]> =>
          (await registry.search(text, limit === undefined ? {} : { limit })).entries.map((e) => e.id);
        assert.deepEqual(await found('factorial'), [fact.id]);
        assert.deepEqual(await found('FIBONACCI'), [fib.id]);
        assert.deepEqual(await found('fibo'), [fib.id], 'a word prefix');
        assert.deepEqual(await found('database'), [sales.id], 'through the code');
        assert.deepEqual(await found('analyst'), [sales.id], 'through the role');
        assert.deepEqual(await found('sql'), [sales.id], 'through a capability');
        assert.equal((await found('revenue region'))[0], sales.id);
        assert.deepEqual(new Set(await found('calculate fibonacci')), new Set([fact.id, fib.id]));
        assert.equal((await found('calculate fibonacci'))[0], fib.id, 'more words matched rank first');
        assert.deepEqual(await found('nothing-like-this'), []);
        assert.deepEqual(await found('"; DROP TABLE x; --'), [], 'query syntax is text, not a query');
        assert.equal((await found('the', 1)).length, 1);
      }),
    );

    test(
      'concurrent upserts lose no count, also across two storages on the same data',
      withStorage(async (storage) => {
        const other = await harness.reopen(storage);
        try {
          const registry = new CodeRegistry(storage.registry);
          const first = await registry.register({
            role: 'calculator',
            task: 'Calculate the factorial of 10',
            systemPromptHash: 'sp1',
            contextShapeHash: 's',
            toolsHash: 't',
            outputSchemaHash: 'o',
            capabilities: ['math'],
            code: 'result = 3628800',
            provenance: { provider: 'claude', model: 'm', resultId: null },
          });
          const bump = (store: Storage) =>
            store.registry.upsert(first.id, (current) => ({ ...current!, successCount: current!.successCount + 1 }));
          await Promise.all([
            ...Array.from({ length: 25 }, (_, i) => bump(i % 2 === 0 ? storage : other)),
            ...Array.from({ length: 10 }, (_, i) =>
              registry.register({
                role: 'calculator',
                task: 'Calculate the factorial of 10',
                systemPromptHash: 'sp1',
                contextShapeHash: 's',
                toolsHash: 't',
                outputSchemaHash: 'o',
                capabilities: [],
                code: `result = ${i};`,
                provenance: { provider: null, model: null, resultId: null },
              }),
            ),
          ]);
          assert.equal((await other.registry.get(first.id))?.successCount, 26);
          assert.equal((await other.registry.findByTaskKey(first.taskKey)).entries.length, 11);
        } finally {
          await other.close();
        }
      }),
    );

    test(
      'a damaged entry affects only itself: reported by scans, thrown only when read itself',
      withStorage(async (storage) => {
        const { registry } = storage;
        const broken = entry();
        const sibling = entry({ code: 'result = 3628800;' });
        await registry.put(broken);
        await registry.put(sibling);
        await harness.damage.entry(storage, broken.id, '{"id": "fn_');
        for (const scan of [
          () => registry.findByTaskKey(broken.taskKey),
          () => registry.list(),
          () => registry.search('factorial'),
        ]) {
          const { entries, damaged } = await scan();
          assert.deepEqual(
            entries.map((e) => e.id),
            [sibling.id],
          );
          assert.deepEqual(
            damaged.map((d) => [d.kind, d.id]),
            [['entry', broken.id]],
          );
          assert.match(damaged[0]!.reason, /Registry entry fn_\w+ in .* is damaged \(not valid JSON/);
          assert.ok(damaged[0]!.path.length > 0, 'says where it is');
        }
        await harness.damage.entry(storage, broken.id, JSON.stringify({ ...broken, successCount: 'many' }));
        await rejectsWith(registry.get(broken.id), 'damaged', /wrong shape: successCount/);
        await rejectsWith(
          registry.update(broken.id, (x) => x),
          'damaged',
        );
        // A damaged record can be replaced or removed.
        assert.equal(await registry.remove(broken.id), true);
        assert.deepEqual((await registry.list()).damaged, []);
      }),
    );

    test(
      'unsafe ids and task keys are refused with invalid-name',
      withStorage(async ({ registry }) => {
        for (const name of BAD_NAMES) {
          await rejectsWith(registry.get(name), 'invalid-name');
          await rejectsWith(registry.remove(name), 'invalid-name');
          await rejectsWith(
            registry.update(name, (x) => x),
            'invalid-name',
          );
          await rejectsWith(registry.put(entry({ id: name })), 'invalid-name');
        }
        await rejectsWith(registry.get('../../etc/passwd'), 'invalid-name', /Invalid registry entry id/);
        await rejectsWith(registry.findByTaskKey('../x'), 'invalid-name', /task key/);
        assert.deepEqual((await registry.list()).entries, []);
      }),
    );
  });

  describe(`${backend} storage: workflows`, () => {
    test(
      'claim, renew, release, holder; the same run claims again without a new generation',
      withStorage(async ({ workflows }) => {
        assert.equal(await workflows.holder('wf'), null);
        const lease = await workflows.claim('wf', owner('run-a'), 60_000);
        assert.equal(lease.workflowId, 'wf');
        assert.equal(lease.generation, 1);
        assert.deepEqual(lease.owner, owner('run-a'));
        assert.ok(lease.expiresAt > Date.now() + 50_000);
        assert.deepEqual(await workflows.holder('wf'), lease);
        const again = await workflows.claim('wf', owner('run-a'), 120_000);
        assert.equal(again.generation, 1);
        const renewed = await workflows.renew(lease, 300_000);
        assert.equal(renewed.generation, 1);
        assert.ok(renewed.expiresAt > Date.now() + 250_000);
        assert.equal((await workflows.holder('wf'))?.expiresAt, renewed.expiresAt);
        await workflows.release(renewed);
        assert.equal(await workflows.holder('wf'), null);
        await rejectsWith(workflows.saveStep(renewed, step('fetch', 0)), 'conflict', /released/);
        const next = await workflows.claim('wf', owner('run-b', 7), 60_000);
        assert.equal(next.generation, 2, 'a new owner gets a new generation');
        await rejectsWith(workflows.renew(renewed, 1000), 'conflict');
      }),
    );

    test(
      'a held lease refuses another claim with locked, naming host, pid and since',
      withStorage(async (storage) => {
        const held = await storage.workflows.claim('wf', owner('run-a', 4242), 60_000);
        const other = await harness.reopen(storage);
        try {
          await assert.rejects(other.workflows.claim('wf', owner('run-b', 99), 60_000), (error: unknown) => {
            assert.ok(error instanceof WorkflowLockedError, String(error));
            assert.ok(isStorageError(error, 'locked'));
            assert.match(
              error.message,
              /Workflow "wf" is being run by pid 4242 on build-7 since 2026-01-01T00:00:00\.000Z/,
            );
            assert.deepEqual(error.holder, held);
            return true;
          });
          // Claims racing from two storages: exactly one wins.
          const raced = await Promise.allSettled([
            storage.workflows.claim('race', owner('x'), 60_000),
            other.workflows.claim('race', owner('y'), 60_000),
          ]);
          assert.deepEqual(raced.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
        } finally {
          await other.close();
        }
      }),
    );

    test(
      'an expired lease is taken over with generation + 1; the old holder is fenced off with conflict',
      withStorage(async (storage) => {
        const { workflows } = storage;
        const old = await workflows.claim('wf', owner('run-a'), 40);
        await workflows.saveHeader(old, header('wf'));
        await workflows.saveStep(old, step('fetch', 0));
        await sleep(80);
        const other = await harness.reopen(storage);
        try {
          const taken = await other.workflows.claim('wf', owner('run-b', 7), 60_000);
          assert.equal(taken.generation, old.generation + 1);
          assert.equal((await workflows.holder('wf'))?.owner.runId, 'run-b');
          await rejectsWith(
            workflows.saveStep(old, step('sum', 1)),
            'conflict',
            /Refused to save step sum of workflow "wf" for generation 1: it is now held by pid 7 on build-7/,
          );
          await rejectsWith(workflows.saveHeader(old, header('wf', { status: 'failed' })), 'conflict');
          await rejectsWith(workflows.renew(old, 60_000), 'conflict');
          await workflows.release(old);
          assert.equal(
            (await workflows.holder('wf'))?.owner.runId,
            'run-b',
            'releasing a lost lease leaves the new holder',
          );
          await other.workflows.saveStep(taken, step('sum', 1));
          const loaded = await workflows.load('wf');
          assert.deepEqual(
            loaded?.steps.map((s) => s.stepId),
            ['fetch', 'sum'],
          );
          assert.equal(loaded?.header?.status, 'running', 'the fenced write changed nothing');
        } finally {
          await other.close();
        }
      }),
    );

    test(
      'header and steps: save, replace, load in step order, remove',
      withStorage(async ({ workflows }) => {
        assert.equal(await workflows.load('wf'), null);
        const lease = await workflows.claim('wf', owner('run-a'), 60_000);
        await workflows.saveHeader(lease, header('wf'));
        await workflows.saveStep(lease, step('sum', 1, { status: 'running', envelope: null, finishedAt: null }));
        await workflows.saveStep(lease, step('fetch', 0));
        let loaded = await workflows.load('wf');
        assert.deepEqual(loaded, {
          header: header('wf'),
          steps: [step('fetch', 0), step('sum', 1, { status: 'running', envelope: null, finishedAt: null })],
          damaged: [],
        });
        await workflows.saveStep(lease, step('sum', 1));
        await workflows.saveHeader(lease, header('wf', { status: 'finished' }));
        loaded = await workflows.load('wf');
        assert.deepEqual(loaded?.steps, [step('fetch', 0), step('sum', 1)]);
        assert.equal(loaded?.header?.status, 'finished');
        // A step's envelope may reach about 1 MiB.
        const big = step('big', 2, { envelope: { status: 'success', output: 'x'.repeat(1024 * 1024) } });
        await workflows.saveStep(lease, big);
        const stored = (await workflows.load('wf'))?.steps[2]?.envelope?.output;
        assert.equal(typeof stored === 'string' ? stored.length : null, 1024 * 1024);
        await assert.rejects(workflows.saveHeader(lease, header('other')), /cannot be saved under the lease of "wf"/);
        await rejectsWith(
          workflows.saveStep(lease, step('bad', 3, { envelope: { n: 1n } })),
          'invalid-name',
          /not JSON data/,
        );
        await assert.rejects(workflows.saveStep(lease, step('bad', 3, { status: 'done' as never })), /status/);
        assert.equal(await workflows.remove('wf'), true);
        assert.equal(await workflows.remove('wf'), false);
        assert.equal(await workflows.load('wf'), null);
      }),
    );

    test(
      'a damaged header or step affects only itself',
      withStorage(async (storage) => {
        const { workflows } = storage;
        const lease = await workflows.claim('wf', owner('run-a'), 60_000);
        await workflows.saveHeader(lease, header('wf'));
        await workflows.saveStep(lease, step('fetch', 0));
        await workflows.saveStep(lease, step('sum', 1));
        await harness.damage.step(storage, 'wf', 'fetch', '{"stepId": ');
        let loaded = await workflows.load('wf');
        assert.deepEqual(
          loaded?.steps.map((s) => s.stepId),
          ['sum'],
        );
        assert.deepEqual(
          loaded?.damaged.map((d) => [d.kind, d.id]),
          [['step', 'fetch']],
        );
        assert.match(
          loaded?.damaged[0]?.reason ?? '',
          /Step fetch of workflow wf in .* is damaged \(not valid JSON.*runs again/s,
        );
        await harness.damage.header(storage, 'wf', JSON.stringify({ ...header('wf'), status: 'exploded' }));
        loaded = await workflows.load('wf');
        assert.equal(loaded?.header, null);
        assert.deepEqual(
          loaded?.damaged.map((d) => [d.kind, d.id]),
          [
            ['header', 'wf'],
            ['step', 'fetch'],
          ],
        );
        assert.match(loaded?.damaged[0]?.reason ?? '', /wrong shape: status/);
        await workflows.saveStep(lease, step('fetch', 0));
        assert.deepEqual(
          (await workflows.load('wf'))?.steps.map((s) => s.stepId),
          ['fetch', 'sum'],
          'a damaged step is rewritten',
        );
      }),
    );

    test(
      'list: headers newest first, at most limit; a damaged header is reported and the others listed',
      withStorage(async (storage) => {
        const { workflows } = storage;
        assert.deepEqual(await workflows.list(), { headers: [], damaged: [] });
        const ids = ['wf.old', 'wf-new', 'wf-mid'];
        const starts = ['2026-01-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'];
        for (const [i, id] of ids.entries()) {
          const lease = await workflows.claim(id, owner('run-a'), 60_000);
          await workflows.saveHeader(lease, header(id, { startedAt: starts[i] as string }));
        }
        const stepOnly = await workflows.claim('steps-only', owner('run-a'), 60_000);
        await workflows.saveStep(stepOnly, step('fetch', 0));
        const all = await workflows.list();
        assert.deepEqual(
          all.headers.map((h) => h.workflowId),
          ['wf-new', 'wf-mid', 'wf.old'],
        );
        assert.deepEqual(all.headers[0], header('wf-new', { startedAt: starts[1] as string }));
        assert.deepEqual(
          (await workflows.list({ limit: 1 })).headers.map((h) => h.workflowId),
          ['wf-new'],
        );
        await harness.damage.header(storage, 'wf-mid', '{"not": "a header"');
        const damaged = await workflows.list();
        assert.deepEqual(
          damaged.headers.map((h) => h.workflowId),
          ['wf-new', 'wf.old'],
        );
        assert.deepEqual(
          damaged.damaged.map((d) => [d.kind, d.id]),
          [['header', 'wf-mid']],
        );
        await assert.rejects(workflows.list({ limit: -1 }), /limit must be a whole number/);
      }),
    );

    test(
      'unsafe workflow and step ids are refused with invalid-name',
      withStorage(async ({ workflows }) => {
        const lease = await workflows.claim('wf', owner('run-a'), 60_000);
        for (const name of BAD_NAMES) {
          await rejectsWith(workflows.claim(name, owner('run-a'), 1000), 'invalid-name');
          await rejectsWith(workflows.load(name), 'invalid-name');
          await rejectsWith(workflows.holder(name), 'invalid-name');
          await rejectsWith(workflows.remove(name), 'invalid-name');
          await rejectsWith(workflows.saveStep(lease, step(name, 0)), 'invalid-name');
        }
        await rejectsWith(workflows.claim('../wf', owner('run-a'), 1000), 'invalid-name', /Invalid workflow id/);
        await assert.rejects(workflows.claim('wf2', owner(''), 1000), /runId a non-empty string/);
        await assert.rejects(workflows.claim('wf2', owner('run-a'), 0), /ttlMs must be/);
      }),
    );
  });
}
