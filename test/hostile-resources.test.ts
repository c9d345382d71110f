// Hostile code, part 3: resource exhaustion. Memory bombs (including the isolated-vm issues where a bomb took
// the whole process down), CPU bombs, ReDoS, microtask floods, the removed SharedArrayBuffer/Atomics and
// WebAssembly, and compile-time bombs aimed at the host's compiler. Each ends with its category, within its
// limit plus a margin, and the next executions work. Each test cites the technique it adapts.
// See test/helpers/hostile.ts for the properties every attack is checked for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Executor } from '../src/index.js';
import { compileProgram } from '../src/sandbox/compile.js';
import { attack, CRASH_MARGIN_MS, createHostileExecutor } from './helpers/hostile.js';

let executor: Executor;

before(async () => {
  executor = createHostileExecutor();
  await executor.warm();
});

after(() => executor.close());

const FAST = { timeoutMs: 1000 };

/**
 * Bombs that reach the heap limit in about a second on a quiet machine end with `memory`; on a busy one the time
 * limit can come first. The worker's isolate is then not disposed in the middle of the bomb (which used to turn
 * the timeout into a V8 abort reported as `memory`) but retired with its worker, and the run ends `timeout`.
 */
const SLOW_BOMB = ['memory', 'timeout'] as const;

