// Limits end only the execution that hits them; the pool replaces dead workers; 200 executions at once
// come back correct and unmixed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Executor, loadSandboxSettings } from '../src/index.js';
import { tempDir } from './helpers/temp.js';

let executor: Executor;

before(async () => {
  executor = new Executor({ workers: 2, limits: { timeoutMs: 1000, memoryMb: 32 }, graceMs: 500 });
  await executor.warm();
});

after(() => executor.close());

async function stillWorks(): Promise<void> {
  const r = await executor.execute({ code: 'result = 1 + 1' });
  assert.equal(r.output, 2, `follow-up execution failed: ${r.error}`);
}

describe('limits', () => {
  test('a synchronous infinite loop ends with timeout', async () => {
    const r = await executor.execute({ code: 'while (true) {}' });
    assert.equal(r.errorCategory, 'timeout');
    assert.ok(r.durationMs >= 1000 && r.durationMs < 2000, `took ${r.durationMs} ms`);
    await stillWorks();
  });

  test('an asynchronous loop (awaiting forever) ends with timeout', async () => {
    const r = await executor.execute({ code: 'while (true) { await null }' });
    assert.equal(r.errorCategory, 'timeout');
    assert.ok(r.durationMs < 2000, `took ${r.durationMs} ms`);
    await stillWorks();
  });

  test('a promise that never settles ends with timeout', async () => {
    const r = await executor.execute({ code: 'await new Promise(() => {})\nresult = 1' });
    assert.equal(r.errorCategory, 'timeout');
    await stillWorks();
  });

  test('a heap that grows past the limit ends with memory', async () => {
    const r = await executor.execute({
      code: 'const keep = []\nwhile (true) keep.push(new Array(1e5).fill(Math.random()))',
    });
    assert.equal(r.errorCategory, 'memory');
    assert.match(r.error ?? '', /memory limit of 32 MB/);
    await stillWorks();
  });

  test('large typed arrays count against the limit', async () => {
    const r = await executor.execute({
      code: 'const bufs = []\nfor (let i = 0; i < 100; i++) bufs.push(new Uint8Array(16 * 1024 * 1024).fill(1))\nresult = bufs.length',
    });
    assert.notEqual(r.status, 'success');
    assert.ok(r.errorCategory === 'memory' || r.errorCategory === 'runtime', `${r.errorCategory}: ${r.error}`);
    await stillWorks();
  });

  test('Array(1e9).fill(0) kills only its worker (isolated-vm #137) and is reported as memory', async () => {
    const before = executor.workersStarted;
    const bystander = executor.execute({ code: 'let s = 0\nfor (let i = 0; i < 1e6; i++) s += i\nresult = s' });
    const r = await executor.execute({ code: 'Array(1e9).fill(0)\nresult = 1', limits: { timeoutMs: 10_000 } });
    assert.equal(r.errorCategory, 'memory');
    assert.match(r.error ?? '', /brought down its sandbox worker/);
    assert.equal((await bystander).output, 499999500000);
    await stillWorks();
    assert.ok(executor.workersStarted > before, 'a replacement worker was started');
  });

  test('one execution timing out does not delay others', async () => {
    // The test before kills a worker; what is measured here is the pool beside a slow run, not a worker's start.
    await executor.warm();
    const slow = executor.execute({ code: 'while (true) {}' });
    const started = Date.now();
    const quick = await Promise.all(Array.from({ length: 5 }, (_, i) => executor.execute({ code: `result = ${i}` })));
    assert.deepEqual(
      quick.map((r) => r.output),
      [0, 1, 2, 3, 4],
    );
    assert.ok(Date.now() - started < 900, 'quick executions ran beside the slow one');
    assert.equal((await slow).errorCategory, 'timeout');
  });

  test('a caller abort ends the execution', async () => {
    const controller = new AbortController();
    const pending = executor.execute({
      code: 'while (true) {}',
      signal: controller.signal,
      limits: { timeoutMs: 10_000 },
    });
    setTimeout(() => controller.abort(), 100);
    const r = await pending;
    assert.equal(r.errorCategory, 'timeout');
    assert.match(r.error ?? '', /cancelled by the caller/);
    assert.ok(r.durationMs < 1000);
    await stillWorks();
  });

  test('bad limits are a programmer error naming the limit', async () => {
    await assert.rejects(
      executor.execute({ code: 'result = 1', limits: { memoryMb: 2 } }),
      /memoryMb must be a number >= 8/,
    );
    await assert.rejects(executor.execute({ code: 'result = 1', limits: { timeoutMs: Number.NaN } }), /timeoutMs/);
  });
});

