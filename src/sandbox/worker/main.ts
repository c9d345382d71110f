/**
 * Entry point of a sandbox worker process. The host never loads isolated-vm itself: a fatal V8 error in an
 * isolate (isolated-vm #137: `Array(1e9).fill(0)` aborts the process) then kills only this worker, which the
 * pool replaces. One execution runs at a time, each in a new context of the worker's isolate; the next
 * contexts are prepared while the worker is idle.
 *
 * Started by the pool with the V8 flags and the confinement of `../confine.ts` (permission model, network
 * namespace) and an environment without secrets.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { HostToWorker, ObservedConfinement, RawOutcome, WorkerToHost } from '../protocol.js';
import { IsolateHost, IsolateSession, type PreparedContext } from './isolate-session.js';

const runtimePath = process.argv[2];
if (!runtimePath || !process.send) {
  process.stderr.write('automesh sandbox worker: start it through the worker pool (needs IPC and the runtime path)\n');
  process.exit(2);
}
const runtimeSource = readFileSync(runtimePath, 'utf8');
const defaultMemoryMb = Number(process.argv[3] ?? '128');

function send(message: WorkerToHost, sent?: () => void): void {
  process.send?.(message, undefined, undefined, sent);
}

/**
 * Leaves once `message` is written to the IPC channel. `process.send` is asynchronous: exiting right after it
 * lost large results (a run stopped at ~250 KB of console output came back `crashed`, its logs gone). The
 * worker kills itself rather than exit: `process.exit` tears the isolates down, which crashed with SIGSEGV
 * when calls into one were still in flight (a run stopped in the middle of a `console.log` flood).
 */
function sendAndExit(message: WorkerToHost): void {
  send(message, () => process.kill(process.pid, 'SIGKILL'));
}

/**
 * Tool calls waiting to go out, and the bytes of those already handed to the IPC channel but not yet written.
 * At most {@link TOOL_CALL_BYTES_IN_CHANNEL} are in the channel at a time: a flood of calls (200 × 80 KB) would
 * otherwise queue megabytes ahead of the run's `done` message, and a run stopped by its time limit was
 * reported only after the host had read them all (past its deadline, so as a killed worker). Calls still here
 * when the run ends are dropped.
 */
const TOOL_CALL_BYTES_IN_CHANNEL = 1 << 20;
let toolCallsWaiting: Array<Extract<WorkerToHost, { type: 'tool' }>> = [];
let toolCallBytesInChannel = 0;

function sendToolCall(message: Extract<WorkerToHost, { type: 'tool' }>): void {
  toolCallsWaiting.push(message);
  pumpToolCalls();
}

function pumpToolCalls(): void {
  while (toolCallsWaiting.length > 0 && toolCallBytesInChannel < TOOL_CALL_BYTES_IN_CHANNEL) {
    const message = toolCallsWaiting.shift() as Extract<WorkerToHost, { type: 'tool' }>;
    const size = message.argsJson.length;
    toolCallBytesInChannel += size;
    send(message, () => {
      toolCallBytesInChannel -= size;
      pumpToolCalls();
    });
  }
}

/**
 * Contexts prepared ahead (created, runtime loaded), so that a burst of executions (a wide workflow level)
 * does not pay for them on its critical path. They are made only while the worker is idle, e.g. while the
 * steps wait for the model, with a yield between two so a new run is never held up long.
 */
const SPARE_CONTEXTS = 8;
/**
 * An isolate serves at most this many runs, and is replaced sooner when a run leaves more than a quarter of
 * its heap limit in use: the garbage of earlier contexts is collectable, but a fresh isolate keeps every run's
 * memory headroom and timing close to the first one's.
 */
const RUNS_PER_ISOLATE = 200;
const HEAP_RECYCLE_FRACTION = 0.25;

let isolateHost: IsolateHost | null = null;
/** Contexts of `isolateHost`, ready for a run. */
const spares: PreparedContext[] = [];
let filling = false;
let current: { id: number; session: IsolateSession } | null = null;
// Memory outside the V8 heap (not counted by isolated-vm's limit) is watched here as a last line of defence.
const baselineRss = process.memoryUsage.rss();
let rssLimit = baselineRss + defaultMemoryMb * 4 * 1024 * 1024 + 256 * 1024 * 1024;
let exitAfterRun = false;

/** Drops the current isolate and its spare contexts; the next run (or the idle filler) makes a new one. */
function retireIsolate(): void {
  for (const spare of spares.splice(0)) spare.release();
  isolateHost?.dispose();
  isolateHost = null;
}

/** The worker's isolate for this memory limit, made now if there is none (or it had another limit). */
function hostFor(memoryMb: number): IsolateHost {
  if (isolateHost && (isolateHost.isDisposed || isolateHost.memoryMb !== memoryMb)) retireIsolate();
  isolateHost ??= IsolateHost.create(runtimeSource, memoryMb);
  return isolateHost;
}

