// The worker pool's process containment: a worker that dies or wedges costs only its own execution; it is
// replaced and every other execution carries on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Executor } from '../src/index.js';
import { WorkerPool } from '../src/sandbox/pool.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Sandbox worker processes of this test process, with the CPU ticks each has used (from /proc). */
function workers(): Array<{ pid: number; cpuTicks: number }> {
  const found: Array<{ pid: number; cpuTicks: number }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (Number(fields[1]) !== process.pid || !cmdline.includes('sandbox/worker/main.js')) continue;
      if (fields[0] === 'Z') continue;
      found.push({ pid: Number(entry), cpuTicks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

const childPids = (): number[] => workers().map((w) => w.pid);

test('a worker killed from outside mid-run: that execution is crashed, the others finish, a new worker serves', async () => {
  const executor = new Executor({ workers: 2, limits: { timeoutMs: 10_000 } });
  try {
    await executor.warm();
    const before = new Set(childPids());
    const victim = executor.execute({ code: 'while (true) {}' });
    // Let the spinning run start, then find its worker: the one burning CPU.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const busiest = workers()
      .filter((w) => before.has(w.pid))
      .sort((a, b) => b.cpuTicks - a.cpuTicks)[0];
    assert.ok(busiest, 'found the worker processes');
    const bystanders = Array.from({ length: 10 }, (_, i) => executor.execute({ code: `result = ${i} * 3` }));
    process.kill(busiest.pid, 'SIGKILL');
    const r = await victim;
    assert.equal(r.errorCategory, 'crashed');
    assert.match(r.error ?? '', /died \(signal SIGKILL\).*Only this execution was affected/);
    assert.deepEqual(
      (await Promise.all(bystanders)).map((b) => b.output),
      [0, 3, 6, 9, 12, 15, 18, 21, 24, 27],
    );
    const after = await executor.execute({ code: 'result = "still serving"' });
    assert.equal(after.output, 'still serving');
    assert.ok(!childPids().includes(busiest.pid), 'the dead worker is gone');
  } finally {
    await executor.close();
  }
});

test('a wedged worker is killed at the time limit plus the grace period and reported crashed', async () => {
  const pool = new WorkerPool({
    size: 1,
    defaultMemoryMb: 32,
    graceMs: 300,
    workerEntry: join(here, 'fixtures', 'wedged-worker.mjs'),
  });
  try {
    const started = Date.now();
    const { done } = pool.run({
      message: {
        code: '',
        contextJson: '{}',
        toolNames: [],
        timeoutMs: 200,
        memoryMb: 32,
        maxOutputBytes: 1000,
        maxLogBytes: 1000,
        maxToolCalls: 1,
        maxToolBytes: 1000,
      },
      onTool: () => {},
    });
    const outcome = await done;
    const took = Date.now() - started;
    assert.equal(outcome.category, 'crashed');
    assert.match(outcome.errorMessage ?? '', /stopped responding 300 ms past the 200 ms time limit and was killed/);
    assert.ok(took >= 500 && took < 2000, `took ${took} ms`);
    assert.equal(pool.spawned >= 1, true);
  } finally {
    await pool.close();
  }
});

test('close() ends queued and running executions as crashed and stops every worker', async () => {
  const executor = new Executor({ workers: 1, limits: { timeoutMs: 10_000 } });
  await executor.warm();
  const running = executor.execute({ code: 'while (true) {}' });
  const queued = executor.execute({ code: 'result = 1' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await executor.close();
  assert.equal((await running).errorCategory, 'crashed');
  assert.equal((await queued).errorCategory, 'crashed');
  assert.match((await queued).error ?? '', /shut down/);
  assert.deepEqual(childPids(), []);
  await assert.rejects(executor.execute({ code: 'result = 1' }), /closed/);
});

test('an idle executor does not keep the process alive', () => {
  const script = [
    "import { Executor } from './src/index.js';",
    'const ex = new Executor({ workers: 2 });',
    "const r = await ex.execute({ code: 'result = 40 + 2' });",
    'console.log(r.output);',
    '// no close(): the process must still exit on its own',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(here, '..'),
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(out.trim(), '42');
});

test('an execution costs one message back from its worker (the result says whether a spare context is ready)', async () => {
  const executor = new Executor({ workers: 1 });
  try {
    await executor.warm();
    // Reading the pool's worker process is this test's one liberty: the messages on its channel are what it counts.
    const pool = (executor as unknown as { pool: { slots: Set<{ child: import('node:child_process').ChildProcess }> } })
      .pool;
    const [slot] = [...pool.slots];
    assert.ok(slot, 'the warmed worker');
    // Let the idle worker prepare its spare contexts first, so that every run below starts on one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const kinds: string[] = [];
    const count = (message: { type: string }): void => {
      kinds.push(message.type);
    };
    slot.child.on('message', count);
    for (let i = 0; i < 20; i++) assert.equal((await executor.execute({ code: `result = ${i}` })).output, i);
    slot.child.off('message', count);
    assert.equal(kinds.filter((k) => k === 'done').length, 20);
    assert.ok(kinds.length <= 22, `20 executions brought ${kinds.length} messages: ${kinds.join(', ')}`);
  } finally {
    await executor.close();
  }
});
