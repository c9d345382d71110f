// Hostile code, part 2: attacks on the boundary itself. The code cannot reach the host directly, so it
// shapes what the host has to read: results and tool arguments full of getters, proxies, thenables,
// Symbol.species and toJSON hooks; prototype pollution meant to subvert the runtime's reporting or the next
// execution; floods of tool calls, tool bytes and console output. Each test cites the technique it adapts.
// See test/helpers/hostile.ts for the properties every attack is checked for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { defineTool, Executor } from '../src/index.js';
import { assertNoEscape, attack, createHostileExecutor, REACH } from './helpers/hostile.js';

let executor: Executor;

before(async () => {
  executor = createHostileExecutor();
  await executor.warm();
});

after(() => executor.close());

/** Every argument list a host tool received, as the host saw it. */
const received: unknown[][] = [];
const BIG = 'y'.repeat(2 << 20);
const tools = {
  db: {
    query: async (...args: unknown[]) => {
      received.push(args);
      return [{ id: 1, args }];
    },
    big: async () => BIG,
    never: () => new Promise<never>(() => {}),
  },
};

function lastReceived(): unknown[] {
  const last = received[received.length - 1];
  assert.ok(last, 'the tool was called');
  return last;
}

describe('getters, proxies and hooks in the result', () => {
  // vm2 test/vm.js "timeout": a getter that never returns (`get() { while (true) {} }`) read by the host.
  // Here getters run inside the isolate while the runtime serializes the result, under the time limit.
  test('getter CPU bomb run during result serialization', async () => {
    await attack(executor, 'result = { ok: 1, get x() { while (true) {} } }', {
      category: 'timeout',
      limits: { timeoutMs: 1000 },
    });
  });

  // vm2 issue #178 ("Proxy::getOwnPropertyDescriptor attack", "proxy trap via Object.prototype"): traps that
  // throw functions or return host-looking objects while the host enumerates a value.
  test('Proxy result whose traps throw functions and lie about keys (vm2 #178)', async () => {
    const throwing = await attack(
      executor,
      `
      result = new Proxy({}, {
        ownKeys() { return ['a', 'b'] },
        getOwnPropertyDescriptor() { throw (f) => f.constructor('return process')() },
      })`,
      { category: 'output' },
    );
    assert.equal(throwing.output, null);
    const lying = await attack(
      executor,
      `${REACH}
      result = new Proxy({}, {
        ownKeys() { return ['a'] },
        getOwnPropertyDescriptor() { return { value: 1, enumerable: true, configurable: true } },
        get(target, key) { return key === 'a' ? reach(() => Function('return process')()) : undefined },
      })`,
      { category: null },
    );
    assert.deepEqual(lying.output, { a: 'blocked:ReferenceError' });
  });

  // A Proxy claiming an enormous array length (the same shape as vm2's proxied host arrays): the serializer
  // inside the isolate gives up; nothing enormous reaches the host.
  test('Proxy array reporting a length of 1e9', async () => {
    await attack(executor, `result = new Proxy([], { get(t, k) { return k === 'length' ? 1e9 : 1 } })`, {
      category: ['output', 'timeout', 'memory'],
      limits: { timeoutMs: 1000 },
    });
  });

  // toJSON is JSON.stringify's documented hook; a result whose toJSON returns 5 MB (or throws a function)
  // must be stopped by the output cap or reported, never shipped.
  test('toJSON returning 5 MB, past the output cap', async () => {
    const r = await attack(executor, `result = { toJSON() { return 'x'.repeat(5e6) } }`, { category: 'output' });
    assert.match(r.error ?? '', /over the limit of/);
  });

  // Promises/A+ thenable assimilation, abused against vm2 in CVE-2026-22709 (GHSA-99p7-6v5w-7xg8: promise
  // handlers not sanitized): a result that is a thenable makes the runtime call its `then`.
  test('thenable result: then() resolves with host bait or never settles', async () => {
    const bait = await attack(executor, `result = { then(resolve) { resolve(process) } }`, { category: 'runtime' });
    assert.match(bait.error ?? '', /process is not defined/);
    const own = await attack(executor, `result = { then(resolve) { resolve({ resolvedBy: 'thenable' }) } }`, {
      category: null,
    });
    assert.deepEqual(own.output, { resolvedBy: 'thenable' });
    await attack(executor, `result = { then() {} }`, { category: 'timeout', limits: { timeoutMs: 1000 } });
  });

  // Date.prototype.toJSON hijack: the documented Date conversion (Date -> ISO string) goes through toJSON,
  // which the code can replace.
  test('Date.prototype.toJSON replaced to smuggle values', async () => {
    const r = await attack(
      executor,
      `${REACH}
      Date.prototype.toJSON = function () { return reach(() => this.constructor.constructor('return process')()) };
      result = { when: new Date(0) }`,
      { category: null },
    );
    assert.deepEqual(r.output, { when: 'blocked:ReferenceError' });
  });
});