async function fillSpares(memoryMb: number): Promise<void> {
  if (filling) return;
  filling = true;
  try {
    while (spares.length < SPARE_CONTEXTS && current === null && !exitAfterRun) {
      try {
        spares.push(hostFor(memoryMb).prepareContext());
      } catch {
        // Preparing failed; the next run prepares its own context and reports why, if it fails again.
        retireIsolate();
        return;
      }
      // The pool prefers workers with a context ready.
      if (spares.length === 1) send({ type: 'spare' });
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    filling = false;
  }
}

function takeContext(memoryMb: number): PreparedContext {
  const host = hostFor(memoryMb);
  return spares.pop() ?? host.prepareContext();
}

function reportSetupFailure(id: number, err: unknown): void {
  const outcome: RawOutcome = {
    kind: 'error',
    outputJson: null,
    category: 'crashed',
    errorName: 'Error',
    errorMessage: `The sandbox could not start an isolate: ${err instanceof Error ? err.message : String(err)}`,
    stack: null,
    logs: [],
    cpuMs: 0,
    heapBytes: 0,
    toolCalls: 0,
  };
  send({ type: 'done', id, outcome });
}

async function handleRun(message: Extract<HostToWorker, { type: 'run' }>): Promise<void> {
  if (current) {
    reportSetupFailure(message.id, new Error('worker is busy'));
    return;
  }
  rssLimit = baselineRss + message.memoryMb * 4 * 1024 * 1024 + 256 * 1024 * 1024;
  let prepared: PreparedContext;
  try {
    prepared = takeContext(message.memoryMb);
  } catch (err) {
    retireIsolate();
    reportSetupFailure(message.id, err);
    return;
  }
  const session = new IsolateSession(prepared, message, {
    callTool: (callId, name, argsJson) => sendToolCall({ type: 'tool', id: message.id, callId, name, argsJson }),
    finished: (outcome, reusable) => {
      current = null;
      toolCallsWaiting = [];
      // An isolate stopped from outside may not stop at once: disposing one in the middle of
      // `Array(1e9).fill(0)` lets the fill run on until V8 aborts the whole process for heap exhaustion,
      // after the timeout was already reported (seen with isolated-vm 5.0.4 on Node 20). So a worker whose
      // isolate was stopped, or could not be reused, retires too, and the pool starts a clean one.
      const retire = exitAfterRun || !reusable;
      // `retire` tells the pool not to dispatch to this process again; without it the next execution
      // raced the exit below and was reported `crashed` (found by test/hostile-resources.test.ts).
      if (retire) {
        sendAndExit({ type: 'done', id: message.id, outcome, retire: true });
        return;
      }
      const host = prepared.host;
      host.runs += 1;
      const recycle =
        host === isolateHost
        && (host.runs >= RUNS_PER_ISOLATE || outcome.heapBytes > host.memoryMb * 1048576 * HEAP_RECYCLE_FRACTION);
      // The spares die with a recycled isolate; the result goes out before the isolate is torn down.
      send({ type: 'done', id: message.id, outcome, spare: !recycle && spares.length > 0 });
      prepared.release();
      if (recycle) retireIsolate();
      setImmediate(() => void fillSpares(message.memoryMb));
    },
  });
  current = { id: message.id, session };
  await session.begin();
}

process.on('message', (raw: unknown) => {
  const message = raw as HostToWorker;
  switch (message.type) {
    case 'run':
      void handleRun(message);
      break;
    case 'tool-reply':
      if (current?.id === message.id) current.session.toolReply(message.callId, message.reply);
      break;
    case 'abort':
      if (current?.id === message.id) current.session.terminate(message.category, message.message);
      break;
  }
});

// The host going away (crash, SIGKILL) closes the IPC channel: follow it rather than linger as an orphan.
process.on('disconnect', () => process.exit(0));

setInterval(() => {
  if (!current) return;
  const rss = process.memoryUsage.rss();
  if (rss > rssLimit) {
    exitAfterRun = true;
    current.session.terminate(
      'memory',
      `The sandbox worker grew to ${Math.round(rss / 1048576)} MB outside the isolate's heap limit; execution stopped.`,
    );
  }
}, 50).unref();

/** Told to the pool with `ready`, so that `automesh check` reports what is in force, seen from in here. */
function observeConfinement(): ObservedConfinement {
  const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
  return {
    permissions:
      permission !== undefined && !permission.has('fs.write') && !permission.has('child') && !permission.has('worker'),
    networkInterfaces: Object.keys(networkInterfaces()),
  };
}

send({ type: 'ready', confinement: observeConfinement() });
void fillSpares(defaultMemoryMb);
