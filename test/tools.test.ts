// Tool injection: namespaces, copies across the boundary, errors, Promise.all, caps.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { defineTool, Executor } from '../src/index.js';

let executor: Executor;

before(async () => {
  executor = new Executor({ workers: 2, limits: { timeoutMs: 5000, memoryMb: 64 } });
  await executor.warm();
});

after(() => executor.close());

const rows = [
  { region: 'eu', revenue: 120 },
  { region: 'us', revenue: 80 },
];

describe('tools', () => {
  test('visible as namespace.fn and tools.namespace.fn; arguments arrive as copies', async () => {
    const seen: unknown[] = [];
    const r = await executor.execute({
      code: [
        'const a = await database.query("select * from sales")',
        'const b = await tools.database.query("select 1")',
        'result = { a, same: database.query === tools.database.query, n: b.length }',
      ].join('\n'),
      tools: {
        database: {
          query: async (sql: string) => {
            seen.push(sql);
            return rows;
          },
        },
      },
    });
    assert.equal(r.status, 'success', r.error ?? '');
    assert.deepEqual(r.output, { a: rows, same: true, n: 2 });
    assert.deepEqual(seen, ['select * from sales', 'select 1']);
    assert.equal(r.toolCalls, 2);
  });

  test('a result mutated in the sandbox does not change the host value', async () => {
    const shared = { count: 1, list: [1] };
    const r = await executor.execute({
      code: 'const v = await store.get()\nv.count = 99\nv.list.push(2)\nresult = await store.get()',
      tools: { store: { get: () => shared } },
    });
    assert.deepEqual(r.output, { count: 1, list: [1] });
    assert.deepEqual(shared, { count: 1, list: [1] });
  });

  test('defineTool validates arguments with zod before run is called', async () => {
    let calls = 0;
    const add = defineTool({
      name: 'math.add',
      description: 'Adds two numbers',
      input: z.tuple([z.number(), z.number()]),
      run: (a, b) => {
        calls += 1;
        return a + b;
      },
    });
    const ok = await executor.execute({ code: 'result = await math.add(2, 3)', tools: [add] });
    assert.equal(ok.output, 5);
    const bad = await executor.execute({ code: 'result = await math.add("2", 3)', tools: [add] });
    assert.equal(bad.errorCategory, 'tool');
    assert.match(bad.error ?? '', /Invalid arguments for math\.add: argument 0/);
    assert.equal(calls, 1);
  });

  test('a tool error is catchable inside the sandbox', async () => {
    const r = await executor.execute({
      code: 'try { await db.query("bad") } catch (e) { result = { name: e.name, message: e.message } }',
      tools: {
        db: {
          query: async () => {
            throw new Error('relation "bad" does not exist');
          },
        },
      },
    });
    assert.deepEqual(r.output, { name: 'ToolError', message: 'db.query failed: relation "bad" does not exist' });
  });

  test("a tool error's code word reaches the sandbox as e.code (a peer's MeshError code); free text there does not", async () => {
    const coded = (code: unknown) => async () => {
      throw Object.assign(new Error('refused'), { code });
    };
    const r = await executor.execute({
      code: `const codes = [];
for (const f of [svc.meshy, svc.prose, svc.number, svc.plain]) {
  try { await f() } catch (e) { codes.push(e.code === undefined ? 'none' : e.code) }
}
result = codes`,
      tools: {
        svc: {
          meshy: coded('not_allowed'),
          prose: coded('the key sk-secret was refused'),
          number: coded(42),
          plain: async () => {
            throw new Error('no code');
          },
        },
      },
    });
    assert.deepEqual(r.output, ['not_allowed', 'none', 'none', 'none']);
  });

  test('an uncaught tool error fails with category tool and the user-code line', async () => {
    const r = await executor.execute({
      code: 'const a = 1\nconst rows = await db.query("bad")\nresult = rows',
      tools: {
        db: {
          query: () => {
            throw new Error('no such table');
          },
        },
      },
    });
    assert.equal(r.errorCategory, 'tool');
    assert.match(r.error ?? '', /ToolError: db\.query failed: no such table/);
    assert.equal(r.errorLine, 2);
  });

  test('Promise.all over tool calls works and keeps order', async () => {
    const r = await executor.execute({
      code: 'result = await Promise.all([3, 1, 2].map((ms) => timer.wait(ms)))',
      tools: { timer: { wait: (ms: number) => new Promise((res) => setTimeout(() => res(ms), ms * 20)) } },
    });
    assert.deepEqual(r.output, [3, 1, 2]);
    assert.equal(r.toolCalls, 3);
  });

  test('a bare tool name is a global function', async () => {
    const r = await executor.execute({
      code: 'result = await now()',
      tools: [defineTool({ name: 'now', description: 'epoch ms', run: () => 1234 })],
    });
    assert.equal(r.output, 1234);
  });

  test('a tool returning a value JSON cannot hold becomes a ToolError', async () => {
    const r = await executor.execute({
      code: 'try { await bad.get() } catch (e) { result = e.message }',
      tools: { bad: { get: () => 10n } },
    });
    assert.match(String(r.output), /cannot be sent as JSON/);
  });

  test('the number of tool calls is capped', async () => {
    let calls = 0;
    const r = await executor.execute({
      code: 'for (let i = 0; i < 50; i++) await t.ping()\nresult = 1',
      tools: {
        t: {
          ping: () => {
            calls += 1;
            return 'pong';
          },
        },
      },
      limits: { maxToolCalls: 10 },
    });
    assert.equal(r.errorCategory, 'tool');
    assert.match(r.error ?? '', /Too many tool calls: the limit is 10/);
    assert.equal(calls, 10);
  });

  test('tool bytes in are capped', async () => {
    let calls = 0;
    const r = await executor.execute({
      code: 'await t.put("x".repeat(5000))\nresult = 1',
      tools: {
        t: {
          put: () => {
            calls += 1;
          },
        },
      },
      limits: { maxToolBytes: 1000 },
    });
    assert.equal(r.errorCategory, 'output');
    assert.match(r.error ?? '', /Tool arguments and results exceeded the limit of 1000 bytes/);
    assert.equal(calls, 0);
  });

  test('tool bytes out are capped', async () => {
    const r = await executor.execute({
      code: 'const big = await t.get()\nresult = big.length',
      tools: { t: { get: () => 'y'.repeat(5000) } },
      limits: { maxToolBytes: 1000 },
    });
    assert.equal(r.errorCategory, 'output');
  });

  test('a tool that never answers is covered by the wall-clock limit', async () => {
    const r = await executor.execute({
      code: 'result = await slow.forever()',
      tools: { slow: { forever: () => new Promise(() => {}) } },
      limits: { timeoutMs: 300 },
    });
    assert.equal(r.errorCategory, 'timeout');
    assert.ok(r.durationMs < 1500, `took ${r.durationMs} ms`);
  });

  test('arguments that JSON cannot hold are refused inside the sandbox', async () => {
    const r = await executor.execute({
      code: 'try { await t.put(10n) } catch (e) { result = e.message }',
      tools: { t: { put: () => 1 } },
    });
    assert.match(String(r.output), /cannot be sent to the host.*plain JSON/);
  });
});

