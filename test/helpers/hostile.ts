// Shared harness of the hostile-code suite (test/hostile-*.test.ts).
//
// Every attack goes through `attack()`, which checks the four properties each technique must leave intact:
//   1. the host stays alive and responsive: its event loop keeps ticking during the attack, and nothing the
//      code did changed the host's own built-ins (Object.prototype and friends);
//   2. no host object is reached: the secret planted in the host environment appears nowhere in the result,
//      and each test also checks what the code itself reports it found;
//   3. the execution ends within its time limit plus a margin (larger when a worker process has to die);
//   4. the executions that follow work, on every worker of the pool.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  type ExecutionErrorCategory,
  type ExecutionLimits,
  type ExecutionResult,
  Executor,
  type ToolsInput,
} from '../../src/index.js';

/** Planted in the host environment before any worker exists; no execution may ever see it. */
export const SECRET_NAME = 'AUTOMESH_TEST_SECRET';
export const SECRET = `hostile-suite-${randomBytes(12).toString('hex')}`;

/** Pool size of the suite's executors; `attack()` checks this many follow-up executions at once. */
export const WORKERS = 2;
/** Default limits of the suite: small, so that bombs end fast. */
export const DEFAULT_LIMITS = { timeoutMs: 1500, memoryMb: 64 } as const;
/** Milliseconds the pool waits past a time limit before it kills a wedged worker. */
export const GRACE_MS = 500;
/** Allowed overrun of the time limit when the worker survives (timer latency, dispose, IPC on a busy box). */
export const MARGIN_MS = 1000;
/** Allowed overrun when a worker process dies or is killed and replaced (grace period, restart). */
export const CRASH_MARGIN_MS = 1500 + GRACE_MS;

/**
 * Creates the suite's executor. The secret goes into the host environment first, so that a worker that
 * inherited the host environment would carry it.
 */
export function createHostileExecutor(): Executor {
  process.env[SECRET_NAME] = SECRET;
  return new Executor({ workers: WORKERS, graceMs: GRACE_MS, limits: { ...DEFAULT_LIMITS } });
}

/**
 * Prepended to escape attempts. `reach(() => candidate)` runs an attempt to get hold of the host `process` and
 * says what happened: `ESCAPED:<pid>` would mean a Node.js process object was reached; `no:<typeof>` that the
 * attempt ran but produced no process; `blocked:<ErrorName>` that it threw.
 */
export const REACH = `
function reach(attempt) {
  try {
    const p = attempt();
    if (p && (typeof p === 'object' || typeof p === 'function') && typeof p.pid === 'number' && p.env) return 'ESCAPED:' + p.pid;
    // An attempt through an async function constructor yields a rejected promise: handle it, or its unhandled
    // rejection would fail the whole run (isolated-vm reports unhandled rejections as errors of the run).
    if (p instanceof Promise) { p.catch(() => {}); return 'no:promise' }
    return 'no:' + typeof p;
  } catch (e) {
    return 'blocked:' + (e && e.name);
  }
}
`;

/** Asserts that every probe report in `value` (strings made by `reach`) shows a failed attempt. */
export function assertNoEscape(value: unknown): void {
  const text = JSON.stringify(value) ?? '';
  assert.doesNotMatch(text, /ESCAPED/, `an attempt reached a host object: ${text}`);
}

export interface AttackOptions {
  limits?: Partial<ExecutionLimits>;
  tools?: ToolsInput;
  context?: unknown;
  /**
   * The category the attack must end with: `null` for success, a list when the engine may legitimately end
   * it more than one way (say a heap limit hit before or after the time limit), `undefined` to leave it open.
   */
  category?: ExecutionErrorCategory | null | ReadonlyArray<ExecutionErrorCategory | null>;
  /** Allowed overrun of the time limit in ms (default {@link MARGIN_MS}). */
  margin?: number;
}

interface Heartbeat {
  stop(): number;
}

/** Ticks the host event loop every 10 ms; `stop()` returns the longest gap seen. */
function heartbeat(): Heartbeat {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(worst, performance.now() - last);
    },
  };
}

/** Longest acceptable stall of the host event loop during an attack. */
const MAX_HOST_STALL_MS = 750;

const HOST_BUILTINS: Array<[string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['Promise.prototype', Promise.prototype],
  ['String.prototype', String.prototype],
  ['Error', Error],
  ['JSON', JSON],
  ['globalThis', globalThis],
];

function snapshotHost(): string[] {
  return HOST_BUILTINS.map(([name, target]) => `${name}: ${Reflect.ownKeys(target).map(String).sort().join(',')}`);
}

const hostBaseline = snapshotHost();
const hostJsonStringify = JSON.stringify;
const hostPromiseThen = Promise.prototype.then;

/** Checks that the host's own built-ins are as they were when the suite started. */
export function assertHostIntact(): void {
  assert.deepEqual(snapshotHost(), hostBaseline, 'the host built-ins changed');
  assert.equal(JSON.stringify, hostJsonStringify);
  assert.equal(Promise.prototype.then, hostPromiseThen);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(process.env[SECRET_NAME], SECRET);
}

/** Runs `result = 1 + 1` on every worker at once: each must answer 2. */
export async function assertNextExecutionsWork(executor: Executor): Promise<void> {
  const runs = await Promise.all(Array.from({ length: WORKERS }, () => executor.execute({ code: 'result = 1 + 1' })));
  for (const r of runs) {
    assert.equal(r.status, 'success', `a following execution failed: ${r.errorCategory}: ${r.error}`);
    assert.equal(r.output, 2);
  }
}

function isList<T>(value: T | ReadonlyArray<T>): value is ReadonlyArray<T> {
  return Array.isArray(value);
}

/** Runs hostile `code` and checks the four properties listed at the top of this file. */
export async function attack(executor: Executor, code: string, options: AttackOptions = {}): Promise<ExecutionResult> {
  const limits = { ...executor.limits, ...options.limits };
  const beat = heartbeat();
  const r = await executor.execute({ code, tools: options.tools, context: options.context, limits: options.limits });
  const stall = beat.stop();

  // 1. The host is alive (we are still here), its event loop kept running, its built-ins are untouched.
  assert.ok(stall < MAX_HOST_STALL_MS, `the host event loop stalled for ${Math.round(stall)} ms`);
  assertHostIntact();

  // 2. Nothing of the host environment came back, in any field of the result.
  const everything = hostJsonStringify(r);
  assert.ok(!everything.includes(SECRET), 'the host secret leaked into the result');
  assert.equal(r.status === 'success', r.errorCategory === null);

  // 3. Ended within its limit.
  const margin = options.margin ?? MARGIN_MS;
  assert.ok(
    r.durationMs < limits.timeoutMs + margin,
    `took ${Math.round(r.durationMs)} ms, limit ${limits.timeoutMs} ms + margin ${margin} ms (${r.errorCategory}: ${r.error})`,
  );

  if (options.category !== undefined) {
    const expected = options.category;
    const allowed: ReadonlyArray<ExecutionErrorCategory | null> = isList(expected) ? expected : [expected];
    assert.ok(
      allowed.includes(r.errorCategory),
      `expected category ${allowed.join(' or ')}, got ${r.errorCategory}: ${r.error} (output ${hostJsonStringify(r.output)})`,
    );
  }

  // 4. What comes next works.
  await assertNextExecutionsWork(executor);
  return r;
}
