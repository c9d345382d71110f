/**
 * The sandbox self-test of `automesh check`: isolated-vm loads in a worker process, runs code, and enforces its
 * memory and time limits. Real executions through an {@link Executor} with one worker, not an import.
 */
import type { SandboxSettings } from '../config/sandbox-settings.js';
import type { WorkerConfinement } from '../sandbox/confine.js';
import { Executor } from '../sandbox/executor.js';
import type { ExecutionLimits, ExecutionResult } from '../sandbox/types.js';

export interface SandboxProbe {
  name: 'start' | 'run' | 'memory' | 'timeout' | 'recover';
  /** What it shows, for people. */
  label: string;
  ok: boolean;
  expected: string;
  got: string;
  durationMs: number;
  /** The execution's error message (it carries the worker's stderr tail when a worker died). */
  error: string | null;
  details: Record<string, unknown>;
}

export interface SandboxSelfTest {
  ok: boolean;
  probes: SandboxProbe[];
  workersStarted: number;
  /**
   * What confines the worker processes beyond the isolate, as the worker saw it. Not part of `ok`: a machine
   * without a network namespace still runs the sandbox, and `check` warns about it.
   */
  confinement: WorkerConfinement | null;
}

/** Shown by `check` when a confinement is not in force. */
export const CONFINEMENT_HINT =
  'the isolate still holds generated code; this is the second wall behind it. On Linux, install util-linux (unshare) and '
  + 'allow network namespaces (root, or unprivileged user namespaces) for the network one; use Node.js 20.16 or newer for '
  + 'the permission model with --allow-addons.';

/** A heap that grows until the isolate's memory limit stops it. */
export const MEMORY_BOMB = 'const keep = []\nwhile (true) keep.push(new Array(1e5).fill(Math.random()))';
export const SELF_TEST_MEMORY_MB = 16;
export const SELF_TEST_TIMEOUT_MS = 300;

export const SANDBOX_HINT =
  'isolated-vm did not work in a sandbox worker. Rebuild it with npm rebuild isolated-vm (it compiles from source: '
  + 'python3, make and g++ are needed), use Node.js 20 or newer, and in a source checkout run npm run build (workers run from dist/).';

function describe(r: ExecutionResult): string {
  return r.status === 'success'
    ? `result ${JSON.stringify(r.output)}`
    : `${r.errorCategory ?? 'failure'}: ${r.error ?? ''}`;
}

function probeOf(
  name: SandboxProbe['name'],
  label: string,
  expected: string,
  r: ExecutionResult,
  ok: boolean,
): SandboxProbe {
  return {
    name,
    label,
    ok,
    expected,
    got: describe(r),
    durationMs: r.durationMs,
    error: r.error,
    details: { status: r.status, errorCategory: r.errorCategory, cpuMs: r.cpuMs, heapBytes: r.heapBytes },
  };
}

/** Runs the probes one after the other; `onProbe` sees each as it ends. Never throws. */
export async function sandboxSelfTest(
  settings: SandboxSettings,
  onProbe: (p: SandboxProbe) => void = () => {},
): Promise<SandboxSelfTest> {
  const probes: SandboxProbe[] = [];
  const add = (p: SandboxProbe): void => {
    probes.push(p);
    onProbe(p);
  };
  let executor: Executor | null = null;
  const started = performance.now();
  try {
    executor = new Executor({ settings, workers: 1, graceMs: 1000 });
    await executor.warm();
    add({
      name: 'start',
      label: 'a sandbox worker process starts',
      ok: true,
      expected: 'ready',
      got: 'ready',
      durationMs: performance.now() - started,
      error: null,
      details: {},
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    add({
      name: 'start',
      label: 'a sandbox worker process starts',
      ok: false,
      expected: 'ready',
      got: message,
      durationMs: performance.now() - started,
      error: message,
      details: {},
    });
    await executor?.close().catch(() => {});
    return { ok: false, probes, workersStarted: executor?.workersStarted ?? 0, confinement: null };
  }
  try {
    const run = async (code: string, limits: Partial<ExecutionLimits> = {}): Promise<ExecutionResult> =>
      (executor as Executor).execute({ code, limits });
    const basic = await run('result = 6 * 7');
    add(
      probeOf(
        'run',
        'isolated-vm runs code: result = 6 * 7',
        '42',
        basic,
        basic.status === 'success' && basic.output === 42,
      ),
    );
    const memory = await run(MEMORY_BOMB, { memoryMb: SELF_TEST_MEMORY_MB, timeoutMs: 15_000 });
    add(
      probeOf(
        'memory',
        `memory limit enforced: a growing heap with memoryMb ${SELF_TEST_MEMORY_MB}`,
        'memory',
        memory,
        memory.errorCategory === 'memory',
      ),
    );
    const loop = await run('while (true) {}', { timeoutMs: SELF_TEST_TIMEOUT_MS });
    add(
      probeOf(
        'timeout',
        `time limit enforced: while (true) {} with timeoutMs ${SELF_TEST_TIMEOUT_MS}`,
        'timeout',
        loop,
        loop.errorCategory === 'timeout',
      ),
    );
    const after = await run('result = "still working"');
    add(
      probeOf(
        'recover',
        'the sandbox runs code again after both',
        '"still working"',
        after,
        after.status === 'success' && after.output === 'still working',
      ),
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    add({
      name: 'run',
      label: 'isolated-vm runs code',
      ok: false,
      expected: '42',
      got: message,
      durationMs: 0,
      error: message,
      details: {},
    });
  }
  const workersStarted = executor.workersStarted;
  const confinement = executor.confinement;
  await executor.close().catch(() => {});
  return { ok: probes.every((p) => p.ok), probes, workersStarted, confinement };
}
