// The executor's contract with generated code: code forms, errors with user-code positions, context,
// console, output conversions (DESIGN.md section 4).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Executor } from '../src/index.js';

let executor: Executor;

before(async () => {
  executor = new Executor({ workers: 2, limits: { timeoutMs: 5000, memoryMb: 64 } });
  await executor.warm();
});

after(() => executor.close());

async function run(code: string, context?: unknown) {
  return executor.execute({ code, context });
}

describe('code forms', () => {
  const forms: Array<[string, string, unknown]> = [
    ['assignment', 'result = 6 * 7', 42],
    ['let', 'let result = "let"', 'let'],
    ['const', 'const result = [1, 2, 3]', [1, 2, 3]],
    ['var', 'var result = { a: 1 }', { a: 1 }],
    ['return', 'return 7', 7],
    ['return beats result', 'result = 1\nreturn 2', 2],
    ['bare return keeps result', 'result = 3\nreturn', 3],
    ['top-level await', 'const v = await Promise.resolve(5)\nresult = v * 2', 10],
    [
      'result inside a block stays local, outer assignment wins',
      'result = "outer"\n{ const result = "inner" }',
      'outer',
    ],
    ['null is a result', 'result = null', null],
    ['false is a result', 'result = false', false],
    ['zero is a result', 'result = 0', 0],
    ['trailing line comment', 'result = 1 // done', 1],
    [
      'helper functions and classes',
      'class A { v = 2 }\nfunction twice(x) { return x * 2 }\nresult = twice(new A().v)',
      4,
    ],
  ];
  for (const [name, code, expected] of forms) {
    test(name, async () => {
      const r = await run(code);
      assert.equal(r.status, 'success', r.error ?? '');
      assert.deepEqual(r.output, expected);
      assert.equal(r.errorCategory, null);
      assert.equal(r.error, null);
    });
  }

  test('TypeScript annotations, interfaces and generics are stripped', async () => {
    const code = [
      'interface Row { region: string; revenue: number }',
      'const rows: Row[] = [{ region: "eu", revenue: 3 }, { region: "us", revenue: 4 }];',
      'function sum<T extends Row>(items: T[]): number { return items.reduce((a, r) => a + r.revenue, 0); }',
      'type Total = { total: number };',
      'const result: Total = { total: sum(rows) };',
    ].join('\n');
    const r = await run(code);
    assert.equal(r.status, 'success', r.error ?? '');
    assert.deepEqual(r.output, { total: 7 });
  });
});

describe('failures', () => {
  test('no result is a failure, never a silent success', async () => {
    const r = await run('const x = 1 + 1\nconsole.log(x)');
    assert.equal(r.status, 'failure');
    assert.equal(r.errorCategory, 'no_result');
    assert.equal(r.output, null);
    assert.match(r.error ?? '', /result/);
    assert.deepEqual(r.logs, ['2']);
  });

  test('syntax error reports line and column in the code as given', async () => {
    const r = await run('const a = 1;\nconst b = 2;\nconst c = ;\nresult = a');
    assert.equal(r.errorCategory, 'syntax');
    assert.equal(r.errorLine, 3);
    assert.equal(r.errorColumn, 11);
    assert.match(r.error ?? '', /line 3, column 11/);
  });

  test('syntax error at the end of the code (unclosed brace)', async () => {
    const r = await run('function f() {\n  return 1\n\nresult = f()');
    assert.equal(r.errorCategory, 'syntax');
    assert.equal(r.errorLine, 4);
  });

  test('Python written by mistake is a syntax error on its first line', async () => {
    const r = await run('def solve(n):\n    return n * 2\n\nresult = solve(4)');
    assert.equal(r.errorCategory, 'syntax');
    assert.equal(r.errorLine, 1);
    assert.match(r.error ?? '', /SyntaxError/);
  });

  test('syntax error in TypeScript code keeps user positions', async () => {
    const r = await run('const a: number = 1;\nconst b: string = "x";\nlet c: number = a +;\nresult = c');
    assert.equal(r.errorCategory, 'syntax');
    assert.equal(r.errorLine, 3);
  });

  test('runtime error names the message and the user-code line (JavaScript)', async () => {
    const r = await run('const data = { items: [] };\n\nconst first = data.items[0];\nresult = first.name;');
    assert.equal(r.errorCategory, 'runtime');
    assert.match(r.error ?? '', /^TypeError: Cannot read properties of undefined \(reading 'name'\)/);
    assert.equal(r.errorLine, 4);
    assert.match(r.error ?? '', /line 4/);
  });

  test('runtime error line is mapped back through the TypeScript transform', async () => {
    const code = [
      'interface Item { name: string }',
      'const items: Item[] = [];',
      '',
      'function firstName(list: Item[]): string {',
      '  return list[0]!.name.toUpperCase();',
      '}',
      'result = firstName(items);',
    ].join('\n');
    const r = await run(code);
    assert.equal(r.errorCategory, 'runtime');
    assert.equal(r.errorLine, 5);
  });

  test('code over 1 MiB is refused before it is parsed', async () => {
    const r = await run(`result = 1\n// ${'x'.repeat(1_100_000)}`);
    assert.equal(r.errorCategory, 'syntax');
    assert.match(r.error ?? '', /over the limit of 1048576; write a shorter program/);
  });

  test('thrown non-errors are reported', async () => {
    const r = await run('throw "plain string"');
    assert.equal(r.errorCategory, 'runtime');
    assert.match(r.error ?? '', /plain string/);
  });

  test('a caught error does not fail the run', async () => {
    const r = await run('try { JSON.parse("{") } catch (e) { result = e.name }');
    assert.equal(r.output, 'SyntaxError');
  });

  test('deep recursion is a runtime error, not a crash', async () => {
    const r = await run('function down(n) { return down(n + 1) + 1 }\nresult = down(0)');
    assert.equal(r.errorCategory, 'runtime');
    assert.match(r.error ?? '', /Maximum call stack size exceeded/);
    assert.equal(r.errorLine, 1);
  });
});