describe('prototype pollution and replaced built-ins', () => {
  // GHSA-qvjj-29qf-hp7p (CVE-2026-24120, "Sandbox Breakout Through Promise Species"): vm2's promise wrapper
  // trusted the species of promises. Here the runtime subscribes to the code's promise with a `then` it
  // captured before the code ran; a species constructor that throws ends the run as a runtime error.
  test('Promise.prototype.constructor[Symbol.species] hijack (GHSA-qvjj-29qf-hp7p)', async () => {
    const throwing = await attack(
      executor,
      `
      Promise.prototype.constructor = { [Symbol.species]: class { constructor() { throw new Error('species!') } } };
      result = 1`,
      { category: 'runtime' },
    );
    assert.match(throwing.error ?? '', /species!/);
    const silent = await attack(
      executor,
      `
      Promise.prototype.constructor = { [Symbol.species]: class { constructor(executor) { executor(() => {}, () => {}) } } };
      result = await Promise.resolve(5)`,
      { category: null },
    );
    assert.equal(silent.output, 5);
  });

  // CVE-2026-22709 (GHSA-99p7-6v5w-7xg8): vm2 patched Promise.prototype.then/catch in the sandbox and missed
  // the promises that async functions return. Here nothing depends on the sandbox's Promise methods.
  test('Promise.prototype.then / catch / finally replaced (CVE-2026-22709)', async () => {
    const r = await attack(
      executor,
      `
      Promise.prototype.then = function () { throw new Error('then hijacked') };
      Promise.prototype.catch = function () { throw new Error('catch hijacked') };
      Promise.prototype.finally = function () { throw new Error('finally hijacked') };
      result = { value: 5 }`,
      { category: null },
    );
    assert.deepEqual(r.output, { value: 5 });
  });

  // Thenable pollution: a `then` getter on Object.prototype turns every object into a thenable, so every
  // `await` and every async return of an object (including tool replies) runs attacker code.
  test('Object.prototype.then getter makes every object a thenable', async () => {
    const r = await attack(
      executor,
      `
      Object.defineProperty(Object.prototype, 'then', { get() { return (resolve) => resolve('hijacked') }, configurable: true });
      const reply = await db.query('x');
      result = { reply, plain: 1 }`,
      { category: null, tools },
    );
    // The pollution only rewrites the code's own values: the whole result object resolved through it.
    assert.equal(r.output, 'hijacked');
    assert.deepEqual(lastReceived(), ['x']);
  });

  // vm2 test/vm.js "various attacks #1" #3-#5 and #2 #1 (Reflect.construct, String, Object.assign replaced to
  // subvert the sandbox's own plumbing): replace JSON.stringify/JSON.parse, which the runtime uses to send the
  // result and tool arguments and to read tool replies. It captured the originals before the code ran.
  test('JSON.stringify / JSON.parse replaced (vm2 "various attacks")', async () => {
    const r = await attack(
      executor,
      `
      JSON.stringify = () => '{"forged":true';
      JSON.parse = () => ({ forged: true });
      const rows = await db.query('select 1');
      result = { rows, ok: 1 }`,
      { category: null, tools },
    );
    assert.deepEqual(r.output, { rows: [{ id: 1, args: ['select 1'] }], ok: 1 });
  });

  // vm2 test/vm.js "various attacks #2" #3 (Array.prototype.map replaced) and the "Silent Spring" gadgets
  // (Shcherbakov et al., USENIX Security 2023): polluted prototypes alter what trusted code computes. A polluted
  // Object.prototype.toJSON used to swallow the runtime's error report (the run then ended as a silent
  // timeout); the report is now built on a null-prototype object (fixed in sandbox/runtime.ts).
  test('Object.prototype.toJSON, String.prototype.slice, Function.prototype.call polluted before a throw', async () => {
    const r = await attack(
      executor,
      `
      Object.prototype.toJSON = () => undefined;
      String.prototype.slice = () => { throw new Error('slice hijacked') };
      Function.prototype.call = () => { throw new Error('call hijacked') };
      Array.prototype.map = () => { throw new Error('map hijacked') };
      throw new Error('boom')`,
      { category: 'runtime' },
    );
    assert.match(r.error ?? '', /^Error: boom/);
  });

  // Prototype pollution (Arteau, "Prototype pollution attacks in NodeJS applications", NorthSec 2018) must
  // not outlive the execution: every execution gets a fresh isolate. Pollute everything, then check that the
  // following executions, on every worker, see pristine built-ins.
  test('pollution of every built-in does not reach the next execution', async () => {
    await attack(
      executor,
      `
      Object.prototype.polluted = 'yes';
      Object.defineProperty(Object.prototype, 'toString', { value: () => 'polluted' });
      Array.prototype.push = () => { throw new Error('push polluted') };
      Function.prototype.toString = () => 'polluted';
      JSON.stringify = () => 'polluted';
      Math.random = () => 4;
      Error.prepareStackTrace = () => 'polluted';
      globalThis.leftover = 'from the previous execution';
      Object.freeze(Object.prototype);
      result = 1`,
      { category: null },
    );
    const check = `result = [({}).polluted, typeof globalThis.leftover, Object.prototype.toString.call([]),
      Math.random() < 1, JSON.stringify({ a: [1] }), typeof Error.prepareStackTrace, Object.isFrozen(Object.prototype),
      (() => { const a = []; a.push(1); return a.length })()]`;
    const runs = await Promise.all([0, 1, 2, 3].map(() => executor.execute({ code: check })));
    for (const r of runs) {
      assert.deepEqual(r.output, [null, 'undefined', '[object Array]', true, '{"a":[1]}', 'undefined', false, 1]);
    }
  });

  // A worker keeps its isolate for the next execution (a new context each time) when a run ends on its own.
  // With one worker every run below shares that isolate: what a finished run left behind (an unawaited tool
  // call whose reply comes later, a cleanup callback, globals) must not reach the next run's logs, tool
  // counts, result or built-ins.
  test('a finished run leaves nothing that reaches the next run in the same isolate', async () => {
    const single = new Executor({ workers: 1, limits: { timeoutMs: 2000, memoryMb: 64 } });
    try {
      let release: () => void = () => {};
      const slow = new Promise<void>((resolve) => {
        release = resolve;
      });
      const calls: string[] = [];
      const leftoverTools = {
        db: {
          slow: async () => {
            calls.push('slow');
            await slow;
            return 'late reply';
          },
          fast: async () => {
            calls.push('fast');
            return 'fast reply';
          },
        },
      };
      const first = await single.execute({
        code: `
          globalThis.leftover = 'first run';
          db.slow().then((reply) => { console.log('first run saw ' + reply); db.fast(); });
          result = [typeof FinalizationRegistry, typeof WeakRef]`,
        tools: leftoverTools,
      });
      assert.equal(first.status, 'success', first.error ?? '');
      // FinalizationRegistry callbacks would run whenever the GC decides, possibly during a later run.
      assert.deepEqual(first.output, ['undefined', 'function']);
      const second = single.execute({
        code: `
          console.log('second run');
          await new Promise((resolve) => resolve());
          result = [typeof globalThis.leftover, await db.fast()]`,
        tools: leftoverTools,
      });
      release();
      const r = await second;
      assert.equal(r.status, 'success', r.error ?? '');
      assert.deepEqual(r.output, ['undefined', 'fast reply']);
      assert.deepEqual(r.logs, ['second run']);
      assert.equal(r.toolCalls, 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The first run's slow call was made; its late reply went nowhere, so its follow-up call never happened.
      assert.deepEqual(calls, ['slow', 'fast']);
      const third = await single.execute({ code: 'result = typeof leftover' });
      assert.equal(third.output, 'undefined');
    } finally {
      await single.close();
    }
  });

  // vm2 test/vm.js "contextifying a contextified value attack" #5/#6: cut the prototype chain of
  // Function.prototype and Object.prototype accessors before the sandbox machinery runs.
  test('Function.prototype.__proto__ = null and Object.prototype accessors redefined (vm2 #175/#177/#186)', async () => {
    const r = await attack(
      executor,
      `
      Function.prototype.__proto__ = null;
      // Null-prototype descriptors, or the second definition would read the first one's planted accessor.
      Object.defineProperty(Object.prototype, 'get', { __proto__: null, get() { throw (x) => x.constructor('return process')() }, configurable: true });
      Object.defineProperty(Object.prototype, 'set', { __proto__: null, get() { throw (x) => x.constructor('return process')() }, configurable: true });
      Object.defineProperty(Object.prototype, 'value', { __proto__: null, get() { return 'polluted value' }, configurable: true });
      const rows = await db.query({ q: 1 });
      result = rows[0].args`,
      { category: null, tools },
    );
    assert.deepEqual(r.output, [{ q: 1 }]);
  });
});

describe('tool arguments', () => {
  // Re-entrant calls: a getter in the arguments, run while the runtime serializes them, calls a tool itself
  // (the inner call is issued in the middle of the outer one).
  test('argument getter re-enters the tool bridge', async () => {
    const before = received.length;
    const r = await attack(
      executor,
      `
      const arg = { get nested() { db.query('inner'); return 'outer-value' } };
      result = await db.query(arg)`,
      { category: null, tools },
    );
    assert.deepEqual(r.output, [{ id: 1, args: [{ nested: 'outer-value' }] }]);
    assert.equal(r.toolCalls, 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const calls = received.slice(before);
    assert.deepEqual(calls.map((c) => JSON.stringify(c)).sort(), ['["inner"]', '[{"nested":"outer-value"}]']);
  });

  // vm2 issue #178: proxies whose traps run attacker code when the other side enumerates them. A trap that
  // never returns is stopped by the time limit; one that hands over host bait is refused with a TypeError.
  test('Proxy arguments: ownKeys CPU bomb, get trap reaching for process', async () => {
    await attack(executor, `await db.query(new Proxy({}, { ownKeys() { while (true) {} } }))`, {
      category: 'timeout',
      tools,
      limits: { timeoutMs: 1000 },
    });
    const r = await attack(
      executor,
      `
      const p = new Proxy({}, { ownKeys() { return ['a'] }, getOwnPropertyDescriptor() { return { value: 1, enumerable: true, configurable: true } }, get(t, k) { return k === 'a' ? process : undefined } });
      try { await db.query(p) } catch (e) { result = e.name + ': ' + e.message }`,
      { category: null, tools },
    );
    assert.match(
      r.output as string,
      /^TypeError: The arguments of tool db\.query cannot be sent to the host: process is not defined/,
    );
  });

  // Server-side prototype pollution through JSON (Arteau 2018; lodash CVE-2019-10744 `constructor.prototype`
  // payload): tool arguments are parsed on the host. JSON.parse makes `__proto__` an own data property, so the
  // host's prototypes stay clean (the harness checks them after every attack).
  test('__proto__ and constructor.prototype keys in tool arguments', async () => {
    const r = await attack(
      executor,
      `
      const payload = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}');
      await db.query(payload);
      result = ({}).polluted === undefined`,
      { category: null, tools },
    );
    assert.equal(r.output, true);
    const [arg] = lastReceived() as [Record<string, unknown>];
    assert.ok(Object.hasOwn(arg, '__proto__'), 'the key arrived as an own property');
    assert.equal(Object.getPrototypeOf(arg), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  // GHSA-grj5-jjm8-h35p (CVE-2026-24118, vm2 "array species self-return"): an array whose
  // constructor[Symbol.species] returns itself made host-side Array methods write into attacker-controlled
  // arrays. Arguments and results cross as JSON text, so species never comes into play on the host.
  test('Symbol.species self-return on argument and result arrays (GHSA-grj5-jjm8-h35p)', async () => {
    const r = await attack(
      executor,
      `
      const r = [1, 2];
      function x() { return r }
      x[Symbol.species] = x;
      r.constructor = x;
      const sent = await db.query(r);
      result = r`,
      { category: null, tools },
    );
    assert.deepEqual(r.output, [1, 2]);
    const [arg] = lastReceived() as [unknown[]];
    assert.ok(Array.isArray(arg));
    assert.equal(arg.constructor, Array);
    assert.deepEqual(
      arg.map((v) => v),
      [1, 2],
    );
  });

  // A validated tool (defineTool with a zod schema) never sees arguments that fail the schema, whatever hooks
  // the code attached to them: values whose toJSON turns them into something else, BigInts, functions.
  test('hooks that change argument types under a validated tool', async () => {
    let runs = 0;
    const strict = defineTool({
      name: 'strict.sum',
      description: 'adds two numbers',
      input: z.tuple([z.number(), z.number()]),
      run: async (a: number, b: number) => {
        runs += 1;
        return a + b;
      },
    });
    const r = await attack(
      executor,
      `
      const outcomes = [];
      const sneaky = { toJSON() { return 'not a number' }, valueOf() { return 1 } };
      for (const args of [[sneaky, 2], [1n, 2], [() => 1, 2], [new Number(1), 2]]) {
        try { outcomes.push(await strict.sum(...args)) } catch (e) { outcomes.push(e.name) }
      }
      result = outcomes`,
      { category: null, tools: [strict] },
    );
    assert.deepEqual(r.output, ['ToolError', 'TypeError', 'ToolError', 3]);
    assert.equal(runs, 1);
  });
});

describe('host tools that fail badly', () => {
  // isolated-vm #314 ("UnhandledPromiseRejection crashes whole application": a host function that rejects at
  // once, handed to an isolate, took the Node process down) and #417 (errors thrown by a host async function
  // before its first await cannot be caught in the isolate). Tool calls here never hand a host promise to the
  // isolate: every outcome becomes a reply message. Code provoking each bad shape of failure must get a
  // catchable ToolError while this (host) process survives without an unhandled rejection.
  test('tools that reject at once, throw synchronously, throw non-errors or return non-JSON (isolated-vm #314, #417)', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad = {
      bad: {
        rejectNow: () => Promise.reject('Error'),
        throwSync: () => {
          throw new Error('sync throw');
        },
        throwBeforeAwait: async () => {
          throw new Error('before await');
        },
        throwNull: async () => {
          throw null;
        },
        throwHostile: async () => {
          throw {
            toString() {
              throw new Error('toString of the thrown value');
            },
          };
        },
        bigint: async () => 10n,
        circular: async () => circular,
      },
    };
    let unhandled = 0;
    const onUnhandled = (): void => {
      unhandled += 1;
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const r = await attack(
        executor,
        `
        const out = {};
        for (const name of Object.keys(bad)) {
          try { out[name] = await bad[name]() } catch (e) { out[name] = e.name + ': ' + e.message }
        }
        result = out`,
        { category: null, tools: bad },
      );
      const { circular: circularOutcome, ...outcomes } = r.output as Record<string, string>;
      assert.match(circularOutcome ?? '', /^ToolError: bad\.circular returned a value that cannot be sent as JSON/);
      assert.deepEqual(outcomes, {
        rejectNow: 'ToolError: bad.rejectNow failed: Error',
        throwSync: 'ToolError: bad.throwSync failed: sync throw',
        throwBeforeAwait: 'ToolError: bad.throwBeforeAwait failed: before await',
        throwNull: 'ToolError: bad.throwNull failed: null',
        throwHostile: 'ToolError: bad.throwHostile failed: unknown error',
        bigint:
          'ToolError: bad.bigint returned a value that cannot be sent as JSON: Do not know how to serialize a BigInt',
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(unhandled, 0);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  // Error-report flooding (CWE-779, "Logging of Excessive Data"): an error whose name, message and stack are
  // megabytes long. The report that reaches the host is clipped.
  test('megabyte-sized error name, message and stack', async () => {
    const r = await attack(
      executor,
      `
      const e = new Error('m'.repeat(5e6));
      e.name = 'N'.repeat(1e6);
      e.stack = 'S'.repeat(5e6);
      throw e`,
      { category: 'runtime' },
    );
    assert.ok((r.error ?? '').length < 10_000, `error of ${(r.error ?? '').length} characters`);
  });
});

describe('floods and caps', () => {
  // Tool-call flood (unbounded fan-out of host calls, OWASP API4:2023 "Unrestricted Resource Consumption"):
  // a synchronous loop issuing calls forever, and a burst of 1000 concurrent calls. Both stop at the cap.
  test('tool-call flood beyond the cap', async () => {
    const loop = await attack(executor, `for (;;) db.query('x')`, {
      category: 'tool',
      tools,
      limits: { maxToolCalls: 50 },
    });
    assert.equal(loop.toolCalls, 50);
    const burst = await attack(
      executor,
      `result = await Promise.all(Array.from({ length: 1000 }, (_, i) => db.query(i)))`,
      { category: 'tool', tools, limits: { maxToolCalls: 50 } },
    );
    assert.match(burst.error ?? '', /Too many tool calls: the limit is 50/);
  });

  // Same OWASP class for bytes: 4 MB of arguments against a 1 MB tool-byte cap.
  test('tool arguments beyond the byte cap', async () => {
    const r = await attack(executor, `await db.query('z'.repeat(4 << 20)); result = 1`, {
      category: 'output',
      tools,
      limits: { maxToolBytes: 1 << 20 },
    });
    assert.match(r.error ?? '', /Tool arguments and results exceeded the limit of 1048576 bytes/);
  });

  // A host tool returning more than the cap (2 MB against 1 MB): the reply is refused before it enters the
  // isolate.
  test('tool returning data beyond the byte cap', async () => {
    const r = await attack(executor, `const big = await db.big(); result = big.length`, {
      category: 'output',
      tools,
      limits: { maxToolBytes: 1 << 20 },
    });
    assert.match(r.error ?? '', /exceeded the limit/);
  });

  // DESIGN.md section 4: the wall-clock limit covers awaited work. A tool that never answers (or an
  // attacker who makes one hang) cannot hold the execution past its limit.
  test('waiting on a tool that never answers', async () => {
    await attack(executor, `result = await db.never()`, { category: 'timeout', tools, limits: { timeoutMs: 1000 } });
  });

  // Log flooding (OWASP Logging Cheat Sheet; CWE-779 "Logging of Excessive Data"): console output beyond
  // the cap ends the run with category output and keeps only what fits.
  test('console flood beyond the cap', async () => {
    const r = await attack(executor, `for (;;) console.log('x'.repeat(1000))`, {
      category: 'output',
      limits: { maxLogBytes: 64 * 1024 },
    });
    const bytes = r.logs.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
    assert.ok(bytes < 64 * 1024 + 2000, `kept ${bytes} bytes of logs`);
    assert.match(r.logs[r.logs.length - 1] ?? '', /console output cut at 65536 bytes/);
  });

  // Log injection (OWASP "Log Injection"): newlines and fake level prefixes cannot forge separate entries.
  // Plus hostile values handed to console.log: a getter that never returns, a Proxy whose traps throw.
  test('console.log with forged lines, throwing proxies and a getter CPU bomb', async () => {
    const r = await attack(
      executor,
      `
      console.log('real\\n[error] forged entry\\n[automesh] console output cut');
      console.log(new Proxy({}, { ownKeys() { throw new Error('trap') }, getPrototypeOf() { throw () => process } }));
      result = 1`,
      { category: null },
    );
    assert.equal(r.logs.length, 2);
    assert.equal(r.logs[0], 'real\n[error] forged entry\n[automesh] console output cut');
    assert.match(r.logs[1] ?? '', /uninspectable/);
    await attack(executor, `console.log({ get x() { while (true) {} } })`, {
      category: 'timeout',
      limits: { timeoutMs: 1000 },
    });
  });
});

test('the host tools saw only plain data', () => {
  for (const args of received) {
    assert.ok(Array.isArray(args));
    assertNoEscape(args);
    assert.doesNotThrow(() => JSON.stringify(args));
  }
});
