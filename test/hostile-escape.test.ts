// Hostile code, part 1: attempts to escape the sandbox and reach the host (`process`, `require`, host
// functions, the host environment). Each test adapts one published technique and cites it: vm2 advisories
// and regression tests (written against node:vm, whose realms share a heap with the host), node:vm escape
// write-ups, and V8 stack-trace API tricks. Here the code runs in a separate V8 isolate inside a separate
// process, so the techniques must find nothing; the tests prove they do not and that nothing else breaks.
// See test/helpers/hostile.ts for the properties every attack is checked for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import type { Executor } from '../src/index.js';
import { assertNoEscape, attack, createHostileExecutor, REACH, SECRET, SECRET_NAME } from './helpers/hostile.js';

let executor: Executor;

before(async () => {
  executor = createHostileExecutor();
  await executor.warm();
});

after(() => executor.close());

/** Host tools some attacks use: a host function that throws, one that returns a host object. */
class HostThing {
  secretMethod(): string {
    return 'host method ran';
  }
}
const hostConfig = {
  mode: 'host',
  nested: { level: 1 },
  method: () => 'host method ran',
  thing: new HostThing(),
  when: new Date(0),
};
const tools = {
  host: {
    boom: async (): Promise<never> => {
      throw new TypeError('host boom');
    },
    echo: async (...args: unknown[]) => args,
    object: async () => hostConfig,
  },
};