describe('memory bombs', () => {
  // isolated-vm #137 ("timeout doesn't work and nor does the memory limit", tracked in #107): Array(1e9).fill(0)
  // aborts the whole process on V8's fatal heap OOM. Only the worker dies; the pool reports `memory` from its
  // OOM report and replaces it.
  test('Array(1e9).fill(0) (isolated-vm #137)', async () => {
    const before = executor.workersStarted;
    const r = await attack(executor, 'Array(1e9).fill(0); result = 1', {
      category: SLOW_BOMB,
      margin: CRASH_MARGIN_MS,
    });
    assert.match(r.error ?? '', r.errorCategory === 'memory' ? /memory limit of 64 MB/ : /time limit of 1500 ms/);
    assert.ok(executor.workersStarted > before, 'the dead worker was replaced');
  });

  // isolated-vm #107 ("Can crash main process from inside Isolate"): `[...'.'.repeat(1e9)]`. V8 now caps
  // strings below 1e9 characters, so the string is 5e8 characters, still far past the 64 MB heap.
  test("[...'.'.repeat(5e8)] (isolated-vm #107)", async () => {
    await attack(executor, "result = [...'.'.repeat(5e8)].length", { category: SLOW_BOMB, margin: CRASH_MARGIN_MS });
  });

  // isolated-vm #186 ("memoryLimit is ignored when using Array.fill"): `new Array(1024 * 1024 * 60).fill()`
  // grew to gigabytes under an 8 MB limit. Here it is stopped by the memory limit or by the clock.
  test('new Array(1024 * 1024 * 60).fill() (isolated-vm #186)', async () => {
    await attack(executor, 'void (new Array(1024 * 1024 * 60).fill()); result = 1', {
      category: ['memory', 'timeout'],
      limits: FAST,
      margin: CRASH_MARGIN_MS,
    });
  });

  // isolated-vm #527 ("Basic code can crash the whole Node.js process"): a 100 MB ArrayBuffer copied element
  // by element into a plain Array aborted the process with is_heap_oom.
  test('ArrayBuffer copied into an Array (isolated-vm #527)', async () => {
    await attack(
      executor,
      `
      const arrayBuffer = new ArrayBuffer(100 * 1024 * 1024);
      let view = new Array(arrayBuffer.byteLength);
      let array = new Uint8Array(arrayBuffer);
      let i = view.length;
      while (i--) { view[i] = array[i]; }
      result = 1`,
      { category: 'memory', margin: CRASH_MARGIN_MS },
    );
  });

  // isolated-vm #236: the memory-limit example `while (true) array.push(Math.random().toString())`.
  test('unbounded array of strings (isolated-vm #236)', async () => {
    await attack(executor, 'const array = []; while (true) { array.push(Math.random().toString()); }', {
      category: SLOW_BOMB,
      margin: CRASH_MARGIN_MS,
    });
  });

  // isolated-vm #12 ("Segfault or ivm::js_error when making big strings in isolate"): string doubling. As a
  // rope (`s += s`) it hits V8's maximum string length at once; flattened every round it allocates for real
  // (hundreds of MB in a few steps, sometimes outside the isolate's heap accounting, where the worker's RSS
  // watchdog stops it). Run three times: the execution right after a watchdog stop used to be handed to the
  // exiting worker and die with it (found by this suite, fixed in src/sandbox/pool.ts and worker/main.ts).
  test('string doubling, as a rope and flattened (isolated-vm #12)', async () => {
    const rope = await attack(executor, "let s = 'x'; while (true) s += s;", { category: 'runtime' });
    assert.match(rope.error ?? '', /Invalid string length/);
    for (let i = 0; i < 3; i++) {
      await attack(executor, "let s = 'x'; for (;;) { s = (s + s).toLowerCase() }", {
        category: SLOW_BOMB,
        margin: CRASH_MARGIN_MS,
      });
    }
  });

  // Typed arrays and ArrayBuffers live outside the V8 heap; isolated-vm counts them against the same limit
  // through its array buffer allocator (isolated-vm #527 discussion). One 1 GB Float64Array, then many 1 MB
  // buffers that only add up.
  test('huge typed array and a pile of ArrayBuffers', async () => {
    const one = await attack(executor, 'result = new Float64Array(2 ** 27).length', { category: 'memory' });
    assert.match(one.error ?? '', /Array buffer allocation failed/);
    await attack(
      executor,
      'const a = []; for (let i = 0; i < 1000; i++) a.push(new ArrayBuffer(1 << 20)); result = a.length',
      { category: 'memory' },
    );
  });

  // Issue 12, item 5: a resizable ArrayBuffer grew past the heap limit (`resize()` is not counted by
  // isolated-vm's allocator) until the RSS watchdog stopped it at 580-900 MB. Workers run with
  // --no-harmony-rab-gsab: `maxByteLength` is ignored, and there is no `resize` to call.
  test('resizable ArrayBuffer grown past the heap limit', async () => {
    const r = await attack(
      executor,
      `
      const b = new ArrayBuffer(1, { maxByteLength: 2 ** 32 });
      const found = { resizable: b.resizable === true, resize: typeof b.resize, length: b.byteLength };
      let grown = 0;
      try { for (let size = 1 << 24; size <= 2 ** 28; size += 1 << 24) { b.resize(size); new Uint8Array(b).fill(1); grown = size } }
      catch (e) { found.error = e.name }
      found.grownMb = grown / 1048576;
      result = found`,
      { category: null },
    );
    assert.deepEqual(r.output, { resizable: false, resize: 'undefined', length: 1, error: 'TypeError', grownMb: 0 });
  });

  // Deep nesting in the result, aimed at the recursive JSON code of whoever reads it (the deeply nested JSON
  // denial of service of CVE-2020-36518, jackson-databind): up to a million nested arrays. Results nested
  // 5,000-19,999 levels deep used to pass the sandbox and then overflow the host's stack when it stored them
  // (issue 12, item 3); serialization inside the isolate now stops at 1000 levels, naming the limit.
  test('result nested a million levels deep', async () => {
    // `levels` arrays nested in each other: the innermost empty one and `levels - 1` around it.
    for (const levels of [1e6, 19_999, 5000, 1001]) {
      // Building a million nested arrays alone took 1.2 s of CPU on the loaded 2-core VM: room beyond 1500 ms.
      const r = await attack(executor, `let a = []; for (let i = 1; i < ${levels}; i++) a = [a]; result = a`, {
        category: 'output',
        limits: { timeoutMs: 5000 },
      });
      assert.match(r.error ?? '', /The result is nested more than 1000 levels deep \(the limit for results\)/);
    }
    const objects = await attack(
      executor,
      'let o = {}; for (let i = 0; i < 5000; i++) o = { o }; result = { wrapped: o }',
      { category: 'output' },
    );
    assert.match(objects.error ?? '', /nested more than 1000 levels deep/);
    // 1000 levels: an object holding 999 nested arrays.
    const ok = await attack(executor, 'let a = []; for (let i = 1; i < 999; i++) a = [a]; result = { a }', {
      category: null,
    });
    let depth = 1;
    for (let v = (ok.output as { a: unknown }).a; Array.isArray(v); v = v[0]) depth++;
    assert.equal(depth, 1000);
    // What passes can be stored: the host's own JSON.stringify, called from a deep stack, writes it.
    const nest = (n: number): string => (n === 0 ? JSON.stringify({ record: ok.output }) : nest(n - 1));
    assert.ok(nest(2000).length > 2000);
  });

  // Huge arrays in the result: a sparse array of length 1e8 serializes to 500 MB of `null,`; a dense one of
  // 1e6 short strings to ~9 MB. Neither is shipped.
  test('huge and sparse arrays as the result', async () => {
    await attack(executor, 'result = []; result.length = 1e8', {
      category: ['timeout', 'output', 'memory'],
      limits: FAST,
      margin: CRASH_MARGIN_MS,
    });
    const dense = await attack(executor, "result = new Array(1e6).fill('abcdef')", {
      category: ['output', 'memory', 'timeout'],
      margin: CRASH_MARGIN_MS,
    });
    assert.equal(dense.output, null);
  });
});