describe('concurrency', () => {
  test('200 executions submitted at once all complete with correct, unmixed results', async () => {
    const runs = Array.from({ length: 200 }, (_, i) =>
      executor.execute({
        code: [
          'console.log("task " + context.i)',
          'const echoed = await echo.back(context.i)',
          'result = { i: context.i, square: context.i * context.i, echoed }',
        ].join('\n'),
        context: { i },
        tools: { echo: { back: async (v: number) => ({ v, from: i }) } },
      }),
    );
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      assert.equal(r.status, 'success', `#${i}: ${r.error}`);
      assert.deepEqual(r.output, { i, square: i * i, echoed: { v: i, from: i } });
      assert.deepEqual(r.logs, [`task ${i}`]);
    });
  });
});

describe('settings', () => {
  test('are read from the environment', () => {
    const s = loadSandboxSettings({ EXECUTION_TIMEOUT: '2.5', SANDBOX_MEMORY_MB: '64', SANDBOX_WORKERS: '3' });
    assert.equal(s.EXECUTION_TIMEOUT, 2.5);
    assert.equal(s.SANDBOX_MEMORY_MB, 64);
    assert.equal(s.SANDBOX_WORKERS, 3);
    assert.equal(s.SANDBOX_MAX_OUTPUT_BYTES, 1 << 20);
  });

  test('defaults follow DESIGN.md', () => {
    const s = loadSandboxSettings({});
    assert.equal(s.EXECUTION_TIMEOUT, 300);
    assert.equal(s.SANDBOX_MEMORY_MB, 128);
  });

  test('a bad value fails with a message naming the setting', () => {
    assert.throws(
      () => loadSandboxSettings({ SANDBOX_MEMORY_MB: 'lots' }),
      /SANDBOX_MEMORY_MB="lots": SANDBOX_MEMORY_MB must be a number/,
    );
    assert.throws(
      () => loadSandboxSettings({ SANDBOX_WORKERS: '0' }),
      /SANDBOX_WORKERS="0": SANDBOX_WORKERS must be between 1 and 256/,
    );
    assert.throws(() => loadSandboxSettings({ EXECUTION_TIMEOUT: '-1' }), /EXECUTION_TIMEOUT/);
  });

  test('an Executor honours EXECUTION_TIMEOUT from the environment', async () => {
    const saved = process.env.EXECUTION_TIMEOUT;
    process.env.EXECUTION_TIMEOUT = '0.3';
    const ex = new Executor({ workers: 1 });
    try {
      assert.equal(ex.limits.timeoutMs, 300);
      const r = await ex.execute({ code: 'while (true) {}' });
      assert.equal(r.errorCategory, 'timeout');
      assert.ok(r.durationMs < 1500);
    } finally {
      if (saved === undefined) delete process.env.EXECUTION_TIMEOUT;
      else process.env.EXECUTION_TIMEOUT = saved;
      await ex.close();
    }
  });
});

describe('.env file', () => {
  test('is read, and the process environment overrides it', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = tempDir('env');
    writeFileSync(join(dir, '.env'), 'SANDBOX_MEMORY_MB=48\nEXECUTION_TIMEOUT=7\n');
    const cwd = process.cwd();
    const saved = process.env.EXECUTION_TIMEOUT;
    process.chdir(dir);
    process.env.EXECUTION_TIMEOUT = '9';
    try {
      const s = loadSandboxSettings();
      assert.equal(s.SANDBOX_MEMORY_MB, 48);
      assert.equal(s.EXECUTION_TIMEOUT, 9);
    } finally {
      process.chdir(cwd);
      if (saved === undefined) delete process.env.EXECUTION_TIMEOUT;
      else process.env.EXECUTION_TIMEOUT = saved;
    }
  });
});