describe('output', () => {
  test('Date becomes an ISO string, NaN and Infinity become null, undefined fields are dropped', async () => {
    const r = await run('result = { at: new Date(0), nan: NaN, inf: -Infinity, gone: undefined, list: [undefined] }');
    assert.equal(r.status, 'success', r.error ?? '');
    assert.deepEqual(r.output, { at: '1970-01-01T00:00:00.000Z', nan: null, inf: null, list: [null] });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['function', 'result = () => 1', /function/],
    ['nested BigInt', 'result = { total: 10n }', /"total" is a BigInt/],
    ['Map', 'result = new Map([[1, 2]])', /Map; convert it with Object\.fromEntries/],
    ['Set', 'result = { s: new Set([1]) }', /Set; convert it with Array\.from/],
    ['typed array', 'result = new Uint8Array(3)', /binary data/],
    ['class instance', 'class P { x = 1 }\nresult = new P()', /class instance \(P\)/],
    ['circular', 'const a = {}; a.self = a; result = a', /cannot be converted to JSON/],
    ['symbol', 'result = Symbol("s")', /symbol/],
  ];
  for (const [name, code, message] of bad) {
    test(`${name} fails with category output`, async () => {
      const r = await run(code);
      assert.equal(r.status, 'failure');
      assert.equal(r.errorCategory, 'output');
      assert.match(r.error ?? '', message);
    });
  }

  test('a result over the byte cap fails with output', async () => {
    const r = await executor.execute({ code: 'result = "x".repeat(5000)', limits: { maxOutputBytes: 1000 } });
    assert.equal(r.errorCategory, 'output');
    assert.match(r.error ?? '', /over the limit of 1000 bytes/);
  });

  test('multi-byte characters count as UTF-8 bytes', async () => {
    // 400 × "€" is 400 characters but 1200 bytes of UTF-8.
    const r = await executor.execute({ code: 'result = "€".repeat(400)', limits: { maxOutputBytes: 1000 } });
    assert.equal(r.errorCategory, 'output');
  });
});

describe('context', () => {
  test('is visible, deep-frozen, and changes never reach the host', async () => {
    const context = { user: { name: 'ada', tags: ['x'] }, n: 2 };
    const r = await run(
      [
        'const before = context.user.name;',
        'let threw = false;',
        'try { (function () { "use strict"; context.user.name = "eve"; })() } catch (e) { threw = e instanceof TypeError }',
        'try { context.user.tags.push("y") } catch (e) {}',
        'result = { before, after: context.user.name, threw, frozen: Object.isFrozen(context.user.tags), n: context.n }',
      ].join('\n'),
      context,
    );
    assert.equal(r.status, 'success', r.error ?? '');
    assert.deepEqual(r.output, { before: 'ada', after: 'ada', threw: true, frozen: true, n: 2 });
    assert.deepEqual(context, { user: { name: 'ada', tags: ['x'] }, n: 2 });
  });

  test('context cannot be replaced', async () => {
    const r = await run('try { context = 5 } catch {}\nglobalThis.context = 6\nresult = typeof context');
    assert.equal(r.output, 'object');
  });

  test('no context gives an empty object', async () => {
    const r = await run('result = Object.keys(context).length');
    assert.equal(r.output, 0);
  });

  test('a context that is not JSON data is a programmer error with a clear message', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await assert.rejects(executor.execute({ code: 'result = 1', context: circular }), /context must be JSON data/);
  });
});