describe('host memory', () => {
  // Issue 12, item 5: the tool-byte cap was checked in the worker, after the host had serialized a 64 MiB tool
  // result and shipped it through IPC (+347 MB on the host, seconds of a blocked event loop). The host now
  // stops building the reply once it is sure to cross the cap, and never sends it.
  test('a 64 MiB tool result is refused before the host copies it', async () => {
    const big = 'x'.repeat(64 << 20);
    const tools = { files: { read: async () => big } };
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 2);
    try {
      const r = await attack(executor, 'const text = await files.read(); result = text.length', {
        tools,
        category: 'output',
      });
      assert.match(r.error ?? '', /Tool arguments and results exceeded the limit of 16777216 bytes/);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const grewMb = (peak - base) / 1048576;
    assert.ok(grewMb < 48, `the host grew by ${Math.round(grewMb)} MB while refusing the tool result`);
    // A result within the cap still arrives whole, with its multi-byte characters.
    const fits = await attack(executor, 'const text = await files.read(); result = [text.length, text.slice(0, 3)]', {
      tools: { files: { read: async () => 'é€'.repeat(1 << 20) } },
      category: null,
    });
    assert.deepEqual(fits.output, [2 << 20, 'é€é']);
  });
});

describe('host memory: the compile cache', () => {
  // Issue 12, item 5: compiled programs were cached by count (500 entries), so 210 large programs kept 421 MB
  // of the host's heap alive. The cache is now bounded by bytes.
  test('210 large programs do not stay in the host heap', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    for (let i = 0; i < 210; i++) {
      const outcome = await compileProgram(
        `const filler = '${'abcdefgh'.repeat(110_000)}';\nresult = ${i} + filler.length`,
      );
      assert.ok(outcome.ok, `program ${i} did not compile`);
    }
    gc();
    const grewMb = (process.memoryUsage().heapUsed - base) / 1048576;
    assert.ok(grewMb < 100, `the host heap kept ${Math.round(grewMb)} MB after compiling 210 programs of 880 KB`);
    // The cache still serves: the same small program again is the same compiled object.
    const small = 'result = 6 * 7';
    assert.equal(await compileProgram(small), await compileProgram(small));
  });
});