describe('tool definitions are validated up front', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'bad identifier',
      () => defineTool({ name: 'data base.query', description: 'x', run: () => 1 }),
      /not a JavaScript identifier/,
    ],
    [
      'keyword',
      () => defineTool({ name: 'db.delete', description: 'x', run: () => 1 }),
      /"delete" is not a JavaScript identifier/,
    ],
    [
      'hides a builtin',
      () => defineTool({ name: 'JSON.query', description: 'x', run: () => 1 }),
      /would hide the built-in "JSON"/,
    ],
    ['no description', () => defineTool({ name: 'db.query', description: ' ', run: () => 1 }), /needs a description/],
    ['no name', () => defineTool({ name: '', description: 'x', run: () => 1 }), /needs a name/],
  ];
  for (const [name, make, message] of cases) {
    test(name, () => assert.throws(make, message));
  }

  test('duplicate names and namespace clashes are rejected by execute', async () => {
    const one = defineTool({ name: 'db.query', description: 'x', run: () => 1 });
    await assert.rejects(executor.execute({ code: 'result = 1', tools: [one, one] }), /defined twice/);
    const ns = defineTool({ name: 'db', description: 'x', run: () => 1 });
    await assert.rejects(executor.execute({ code: 'result = 1', tools: [one, ns] }), /clashes with the namespace/);
  });
});