describe('node:vm escapes', () => {
  // safe-eval CVE-2017-16088 and vm2 test/vm.js "various attacks #1" #1: in node:vm the sandbox's global is
  // a host object, so `this.constructor.constructor` is the host Function and `return process` runs there.
  test('this.constructor.constructor("return process")()', async () => {
    const r = await attack(
      executor,
      `${REACH}
      result = [
        reach(() => this.constructor.constructor('return process')()),
        reach(() => globalThis.constructor.constructor('return process')()),
        reach(() => ({}).constructor.constructor('return process')()),
      ]`,
      { category: null },
    );
    assert.deepEqual(r.output, ['blocked:ReferenceError', 'blocked:ReferenceError', 'blocked:ReferenceError']);
  });

  // vm2 test/vm.js "various attacks #2" #7 and #8: climb from the global's prototype to a Function, get
  // `this` of a sloppy function (the real global in node:vm) and ask that realm for `process`.
  test("global.__proto__ climb to another realm's global", async () => {
    const r = await attack(
      executor,
      `${REACH}
      const realm = globalThis.__proto__.constructor.constructor('return this')();
      result = {
        sameGlobal: realm === globalThis,
        viaProto: reach(() => realm.constructor.constructor('return process')()),
        viaRealm: reach(() => realm.process),
      }`,
      { category: null },
    );
    assert.deepEqual(r.output, { sameGlobal: true, viaProto: 'blocked:ReferenceError', viaRealm: 'no:undefined' });
  });

  // DiceCTF 2023 "jwtjail" and the classic node:vm escapes: walk `arguments.callee.caller` (or `f.caller`)
  // up the stack to a host function that called into the sandbox, then use its constructor.
  test('arguments.callee.caller / Function.prototype.caller stack walk', async () => {
    const r = await attack(
      executor,
      `${REACH}
      function probe() {
        const found = [];
        let fn = arguments.callee;
        for (let i = 0; i < 20; i++) {
          let caller;
          try { caller = fn.caller } catch (e) { found.push('stop:' + e.name); break }
          if (!caller) { found.push('end'); break }
          found.push(reach(() => caller.constructor('return process')()));
          fn = caller;
        }
        return found;
      }
      result = probe()`,
      { category: null },
    );
    assertNoEscape(r.output);
    // The walk ends inside the sandbox: the runtime that calls user code is strict mode and does not show up.
    assert.ok((r.output as string[]).some((x) => x === 'end' || x.startsWith('stop:')));
  });

  // vm2 test/vm.js "eval/wasm": eval, indirect eval and the Function constructors of every function kind
  // compile code in the sandbox's own realm; none of them can see `process`.
  test('eval, indirect eval and the Function / AsyncFunction / GeneratorFunction constructors', async () => {
    const r = await attack(
      executor,
      `${REACH}
      const AsyncFunction = (async () => {}).constructor;
      const GeneratorFunction = (function* () {}).constructor;
      const AsyncGeneratorFunction = (async function* () {}).constructor;
      result = [
        reach(() => eval('process')),
        reach(() => (0, eval)('process')),
        reach(() => (0, eval)('this').process),
        reach(() => Function('return process')()),
        reach(() => new Function('return this')().process),
        reach(() => GeneratorFunction('yield process')().next().value),
        typeof AsyncFunction('return 1'), typeof AsyncGeneratorFunction('yield 1'),
        await AsyncFunction('try { return typeof process } catch (e) { return e.name }')(),
      ]`,
      { category: null },
    );
    assert.deepEqual(r.output, [
      'blocked:ReferenceError',
      'blocked:ReferenceError',
      'no:undefined',
      'blocked:ReferenceError',
      'no:undefined',
      'blocked:ReferenceError',
      'function',
      'function',
      'undefined',
    ]);
  });

  // Every vm2 PoC ends in `process.mainModule.require('child_process')`; DESIGN.md section 4 promises no
  // `process`, `require`, module system, timers or network. vm2 test/vm.js "timers" checks the same for
  // setTimeout and friends.
  test('host globals: process, require, module, Buffer, timers, fetch are absent', async () => {
    const names = [
      'process',
      'require',
      'module',
      'exports',
      '__dirname',
      '__filename',
      'Buffer',
      'global',
      'setTimeout',
      'setInterval',
      'setImmediate',
      'queueMicrotask',
      'structuredClone',
      'fetch',
      'XMLHttpRequest',
      'WebSocket',
      'performance',
      'navigator',
      'importScripts',
      'Deno',
      'Bun',
      'ivm',
      '_ivm',
      'isolated_vm',
    ];
    const r = await attack(
      executor,
      `
      result = ${JSON.stringify(names)}.filter((n) => {
        try { return eval('typeof ' + n) !== 'undefined' } catch (e) { return true }
      })`,
      { category: null },
    );
    assert.deepEqual(r.output, []);
  });

  // CVE-2021-23449 (GHSA-rjf2-j2r6-q8gr), vm2 <= 3.9.4: `import()` is syntax, not a function, so it bypassed
  // vm2's proxies and handed back a host promise: `import('./foo.js').toString.constructor('return this')()`.
  test('dynamic import() (CVE-2021-23449)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      const attempts = {};
      for (const spec of ['child_process', 'node:fs', './foo.js', 'data:text/javascript,export default 1']) {
        try { await import(spec); attempts[spec] = 'IMPORTED' } catch (e) { attempts[spec] = 'rejected:' + e.name }
      }
      const res = import('./foo.js');
      res.catch(() => {});
      attempts.viaPromise = reach(() => res.toString.constructor('return this')().process);
      attempts.meta = reach(() => eval('import.meta'));
      result = attempts`,
      { category: null },
    );
    const out = r.output as Record<string, string>;
    for (const [spec, outcome] of Object.entries(out)) {
      assert.doesNotMatch(outcome, /IMPORTED|ESCAPED/, spec);
    }
    assert.equal(out.viaPromise, 'no:undefined');
  });

  // The wrapper's own globals (`__automesh_main__`, the host callbacks `__automesh_log__`, `__automesh_tool__`,
  // `__automesh_done__`, `__automesh_start__`, `__automesh_deliver__`) are deleted before the code runs, and
  // the globals the runtime installs cannot be replaced. vm2 test/vm.js "various attacks #2" #6 probed the
  // same kind of internal handle (`boom.vmProxyTarget`).
  test('sandbox internals: no __automesh_* handle is left, tools and context cannot be swapped', async () => {
    const r = await attack(
      executor,
      `
      const keys = Reflect.ownKeys(globalThis).map(String);
      const leftovers = keys.filter((k) => /automesh|ivm|isolated/i.test(k));
      const names = ['__automesh_main__', '__automesh_log__', '__automesh_tool__', '__automesh_done__',
        '__automesh_start__', '__automesh_deliver__'];
      // \`__automesh_main__\` stays visible inside the code as the name of the function expression that wraps
      // it: that is the code's own function; calling it only runs the same code again.
      const reachable = names.filter((n) => { try { return eval('typeof ' + n) !== 'undefined' } catch (e) { return true } });
      const ownWrapper = typeof __automesh_main__ === 'function' && String(__automesh_main__).includes('ownWrapper');
      const swaps = [];
      try { tools = {} } catch (e) { swaps.push('tools:' + e.name) }
      try { context = {} } catch (e) { swaps.push('context:' + e.name) }
      try { host.echo = () => 'hijacked' } catch (e) { swaps.push('host.echo:' + e.name) }
      try { delete globalThis.host } catch (e) { swaps.push('delete:' + e.name) }
      try { context.secret = 1 } catch (e) { swaps.push('context.secret:' + e.name) }
      const echoed = await tools.host.echo('still mine');
      result = { leftovers, reachable, ownWrapper, swaps, echoed, frozen: Object.isFrozen(context) && Object.isFrozen(tools) }`,
      { category: null, tools, context: { task: 'x' } },
    );
    const out = r.output as Record<string, unknown>;
    assert.deepEqual(out.leftovers, []);
    assert.deepEqual(out.reachable, ['__automesh_main__']);
    assert.equal(out.ownWrapper, true);
    assert.deepEqual(out.echoed, ['still mine']);
    assert.equal(out.frozen, true);
  });

  // Every vm2 PoC's payload reads the host environment (`process.env`) or runs a command. The host put a
  // secret into its environment before creating the executor; the workers get a scrubbed environment, so even
  // a full escape into the worker process would not find it. Here every route the code has is tried; the
  // harness also checks that the secret appears nowhere in any result of this suite.
  test(`host secrets: ${SECRET_NAME} cannot be read`, async () => {
    const r = await attack(
      executor,
      `${REACH}
      const routes = [
        () => process.env.${SECRET_NAME},
        () => globalThis.process.env,
        () => this.constructor.constructor('return process.env')(),
        () => Function('return this')().process.env,
        () => context.env,
        () => JSON.stringify(globalThis),
      ];
      result = routes.map((route) => { try { const v = route(); return typeof v === 'string' ? v : typeof v } catch (e) { return 'blocked:' + e.name } })`,
      { category: null, context: { note: 'no secrets here' } },
    );
    const out = r.output as string[];
    assert.ok(!JSON.stringify(out).includes(SECRET));
    assert.deepEqual(out.slice(0, 5), [
      'blocked:ReferenceError',
      'blocked:TypeError',
      'blocked:ReferenceError',
      'blocked:TypeError',
      'undefined',
    ]);
  });
});

describe('Error.prepareStackTrace and stack tricks', () => {
  // V8 stack trace API (v8.dev/docs/stack-trace-api) as used against vm2 (issue #515, CVE-2022-36067): a
  // custom prepareStackTrace receives CallSite objects whose getThis()/getFunction() hand out the receivers
  // and functions of every frame, including frames of the code that called into the sandbox.
  test('CallSite getThis() / getFunction() over every frame', async () => {
    const r = await attack(
      executor,
      `${REACH}
      const report = [];
      Error.prepareStackTrace = (err, frames) => frames;
      const frames = new Error('probe').stack;
      Error.prepareStackTrace = undefined;
      for (const f of frames) {
        const self = f.getThis();
        const fn = f.getFunction();
        report.push({
          file: String(f.getFileName()),
          self: self === undefined ? 'undefined' : self === globalThis ? 'sandbox-global' : typeof self,
          fn: fn === undefined ? 'undefined' : typeof fn,
          viaThis: reach(() => self && self.constructor.constructor('return process')()),
          viaFn: reach(() => fn && fn.constructor('return process')()),
          processOnThis: reach(() => self && self.process),
        });
      }
      result = report`,
      { category: null },
    );
    assertNoEscape(r.output);
    const frames = r.output as Array<Record<string, string>>;
    // The runtime frame that started the code (automesh-runtime.js) is strict: it gives neither `this` nor itself.
    const runtime = frames.filter((f) => f.file === 'automesh-runtime.js');
    assert.ok(runtime.length > 0);
    for (const f of runtime) assert.deepEqual([f.self, f.fn], ['undefined', 'undefined']);
    assert.ok(frames.every((f) => f.file === 'automesh-runtime.js' || f.file === 'user-code.js'));
  });

  // Error.captureStackTrace (same V8 API) attaches a stack to any object; with a prepareStackTrace hook it is
  // another way to obtain CallSites, here from inside a getter that the runtime itself triggers while it
  // serializes the result (the only runtime frames that run user code).
  test('Error.captureStackTrace from inside a getter run by the runtime', async () => {
    const r = await attack(
      executor,
      `${REACH}
      let seen = 'getter not run';
      result = {
        get probe() {
          const holder = {};
          Error.prepareStackTrace = (e, frames) => frames;
          Error.captureStackTrace(holder);
          const frames = holder.stack;
          Error.prepareStackTrace = undefined;
          seen = frames.map((f) => [String(f.getFileName()), typeof f.getThis(), typeof f.getFunction(),
            reach(() => f.getFunction().constructor('return process')())].join(' '));
          return seen;
        },
      }`,
      { category: null },
    );
    assertNoEscape(r.output);
    const probe = (r.output as { probe: string[] }).probe;
    assert.ok(
      probe.some((line) => line.startsWith('automesh-runtime.js undefined undefined')),
      probe.join('\n'),
    );
  });

  // CVE-2022-36067 "SandBreak" (GHSA-mrgp-mrhc-5jrq, Oxeye): node:vm consulted the prepareStackTrace of
  // whatever `globalThis.Error` was, so replacing `Error` with a plain object defeated vm2's wrapper, and
  // `traces[0].getThis()` was a host object: `traces[0].getThis().process.mainModule.require(...)`.
  test('SandBreak: globalThis.Error replaced, prepareStackTrace reads traces[0].getThis()', async () => {
    const r = await attack(
      executor,
      `${REACH}
      globalThis.OldError = globalThis.Error;
      const seen = [];
      const hook = function (errStr, traces) {
        const self = traces[0].getThis();
        seen.push(reach(() => self.process), reach(() => self.constructor.constructor('return process')()));
        return 'stack';
      };
      globalThis.Error = { prepareStackTrace: hook };
      const { stack } = new OldError();
      OldError.prepareStackTrace = hook;
      const second = new OldError().stack;
      globalThis.Error = OldError;
      result = { seen, stack: typeof stack, second }`,
      { category: null },
    );
    assertNoEscape(r.output);
    assert.deepEqual((r.output as { seen: string[] }).seen, ['no:undefined', 'blocked:ReferenceError']);
  });

  // CVE-2023-29017 (GHSA-7jxr-cg7f-gpgv), vm2 < 3.9.15: an error thrown in async code was formatted by the
  // host, which passed host CallSite arrays to the sandbox's prepareStackTrace:
  // `Error.prepareStackTrace = (e, frames) => frames.constructor.constructor('return process')()...`
  // followed by `(async () => {}).constructor('return process')()`.
  test('async error formatted through a hostile prepareStackTrace (CVE-2023-29017)', async () => {
    // The PoC verbatim: its rejection is left unhandled, and an unhandled rejection fails the run like an
    // uncaught exception would; the error text is the sandbox's own ReferenceError.
    const verbatim = await attack(
      executor,
      `
      Error.prepareStackTrace = (e, frames) => {
        frames.constructor.constructor('return process')().mainModule.require('child_process').execSync('touch flag');
      };
      (async ()=>{}).constructor('return process')()`,
      { category: 'runtime' },
    );
    assert.match(verbatim.error ?? '', /ReferenceError: process is not defined/);
    // The same with the rejection handled, so that the hook's findings come back.
    const handled = await attack(
      executor,
      `${REACH}
      const seen = [];
      Error.prepareStackTrace = (e, frames) => {
        seen.push(reach(() => frames.constructor.constructor('return process')()));
        return 'formatted';
      };
      const p = (async () => {}).constructor('return process')();
      try { await p } catch (e) { seen.push(String(e.stack)) }
      result = seen`,
      { category: null },
    );
    assert.deepEqual(handled.output, ['blocked:ReferenceError', 'formatted']);
  });

  // vm2 issue #444 (WeakMap.prototype.set override): replace the primitives a sandbox uses to track
  // objects, then read `stack` through a prepareStackTrace that returns the first frame's receiver:
  // `(_, c) => c.map(c => c.getThis()).find(a => a)` then `stack.process.exit(1)`.
  test('WeakMap.prototype.set override plus getThis() harvesting (vm2 #444)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      const { set } = WeakMap.prototype;
      WeakMap.prototype.set = function (v) { return set.call(this, v, v) };
      Error.prepareStackTrace = (_, c) => c.map((c) => c.getThis()).find((a) => a);
      const { stack } = new Error();
      Error.prepareStackTrace = undefined;
      result = { kind: stack === globalThis ? 'sandbox-global' : typeof stack, exit: reach(() => stack.process.exit(1)) }`,
      { category: null },
    );
    assert.deepEqual(r.output, { kind: 'sandbox-global', exit: 'blocked:TypeError' });
  });

  // vm2 issue #562, "error generation primitive": `error.name = Symbol(); error.stack` made V8 throw a TypeError
  // created by host code while formatting. Here any such error belongs to the isolate's realm.
  test('Symbol error name makes stack formatting throw (vm2 #562)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      const e = new Error('x');
      e.name = Symbol('evil');
      const out = [];
      for (const read of [() => e.stack, () => String(e), () => e.toString()]) {
        try { read(); out.push('no throw') } catch (t) {
          out.push((t instanceof TypeError ? 'sandbox TypeError ' : 'other ') + reach(() => t.constructor.constructor('return process')()));
        }
      }
      result = out`,
      { category: null },
    );
    assertNoEscape(r.output);
    assert.ok((r.output as string[]).some((x) => x.startsWith('sandbox TypeError blocked:ReferenceError')));
  });

  // Stack-trace spoofing, in the family of CVE-2023-32314 (an attacker-shaped error `name`/`stack` reaching
  // host-side formatting): the host maps `user-code.js:<line>:<column>` frames of the error's stack back to the
  // code as written. A forged frame at line 0 made the source-map library throw in the host, so `execute()`
  // rejected instead of reporting the failure (found by this suite, fixed in src/sandbox/compile.ts).
  test('forged stack frames with impossible positions (TypeScript source map path)', async () => {
    for (const frame of [
      'user-code.js:0:1',
      'user-code.js:1:0',
      'user-code.ts:99999999999999999999:1',
      'user-code.js:-1:-1',
    ]) {
      const r = await attack(
        executor,
        `
        const typed: number = 1;
        const e = new Error('forged');
        e.stack = 'Error: forged\\n    at evil (${frame})\\n    at other (user-code.js:2:3)';
        throw e`,
        { category: 'runtime' },
      );
      assert.match(r.error ?? '', /forged/);
    }
  });
});

describe('vm2 advisories: host exceptions and promises', () => {
  // CVE-2019-10761 (GHSA-wf5x-cr3r-xr77), vm2 < 3.6.11: recurse to just below the stack limit, then call a
  // host function so that the stack overflows inside the host and the sandbox catches a host RangeError:
  // `i = r(i).constructor.constructor("return process")()`. The host-backed functions here are console.log
  // and a tool (both cross into the worker through isolated-vm callbacks). The PoC's unbounded retry loop
  // is bounded to keep the suite fast.
  test('stack overflow at the edge of a host call (CVE-2019-10761)', async () => {
    const r = await attack(
      executor,
      `
      function attempt(callHost) {
        function r(i) {
          var x = 0;
          try { x = r(i) } catch (e) {}
          if (typeof x !== 'number') return x;
          if (x !== i) return x + 1;
          try { callHost() } catch (e) { return e }
          return null;
        }
        for (let i = 1; i < 200; i++) {
          const e = r(i);
          if (e && typeof e === 'object') {
            try { return 'ESCAPED:' + typeof e.constructor.constructor('return process')() } catch (x) { return 'blocked:' + x.name }
          }
        }
        return 'no host error caught';
      }
      result = [attempt(() => console.log('edge')), attempt(() => host.echo('edge'))]`,
      { category: null, tools },
    );
    assertNoEscape(r.output);
  });

  // CVE-2023-29199 (GHSA-xj72-wvfv-8985), vm2 <= 3.9.15: a catch binding named `a$tmpname` slipped past vm2's
  // source transformer, so the caught (host) stack-overflow error was not sanitized:
  // `catch (a$tmpname) { a$tmpname.constructor.constructor('return process')() }`. The PoC reads
  // `new Error().stack` on every frame, which costs O(depth²) here; reading it every 1000th frame keeps the
  // same shape and finishes fast (the verbatim CPU cost is covered by hostile-resources.test.ts).
  test('catch binding $tmpname after a stack overflow (CVE-2023-29199)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      aVM2_INTERNAL_TMPNAME = {};
      let depth = 0;
      function stack() { if (++depth % 1000 === 0) new Error().stack; stack(); }
      try { stack(); } catch (a$tmpname) {
        result = [a$tmpname.name, reach(() => a$tmpname.constructor.constructor('return process')())];
      }`,
      { category: null },
    );
    assert.deepEqual(r.output, ['RangeError', 'blocked:ReferenceError']);
  });

  // CVE-2023-30547 (GHSA-ch3r-j5x3-6q2m), vm2 <= 3.9.16: throw a Proxy whose getPrototypeOf trap overflows the
  // stack while vm2's handleException inspects it, so a raw host error escapes; then
  // `catch ({constructor: c}) { c.constructor('return process')() }`. Thrown both caught and uncaught (the
  // runtime's own error reporting then inspects the proxy).
  test('thrown Proxy with a hostile getPrototypeOf trap (CVE-2023-30547)', async () => {
    const caught = await attack(
      executor,
      `${REACH}
      const err = {};
      const handler = { getPrototypeOf(target) { let d = 0; (function stack() { if (++d % 1000 === 0) new Error().stack; stack(); })(); } };
      const proxiedErr = new Proxy(err, handler);
      try { throw proxiedErr; } catch ({ constructor: c }) {
        result = reach(() => c.constructor('return process')());
      }`,
      { category: null },
    );
    assert.equal(caught.output, 'blocked:ReferenceError');
    const uncaught = await attack(
      executor,
      `
      throw new Proxy({}, {
        getPrototypeOf() { throw (x) => x.constructor.constructor('return process')() },
        get(target, key) { if (key === 'name' || key === 'message') throw (x) => x; return undefined },
      })`,
      { category: 'runtime' },
    );
    assert.doesNotMatch(uncaught.error ?? '', /ESCAPED/);
  });

  // CVE-2023-32314 (GHSA-whpj-8f3w-67p5), vm2 <= 3.9.17: `err.name = { toString: new Proxy(() => '', { apply(t,
  // thiz, args) { args.constructor.constructor('return process')() } }) }` and then `err.stack`: the host
  // formatted the stack and passed a host arguments array into the trap. Here the trap reports what `args`
  // gave it; it runs when the code reads the stack and again when the runtime reports the uncaught error.
  test('Proxy apply trap as error name toString (CVE-2023-32314)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      const err = new Error('m');
      err.name = {
        toString: new Proxy(() => '', {
          apply(target, thiz, args) { return 'trap:' + reach(() => args.constructor.constructor('return process')()) },
        }),
      };
      try { err.stack } catch (stdout) {}
      throw err`,
      { category: 'runtime' },
    );
    assert.match(r.error ?? '', /^trap:blocked:ReferenceError: m/);
  });

  // CVE-2023-37466 (GHSA-cchq-frgv-rjh5), vm2 <= 3.9.19: give a rejected promise a constructor whose
  // Symbol.species is a FakePromise, so `p.then()` calls the attacker's reject handler with a raw host error:
  // `(err) => err.constructor.constructor('return process')()`. Stack overflow sped up as for CVE-2023-29199.
  test('Promise Symbol.species FakePromise receives the rejection (CVE-2023-37466)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      let seen = 'handler not called';
      async function fn() { let d = 0; (function stack() { if (++d % 1000 === 0) new Error().stack; stack(); })(); }
      const p = fn();
      p.constructor = {
        [Symbol.species]: class FakePromise {
          constructor(executor) {
            executor((x) => x, (err) => { seen = err.name + ' ' + reach(() => err.constructor.constructor('return process')()) });
          }
        },
      };
      p.then();
      await null; await null;
      result = seen`,
      { category: null },
    );
    assert.equal(r.output, 'RangeError blocked:ReferenceError');
  });

  // CVE-2023-37903 (GHSA-g644-9gfx-q4q4), vm2 <= 3.9.19: Node's util.inspect called a sandbox object's
  // `Symbol.for('nodejs.util.inspect.custom')` method with the host `inspect` function, reached through
  // `WebAssembly.compileStreaming(obj)`. Here WebAssembly is gone and the sandbox console never calls custom
  // inspect hooks; the host only ever sees JSON text.
  test('nodejs.util.inspect.custom hook via WebAssembly.compileStreaming and console (CVE-2023-37903)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      const customInspectSymbol = Symbol.for('nodejs.util.inspect.custom');
      let called = 'never';
      const obj = {
        [customInspectSymbol]: (depth, opt, inspect) => { called = reach(() => inspect.constructor('return process')()); return 'INSPECTED' },
        valueOf: undefined,
        constructor: undefined,
      };
      let wasm;
      try { WebAssembly.compileStreaming(obj).catch(() => {}); wasm = 'ran' } catch (e) { wasm = 'blocked:' + e.name }
      console.log(obj);
      console.log({ nested: obj });
      result = { wasm, called, webAssembly: typeof WebAssembly }`,
      { category: null },
    );
    assert.deepEqual(r.output, { wasm: 'blocked:ReferenceError', called: 'never', webAssembly: 'undefined' });
    assert.ok(
      r.logs.every((line) => !line.includes('INSPECTED')),
      r.logs.join('\n'),
    );
  });

  // vm2 issue #174, "instanceof attack": throw a Proxy whose getPrototypeOf trap throws a function, hoping the
  // host calls it with a host object (`throw x => x.constructor.constructor("return process;")()`). The
  // runtime's console and error reporting do run such traps (inside the isolate); nothing of the host is
  // handed over.
  test('Proxy that throws functions from its traps (vm2 #174)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      const evil = new Proxy({}, {
        getPrototypeOf() { throw (x) => x.constructor.constructor('return process;')() },
        ownKeys() { throw (x) => x.constructor.constructor('return process;')() },
      });
      let caught = 'none';
      try { console.log(evil) } catch (f) { caught = typeof f === 'function' ? reach(() => f(() => {})) : 'threw ' + typeof f }
      try { evil instanceof Object } catch (f) { caught += ' / ' + reach(() => f(() => {})) }
      result = caught`,
      { category: null },
    );
    assertNoEscape(r.output);
    assert.match(r.output as string, /blocked:ReferenceError$/);
  });

  // vm2 test/vm.js "various attacks #1" #2: a host function throws; the sandbox catches the host error and
  // climbs `e.constructor.constructor`. Tool errors cross as a message and are rebuilt inside the isolate.
  test('error thrown by a host tool is an isolate-realm ToolError', async () => {
    const r = await attack(
      executor,
      `${REACH}
      try { await host.boom() } catch (e) {
        result = { name: e.name, message: e.message, sandboxError: e instanceof Error,
          climb: reach(() => e.constructor.constructor('return process')()), stack: typeof e.stack }
      }`,
      { category: null, tools },
    );
    assert.deepEqual(r.output, {
      name: 'ToolError',
      message: 'host.boom failed: host boom',
      sandboxError: true,
      climb: 'blocked:ReferenceError',
      stack: 'string',
    });
  });

  // GHSA-55hx-c926-fr95 (CVE-2026-26332), vm2 < 3.10.5: host errors smuggled inside AggregateError.errors[] /
  // SuppressedError.error escaped sanitization. Promise.any over failing host calls builds an AggregateError
  // whose sub-errors are tool errors; none of them leads anywhere.
  test('AggregateError sub-error smuggling through Promise.any (GHSA-55hx-c926-fr95)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      try { await Promise.any([host.boom(), host.boom(), Promise.reject(new TypeError('local'))]) } catch (e) {
        result = { aggregate: e instanceof AggregateError,
          subs: e.errors.map((x) => x.name + ' ' + reach(() => x.constructor.constructor('return process')())) }
      }`,
      { category: null, tools },
    );
    assert.deepEqual(r.output, {
      aggregate: true,
      subs: [
        'ToolError blocked:ReferenceError',
        'ToolError blocked:ReferenceError',
        'TypeError blocked:ReferenceError',
      ],
    });
  });

  // CVE-2026-44000 (vm2 < 3.11.0): a host promise resolving to a host object handed that object to the
  // sandbox with its identity, so the sandbox could call its methods and mutate host state. Tool results
  // cross as JSON copies: methods vanish, mutation stays inside.
  test('tool result is a copy, never the host object (CVE-2026-44000)', async () => {
    const r = await attack(
      executor,
      `${REACH}
      const o = await host.object();
      o.mode = 'sandbox'; o.nested.level = 99; o.injected = true;
      const again = await host.object();
      result = { method: typeof o.method, thing: JSON.stringify(o.thing), secretMethod: typeof (o.thing && o.thing.secretMethod),
        when: o.when, again: again.mode, againLevel: again.nested.level, plain: Object.getPrototypeOf(o) === Object.prototype,
        climb: reach(() => o.constructor.constructor('return process')()) }`,
      { category: null, tools },
    );
    assert.deepEqual(r.output, {
      method: 'undefined',
      thing: '{}',
      secretMethod: 'undefined',
      when: '1970-01-01T00:00:00.000Z',
      again: 'host',
      againLevel: 1,
      plain: true,
      climb: 'blocked:ReferenceError',
    });
    assert.deepEqual(Object.keys(hostConfig).sort(), ['method', 'mode', 'nested', 'thing', 'when']);
    assert.equal(hostConfig.mode, 'host');
    assert.equal(hostConfig.nested.level, 1);
    assert.ok(hostConfig.thing instanceof HostThing);
  });

  // GHSA-m5q2-4fm3-vfqp (vm2): `Symbol.for` registry symbols are shared across realms of one isolate, so the
  // sandbox could plant `nodejs.util.inspect.custom` / `nodejs.util.promisify.custom` hooks on objects the
  // host later inspected or promisified. Here the host receives JSON: symbol-keyed hooks do not survive.
  test('cross-realm Symbol.for hooks planted on tool arguments and results (GHSA-m5q2-4fm3-vfqp)', async () => {
    let received: unknown[] = [];
    const spy = {
      spy: {
        take: async (...args: unknown[]) => {
          received = args;
          return 'ok';
        },
      },
    };
    const r = await attack(
      executor,
      `
      const hooks = {
        [Symbol.for('nodejs.util.inspect.custom')]: () => 'HOOKED',
        [Symbol.for('nodejs.util.promisify.custom')]: () => 'HOOKED',
        [Symbol.toPrimitive]: () => 'HOOKED',
        visible: 1,
      };
      await spy.take(hooks);
      result = hooks`,
      { category: null, tools: spy },
    );
    assert.deepEqual(r.output, { visible: 1 });
    assert.deepEqual(received, [{ visible: 1 }]);
    assert.equal(Object.getOwnPropertySymbols(received[0] as object).length, 0);
    assert.doesNotMatch(inspect(received) + inspect(r.output) + String(r.output), /HOOKED/);
  });

  // DiceCTF 2023 "jwtjail" (node:vm): the sandbox returned an object whose toString the host later invoked
  // (`'Hello ' + res`), running sandbox code with host arguments. Results must be plain JSON data: objects
  // carrying functions are refused before anything reaches the host.
  test('result with toString / valueOf / Symbol.toPrimitive hooks for the host to call', async () => {
    const r = await attack(
      executor,
      `
      result = { toString() { return 'pwned' }, valueOf() { return 1 }, [Symbol.toPrimitive]() { return 'pwned' } }`,
      { category: 'output' },
    );
    assert.equal(r.output, null);
    assert.match(r.error ?? '', /function/);
  });
});

test('the planted secret is still only in the host', () => {
  assert.equal(process.env[SECRET_NAME], SECRET);
});