describe('console', () => {
  test('log, info, warn, error and debug are captured in order with level prefixes', async () => {
    const r = await run(
      'console.log("a", 1, { b: [2] })\nconsole.info("i")\nconsole.warn("w")\nconsole.error(new Error("boom"))\nconsole.debug("d")\nresult = 1',
    );
    assert.deepEqual(r.logs, ['a 1 { b: [ 2 ] }', 'i', '[warn] w', '[error] Error: boom', '[debug] d']);
  });

  test('logs before a failure are kept', async () => {
    const r = await run('console.log("step 1")\nnull.x');
    assert.equal(r.errorCategory, 'runtime');
    assert.deepEqual(r.logs, ['step 1']);
  });

  test('console output over the byte cap ends the run with output', async () => {
    const r = await executor.execute({
      code: 'for (let i = 0; i < 1000; i++) console.log("line " + i)\nresult = 1',
      limits: { maxLogBytes: 500 },
    });
    assert.equal(r.errorCategory, 'output');
    assert.match(r.error ?? '', /Console output exceeded the limit of 500 bytes/);
    const bytes = r.logs.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    assert.ok(bytes < 700, `kept ${bytes} bytes of logs`);
  });
});

describe('isolation between executions', () => {
  test('globals set by one execution are gone in the next', async () => {
    await run('globalThis.leak = 1\nObject.prototype.polluted = true\nresult = 1');
    const r = await run('result = [typeof leak, ({}).polluted === undefined]');
    assert.deepEqual(r.output, ['undefined', true]);
  });

  test('host globals are absent', async () => {
    const r = await run(
      'result = [typeof process, typeof require, typeof module, typeof Buffer, typeof setTimeout, typeof fetch, typeof WebAssembly, typeof SharedArrayBuffer]',
    );
    assert.deepEqual(r.output, Array(8).fill('undefined'));
  });

  test('cpuMs, heapBytes and durationMs are measured', async () => {
    const r = await run('let s = 0\nfor (let i = 0; i < 2e6; i++) s += i\nresult = s');
    assert.equal(r.status, 'success');
    assert.ok(r.cpuMs > 0, `cpuMs ${r.cpuMs}`);
    assert.ok(r.heapBytes > 0, `heapBytes ${r.heapBytes}`);
    assert.ok(r.durationMs >= r.cpuMs * 0.5, `durationMs ${r.durationMs}, cpuMs ${r.cpuMs}`);
  });
});

describe('a signal shared by many executions', () => {
  // Issue 12, item 10: a mesh passes its stop signal to every task; each execution added its own listener,
  // and more than ten at once made Node warn of a possible EventTarget memory leak (there was none).
  test('twenty executions share one signal without a leak warning, and its abort stops them all', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(`${warning.name}: ${warning.message}`);
    };
    process.on('warning', onWarning);
    try {
      const shared = new AbortController();
      const finished = await Promise.all(
        Array.from({ length: 20 }, (_, i) => executor.execute({ code: `result = ${i}`, signal: shared.signal })),
      );
      assert.deepEqual(
        finished.map((r) => r.output),
        Array.from({ length: 20 }, (_, i) => i),
      );
      const stopping = Array.from({ length: 20 }, () =>
        executor.execute({ code: 'await new Promise(() => {})', signal: shared.signal }),
      );
      setTimeout(() => shared.abort(), 300);
      for (const r of await Promise.all(stopping)) {
        assert.equal(r.errorCategory, 'timeout');
        assert.match(r.error ?? '', /cancelled by the caller/);
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
