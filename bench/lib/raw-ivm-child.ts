/**
 * The raw isolated-vm runner, in a child process of its own: Node 20 needs `--no-node-snapshot` for
 * isolated-vm in-process, and the benchmark host (like automesh's own host) does not load isolated-vm.
 * Started by `RawIvmRunner` (raw-ivm.ts) through fork(); receives the problems over IPC and replies with a
 * RunnerReport, once per round. Each problem runs serially in a fresh `new ivm.Isolate({ memoryLimit })`, with a console
 * that forwards log lines to the host, through the same async isolated-vm calls the executor's worker uses.
 */
import ivm from 'isolated-vm';
import { firstLine, type ProblemOutcome, type RunnerReport } from './humaneval.js';
import type { RawIvmReply, RawIvmRequest } from './raw-ivm.js';

/** Installs `console` (writable, so the prelude can replace it) on top of the `__log__` host callback. */
const CONSOLE_SETUP = `(() => {
  const log = globalThis.__log__;
  delete globalThis.__log__;
  const emit = (level) => (...args) => { log(level, args.map((a) => typeof a === 'string' ? a : String(a)).join(' ')); };
  globalThis.console = {
    log: emit('log'), info: emit('info'), debug: emit('debug'), warn: emit('warn'), error: emit('error'),
    trace: emit('trace'), dir: emit('log'), table: emit('log'),
  };
})();`;

async function runOne(taskId: string, program: string, timeoutMs: number, memoryMb: number): Promise<ProblemOutcome> {
  const started = performance.now();
  const logs: string[] = [];
  const isolate = new ivm.Isolate({ memoryLimit: memoryMb });
  try {
    const context = await isolate.createContext();
    await context.global.set(
      '__log__',
      new ivm.Callback((level: unknown, text: unknown) => {
        logs.push(`${String(level)}: ${String(text)}`);
      }),
    );
    await context.eval(CONSOLE_SETUP, { timeout: timeoutMs });
    const script = await isolate.compileScript(program, { filename: `${taskId}.js` });
    await script.run(context, { timeout: timeoutMs });
    script.release();
    return { taskId, passed: true, error: null, ms: performance.now() - started };
  } catch (err) {
    return { taskId, passed: false, error: firstLine(err), ms: performance.now() - started };
  } finally {
    if (!isolate.isDisposed) isolate.dispose();
  }
}

async function runAll(request: RawIvmRequest): Promise<RunnerReport> {
  const outcomes: ProblemOutcome[] = [];
  const started = performance.now();
  for (const problem of request.problems) {
    outcomes.push(await runOne(problem.taskId, problem.program, request.timeoutMs, request.memoryMb));
  }
  return {
    runner: 'raw isolated-vm',
    mode: `in-process, serial, fresh ivm.Isolate({ memoryLimit: ${request.memoryMb} }) per problem`,
    totalMs: performance.now() - started,
    outcomes,
  };
}

// One request at a time (the host waits for each reply); the host disconnecting ends the process.
process.on('message', (raw: unknown) => {
  const reply = (message: RawIvmReply): void => {
    process.send?.(message);
  };
  runAll(raw as RawIvmRequest).then(
    (report) => reply({ ok: true, report }),
    (err: unknown) => reply({ ok: false, error: firstLine(err) }),
  );
});