describe('CPU bombs', () => {
  // vm2 test/vm.js "timeout" (`while (true) {}`), the canonical runaway loop.
  test('while (true) {}', async () => {
    await attack(executor, 'while (true) {}', { category: 'timeout', limits: FAST });
  });

  // isolated-vm #113 and the discussion in #109: code that keeps running from promise callbacks after the
  // call that started it returned. An async loop that awaits forever never yields to anything else.
  test('while (true) await null', async () => {
    await attack(executor, 'while (true) { await null }', { category: 'timeout', limits: FAST });
  });

  // Microtask flood: each microtask schedules two more (exponential), and a promise that never settles keeps
  // the run waiting. Stopped by the clock (or the heap, as the queue grows).
  test('exponential microtask flood', async () => {
    await attack(
      executor,
      `
      await new Promise(() => {
        function f() { Promise.resolve().then(f); Promise.resolve().then(f) }
        f();
      })`,
      { category: ['timeout', 'memory'], limits: FAST, margin: CRASH_MARGIN_MS },
    );
  });

  // A microtask chain that outlives the result: the result is delivered, the chain is cut when the isolate
  // is disposed, and the worker takes the next execution (same isolated-vm #113 concern).
  test('microtask chain still spinning after the result', async () => {
    const r = await attack(executor, 'function f() { Promise.resolve().then(f) } f(); result = 1', { category: null });
    assert.equal(r.output, 1);
  });

  // DESIGN.md section 4: the limit is wall-clock and covers awaited work; a promise that never settles uses no
  // CPU and would otherwise hold a worker forever.
  test('a promise that never settles', async () => {
    await attack(executor, 'await new Promise(() => {})', { category: 'timeout', limits: FAST });
  });

  // The vm2 PoCs for CVE-2023-29199, CVE-2023-30547 and CVE-2023-37466 verbatim: `new Error().stack` read on
  // every frame of an unbounded recursion, which costs O(depth²) in V8. It is simply a CPU bomb here.
  test('verbatim stack-overflow recursion of the vm2 PoCs (CVE-2023-37466)', async () => {
    await attack(
      executor,
      `
      async function fn() { (function stack() { new Error().stack; stack(); })(); }
      p = fn();
      p.constructor = { [Symbol.species]: class FakePromise { constructor(executor) { executor((x) => x, (err) => err) } } };
      p.then();
      await p`,
      { category: ['timeout', 'runtime'], limits: FAST },
    );
  });

  // A getter that never returns inside tool arguments: the runtime serializes arguments inside the isolate,
  // under the time limit, before anything is sent.
  test('CPU bomb in a tool argument getter', async () => {
    const tools = { db: { query: async () => 1 } };
    await attack(executor, 'await db.query({ get x() { for (;;) {} } })', { category: 'timeout', limits: FAST, tools });
  });

  // FinalizationRegistry cleanup callbacks run whenever V8 decides, possibly after the result (isolated-vm #113:
  // code running outside the call that started it), and a worker's isolate serves the next run. The runtime
  // removes the constructor, so the spinning callback can never be registered; the run fails naming it.
  test('FinalizationRegistry callback that spins', async () => {
    const r = await attack(
      executor,
      `
      const fr = new FinalizationRegistry(() => { for (;;) {} });
      (function () { for (let i = 0; i < 2e5; i++) fr.register({ i }, i) })();
      result = 1`,
      { category: 'runtime', limits: FAST },
    );
    assert.match(r.error ?? '', /ReferenceError: FinalizationRegistry is not defined/);
  });
});

describe('ReDoS', () => {
  // OWASP "Regular expression Denial of Service - ReDoS": the evil pattern ^(a+)+$ against "aaaa...!".
  test('OWASP evil regex ^(a+)+$', async () => {
    await attack(executor, "result = /^(a+)+$/.test('a'.repeat(40) + '!')", { category: 'timeout', limits: FAST });
  });

  // OWASP ReDoS page, the e-mail validation example from the RegExLib library.
  test('OWASP e-mail validation regex', async () => {
    await attack(
      executor,
      `result = /^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$/
      .test('a'.repeat(40) + '!')`,
      { category: 'timeout', limits: FAST },
    );
  });

  // Cloudflare outage of 2 July 2019 (post-mortem "Details of the Cloudflare outage"): the WAF rule
  // `.*(?:.*=.*)` backtracked super-linearly on input without `=`.
  test('Cloudflare 2019 WAF regex .*(?:.*=.*)', async () => {
    await attack(executor, "result = /.*(?:.*=.*)/.test('x'.repeat(30000))", { category: 'timeout', limits: FAST });
  });
});

