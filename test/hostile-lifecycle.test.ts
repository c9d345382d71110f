// Hostile code, part 4: the end of a run. Code that keeps the worker busy exactly when a run is being stopped
// (tool replies still being delivered into the isolate) or that makes the worker's last message large. Every
// run must end in its own category, quickly, and never as a crashed or wedged worker.
// See test/helpers/hostile.ts for the properties every attack is checked for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ExecutionErrorCategory, ExecutionLimits, Executor } from '../src/index.js';
import { assertNextExecutionsWork, createHostileExecutor } from './helpers/hostile.js';

let executor: Executor;

before(async () => {
  executor = createHostileExecutor();
  await executor.warm();
});

after(() => executor.close());

/** Runs of each variant: the crashes and wedges this guards against showed up in about half of all runs. */
const RUNS = 10;
/** An echoing tool: 200 calls of 80 KB each put 16 MB of replies in flight at once. */
const tools = { host: { echo: async (text: string) => text } };
const FLOOD_ONCE = 'await Promise.all(Array.from({ length: 200 }, () => host.echo("y".repeat(80000)))); result = 1';
const FLOOD_FOREVER = 'for (;;) await Promise.all(Array.from({ length: 200 }, () => host.echo("y".repeat(80000))))';
/**
 * Neither the tool-byte cap nor the tool-call cap ends the variants stopped by the clock or the caller: on an idle
 * machine the first 200 replies come back well within 300 ms, and the next call would cross the call cap first.
 */
const UNCAPPED = { maxToolBytes: 1 << 30, maxToolCalls: 1_000_000 };

interface Variant {
  code: string;
  limits: Partial<ExecutionLimits>;
  abortAfterMs?: number;
  category: ExecutionErrorCategory;
  message: RegExp;
  /** Longest acceptable run, from submission to result. */
  withinMs: number;
}

async function runRepeatedly(variant: Variant): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Each run starts on a ready worker, so its duration is the run's own and not a replacement's start-up.
    await executor.warm();
    const controller = new AbortController();
    const timer =
      variant.abortAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), variant.abortAfterMs);
    const r = await executor.execute({ code: variant.code, tools, limits: variant.limits, signal: controller.signal });
    clearTimeout(timer);
    seen.push(`${r.errorCategory} in ${Math.round(r.durationMs)} ms`);
    assert.equal(
      r.errorCategory,
      variant.category,
      `run ${i}: ${r.errorCategory}: ${r.error} (runs so far: ${seen.join(', ')})`,
    );
    assert.match(r.error ?? '', variant.message);
    assert.ok(
      r.durationMs < variant.withinMs,
      `run ${i} took ${Math.round(r.durationMs)} ms, more than ${variant.withinMs} ms (runs so far: ${seen.join(', ')})`,
    );
  }
  await assertNextExecutionsWork(executor);
}

describe('a run stopped while tool replies are in flight', () => {
  // Issue 12, item 1: disposing the isolate while replies were being delivered into it crashed the worker with
  // SIGSEGV or wedged it until the host's deadline (time limit + grace). A memory-safety crash that untrusted
  // code can trigger at will is the first step of an escape.
  test('replies cross the tool-byte cap', async () => {
    // 16 MB of arguments cross the IPC channel first, which took up to 2 s on the 2-core VM at load 13: a time
    // limit far beyond that leaves the cap to end the run (`output`); a wedge would end as `crashed` past it.
    await runRepeatedly({
      code: FLOOD_ONCE,
      limits: { timeoutMs: 10_000 },
      category: 'output',
      message: /Tool arguments and results exceeded/,
      withinMs: 10_000,
    });
  });

  test('the time limit stops the run', async () => {
    await runRepeatedly({
      code: FLOOD_FOREVER,
      limits: { ...UNCAPPED, timeoutMs: 300 },
      category: 'timeout',
      message: /time limit of 300 ms/,
      withinMs: 1000,
    });
  });

  test("the caller's abort stops the run", async () => {
    await runRepeatedly({
      code: FLOOD_FOREVER,
      limits: UNCAPPED,
      abortAfterMs: 300,
      category: 'timeout',
      message: /cancelled by the caller/,
      withinMs: 1000,
    });
  });
});

describe("a retiring worker's last message", () => {
  // Issue 12, item 4: a run stopped by the console cap retires its worker, which sent its result and exited at
  // once; a result carrying ~250 KB of console output was lost (the run came back `crashed`, its logs gone, and
  // the repair was told the worker died). With the default cap of 256 KB.
  test('a run that logs past the console cap keeps its result and its logs', async () => {
    const code = 'for (let i = 0; ; i++) console.log(i + " " + "x".repeat(1000))';
    for (let i = 0; i < RUNS; i++) {
      const r = await executor.execute({ code, limits: { maxLogBytes: 256 * 1024 } });
      assert.equal(r.errorCategory, 'output', `run ${i}: ${r.errorCategory}: ${r.error}`);
      assert.match(r.error ?? '', /Console output exceeded the limit of 262144 bytes/);
      assert.ok(r.logs.length > 250, `run ${i} kept ${r.logs.length} log lines`);
      assert.match(r.logs[0] ?? '', /^0 x{1000}$/);
      assert.match(r.logs.at(-1) ?? '', /console output cut at 262144 bytes/);
    }
    await assertNextExecutionsWork(executor);
  });
});