describe('removed primitives', () => {
  // SharedArrayBuffer + Atomics.wait blocks a thread outside V8's interrupt checks, so no timeout could stop
  // it (the reason browsers gated SharedArrayBuffer after Spectre, 2018). Both are removed, and neither can be
  // rebuilt from what is left (no WebAssembly.Memory({ shared: true }), no other path to the constructor).
  test('SharedArrayBuffer and Atomics.wait', async () => {
    const r = await attack(
      executor,
      `
      const found = { sab: typeof SharedArrayBuffer, atomics: typeof Atomics, wasm: typeof WebAssembly };
      try { found.memory = typeof new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer } catch (e) { found.memory = e.name }
      found.inGlobal = Reflect.ownKeys(globalThis).map(String).filter((k) => /Shared|Atomics|Assembly/.test(k));
      try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); found.waited = true } catch (e) { found.waited = e.name }
      result = found`,
      { category: null },
    );
    assert.deepEqual(r.output, {
      sab: 'undefined',
      atomics: 'undefined',
      wasm: 'undefined',
      memory: 'ReferenceError',
      inGlobal: [],
      waited: 'ReferenceError',
    });
  });

  // WebAssembly memory is allocated outside the V8 heap and not counted by isolated-vm's memory limit; the
  // worker runs with --no-expose-wasm and the runtime deletes the global. CVE-2023-37903 also went through
  // WebAssembly.compileStreaming. A minimal module is tried anyway.
  test('WebAssembly memory growth', async () => {
    const r = await attack(
      executor,
      `
      let outcome;
      try {
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
        for (;;) memory.grow(1024);
      } catch (e) { outcome = e.name }
      let viaEval;
      try { viaEval = typeof (0, eval)('WebAssembly.Memory') } catch (e) { viaEval = e.name }
      result = { outcome, viaEval }`,
      { category: null },
    );
    assert.deepEqual(r.output, { outcome: 'ReferenceError', viaEval: 'ReferenceError' });
  });
});

describe('compile-time bombs', () => {
  // Parser stack exhaustion ("billion laughs" for parsers; esbuild recurses per nesting level): 100000 nested
  // arrow functions and blocks. V8's parser gives up on the JavaScript form at once; the TypeScript form goes
  // to esbuild, whose Go stack may grow to 1 GB: nested arrows crashed its service (after which every
  // TypeScript execution failed for the life of the host) and nested blocks kept it busy for minutes. The
  // compile now counts against the time limit and a dead service is replaced (found by this suite, fixed in
  // src/sandbox/compile.ts).
  test('100000 nested arrows and blocks, as JavaScript and as TypeScript', async () => {
    const N = 100_000;
    const ts = 'const typed: number = 1;\n';
    const js = await attack(executor, `result = ${'(a)=>'.repeat(N)}1`, { category: 'syntax', limits: FAST });
    assert.match(js.error ?? '', /nested too deeply/);
    await attack(executor, `${ts}result = ${'(a)=>'.repeat(N)}1`, {
      category: ['timeout', 'crashed'],
      limits: FAST,
      margin: CRASH_MARGIN_MS,
    });
    await attack(executor, `${ts}${'{'.repeat(N)}${'}'.repeat(N)}\nresult = 1`, {
      category: ['timeout', 'crashed'],
      limits: FAST,
      margin: CRASH_MARGIN_MS,
    });
    // TypeScript still compiles afterwards.
    const after = await executor.execute({ code: 'const n: number = 21;\nresult = n * 2' });
    assert.equal(after.output, 42, after.error ?? '');
  });
});
