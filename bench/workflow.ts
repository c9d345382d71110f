/**
 * Workflow benchmark: the DAG engine (`mesh.workflow`) against a model that takes a fixed 50 ms per reply.
 *
 * Every step is a real agent task: the provider chain calls the local wire-protocol server (test/llm-server, in
 * a child process of its own, as a remote model would be) through the official openai SDK over HTTP; the server
 * holds each reply back 50 ms (`delayMs`)
 * and answers with a fenced JavaScript block that sums the outputs of the step's dependencies (read from
 * `context.previousStepResults`) plus the step's own `context.weight`; the code runs in the sandbox pool.
 * REGISTRY_REUSE=false (every step calls the model), MAX_REPAIR_ATTEMPTS=0, LLM_MAX_RETRIES=0, every run
 * `{ fresh: true }`, SANDBOX_WORKERS default unless --workers.
 *
 * (1) A 100-step DAG of depth 5 (levels of 1, 20, 39, 39 and 1 steps: a root fanning out to 20, two wide levels,
 *     a final fan-in of 39). Wall time against the critical-path bound depth x 50 ms; efficiency = bound / wall,
 *     target >= 90 %, median over --workflow-runs runs at concurrency 100 (more than the widest level, so the
 *     limit never holds a step back); the default WORKFLOW_CONCURRENCY (16) as a secondary figure. References:
 *     a single-step workflow (its overhead beyond the 50 ms) and a 5-step chain; and three HTTP floors: the same
 *     DAG where each step is nothing but a model call to the same server, made by the official SDK as the engine
 *     makes it, by the SDK on a node:http fetch, and by a bare node:http POST with no SDK. Then where the time
 *     goes: CPU per step of the host, the sandbox workers and the model server; per level, per step (model call,
 *     sandbox, result log, dispatch delay) and the workflow-state saves.
 * (2) 200 independent steps in one workflow at concurrency 200, on a fresh mesh: wall time, and the peak RSS of
 *     this (host) process and of the sandbox worker processes, sampled from /proc every ~20 ms, with the kernel's
 *     own high-water marks (VmHWM) as a check.
 *
 * Usage: node --import tsx bench/workflow.ts [--workers N] [--workflow-runs N] [--workflow-concurrency N]
 *        (needs `npm run build` first: the sandbox worker runs from dist/). Options it does not know are ignored.
 * Exits 0 when the benchmark ran, whether or not its targets were met; non-zero only if it could not run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import {
  defineAgent,
  type Envelope,
  Mesh,
  type MeshEvents,
  type MeshMiddleware,
  resetCooldowns,
  type SettingsInput,
  type StepRecord,
  type Storage,
  type WorkflowHeader,
  type WorkflowLease,
  type WorkflowResult,
} from '../src/index.js';
import type { LlmRequest } from '../src/llm/types.js';
import type { ScriptedReply } from '../test/llm-server/server.js';
import { positiveInt } from './lib/args.js';
import type { Figure } from './lib/figures.js';
import {
  bareChatCompletion,
  FLOOR_TRANSPORTS,
  type Floor,
  type FloorRun,
  type FloorTransport,
  keepAliveAgent,
  nodeHttpFetch,
  summarizeFloor,
} from './lib/http-floor.js';
import { ModelServerProcess } from './lib/model-server.js';
import { heading, loadLine } from './lib/print.js';
import { mb, RssSampler, resetPeak, type SamplerReport, statusKb, WORKER_MARKER } from './lib/rss-sampler.js';
import { runIfMain } from './lib/standalone.js';
import { ms, quantile, summarize, table } from './lib/stats.js';
import { type StorageTaps, tappedSqliteStorage, timeInto } from './lib/tapped-storage.js';
import {
  chainPlan,
  dagPlan,
  describePlan,
  independentPlan,
  LEVEL_WIDTHS,
  type Plan,
  type PlannedStep,
  planOf,
  stepsOf,
} from './lib/workflow-plans.js';

const BENCH = 'workflow';
/** The HTTP floors, in the order they are run and reported: the engine's own transport first. */
const FLOOR_ORDER: readonly FloorTransport[] = ['sdk', 'sdk-node-http', 'node-http'];
const MODEL_DELAY_MS = 50;
const EFFICIENCY_TARGET = 0.9;
/** The DAG's efficiency against the SDK-only floor's, measured in the same run (issue 13). */
const FLOOR_RATIO_TARGET = 0.9;
const ROLE = 'calculator';
const DEFAULT_WORKFLOW_CONCURRENCY = 16;
/** Finds the step id in a task text (and so in the model call's user message). */
const STEP_TAG = /\[wf-bench ([A-Za-z0-9._-]+)\]/;

/** The program every reply carries: the same for every step, as the data comes from `context`. */
const STEP_PROGRAM = [
  "// Add this step's weight to the outputs of the steps it depends on.",
  'const deps = Object.values(context.previousStepResults ?? {});',
  'let total = context.weight;',
  'for (const dep of deps) {',
  '  if (typeof dep.output !== "number") throw new Error(`dependency ${dep.stepId} has no numeric output`);',
  '  total += dep.output;',
  '}',
  'result = total;',
].join('\n');
const MODEL_ANSWER =
  'This step adds its own weight to the outputs of the steps it depends on, which the engine '
  + `passes in \`context.previousStepResults\`:\n\n\`\`\`javascript\n${STEP_PROGRAM}\n\`\`\`\n\n`
  + '`result` ends up as the sum.';

export interface WorkflowBenchOptions {
  /** Sandbox pool size; undefined means the default (`SANDBOX_WORKERS`, else max(2, cores)). */
  workers: number | undefined;
  /** Timed runs of the DAG at the high concurrency. */
  runs: number;
  /** The high concurrency of the DAG runs. */
  concurrency: number;
  /** Timed runs at the default concurrency (16). */
  defaultConcurrencyRuns: number;
  /** Single-step reference runs. */
  singleRuns: number;
  /** Steps of the independent workflow (and its concurrency). */
  independentSteps: number;
  /** Runs of the independent workflow. */
  independentRuns: number;
  /** RSS sampling period, ms. */
  sampleMs: number;
}

/** Reads this benchmark's options; others (meant for other benchmarks) are ignored. */
export function parseWorkflowArgs(argv: readonly string[]): WorkflowBenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      workers: { type: 'string' },
      'workflow-runs': { type: 'string' },
      'workflow-concurrency': { type: 'string' },
    },
    strict: false,
    allowPositionals: true,
  });
  const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
  const workers = str(values.workers);
  return {
    workers: workers !== undefined ? positiveInt('workers', workers, 1) : undefined,
    runs: positiveInt('workflow-runs', str(values['workflow-runs']), 5),
    concurrency: positiveInt('workflow-concurrency', str(values['workflow-concurrency']), 100),
    defaultConcurrencyRuns: 3,
    singleRuns: 10,
    independentSteps: 200,
    independentRuns: 3,
    sampleMs: 20,
  };
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');
}

// ---- instrumentation -----------------------------------------------------------------------------------

interface StepTrace {
  /** step:started event: the engine hands the step to its runner (and has queued the state save marking it running). */
  started: number | null;
  /**
   * The task's end: step:started plus the envelope's executionTime (taken as the envelope is made, the task's last
   * act; in a workflow the result row is written in the background after it). The engine then records the step.
   */
  finished: number | null;
  /** step:finished (or failed/skipped) event: emitted once the state save that records it has landed. */
  announced: number | null;
  /** chain.complete wall (the 50 ms reply delay, HTTP, SDK, chain bookkeeping). */
  modelMs: number;
  /** executor.execute wall (esbuild compile, waiting for a worker, the run). */
  executeMs: number;
  /** results.save wall (the result's row, committed with the writes of the same event-loop turn). */
  resultSaveMs: number;
}

interface StoreSave {
  start: number;
  end: number;
}

/** What one workflow run did, from the mesh's events, its middleware and its tapped storage. */
class Recorder {
  workflowId: string | null = null;
  steps = new Map<string, StepTrace>();
  saves: StoreSave[] = [];
  /** The header and step records the workflow store was last given (their final values after the run). */
  lastState: unknown = null;
  /** Diagnostic only: the workflow store's save does nothing (not a valid configuration: nothing is durable). */
  noopSaves = false;

  reset(workflowId: string): void {
    this.workflowId = workflowId;
    this.steps = new Map();
    this.saves = [];
    this.lastState = null;
    this.noopSaves = false;
  }

  step(stepId: string): StepTrace {
    let trace = this.steps.get(stepId);
    if (!trace) {
      trace = {
        started: null,
        finished: null,
        announced: null,
        modelMs: 0,
        executeMs: 0,
        resultSaveMs: 0,
      };
      this.steps.set(stepId, trace);
    }
    return trace;
  }
}

function stepIdOfRequest(request: LlmRequest): string | null {
  return STEP_TAG.exec(request.messages.at(-1)?.content ?? '')?.[1] ?? null;
}

/**
 * Middleware putting the wall time of each model call and each sandbox run on its step. Each costs a clock read
 * and a promise: microseconds, against the milliseconds measured.
 */
function stepMiddleware(recorder: Recorder): MeshMiddleware {
  const addTo = (id: unknown, part: 'modelMs' | 'executeMs', took: number): void => {
    if (typeof id === 'string') recorder.step(id)[part] += took;
  };
  return {
    model: [
      {
        wrapGenerate: ({ request, doGenerate }) =>
          timeInto(doGenerate, (took) => addTo(stepIdOfRequest(request), 'modelMs', took)),
      },
    ],
    executor: [
      {
        wrapExecute: ({ request, doExecute }) =>
          timeInto(doExecute, (took) =>
            addTo((request.context as { stepId?: unknown } | undefined)?.stepId, 'executeMs', took),
          ),
      },
    ],
  };
}

/**
 * The storage taps: the step's result row (its wall time), and every workflow-state write (timed, kept as the
 * state's last value, skipped in the no-op diagnostic).
 */
function recorderTaps(recorder: Recorder): StorageTaps {
  const stateWrite =
    <R extends object>(kind: 'header' | 'step') =>
    async (inner: (lease: WorkflowLease, record: R) => Promise<void>, lease: WorkflowLease, record: R) => {
      if (lease.workflowId !== recorder.workflowId) return inner(lease, record);
      const start = performance.now();
      recorder.lastState ??= { header: null, steps: {} };
      const state = recorder.lastState as { header: unknown; steps: Record<string, unknown> };
      if (kind === 'header') state.header = record;
      else state.steps[(record as { stepId: string }).stepId] = record;
      try {
        if (!recorder.noopSaves) await inner(lease, record);
      } finally {
        recorder.saves.push({ start, end: performance.now() });
      }
    };
  return {
    results: {
      save: (inner, record) => {
        const id = (record.envelope as Partial<Envelope>).stepId;
        if (typeof id !== 'string') return inner(record);
        return timeInto(
          () => inner(record),
          (took) => {
            recorder.step(id).resultSaveMs += took;
          },
        );
      },
    },
    workflows: { saveHeader: stateWrite<WorkflowHeader>('header'), saveStep: stateWrite<StepRecord>('step') },
  };
}

/** Follows the step events of the recorder's workflow. */
function followSteps(mesh: Mesh, recorder: Recorder): void {
  const on = <K extends 'step:started' | 'step:finished' | 'step:failed' | 'step:skipped'>(event: K): void => {
    mesh.on(event, (payload: MeshEvents[K]) => {
      if (payload.workflowId !== recorder.workflowId) return;
      const trace = recorder.step(payload.stepId);
      const now = performance.now();
      if (event === 'step:started') {
        trace.started = now;
        return;
      }
      trace.announced = now;
      const ran = (payload as { envelope?: Envelope }).envelope?.executionTime;
      if (event !== 'step:skipped' && trace.started !== null && typeof ran === 'number')
        trace.finished = trace.started + ran * 1000;
    });
  };
  on('step:started');
  on('step:finished');
  on('step:failed');
  on('step:skipped');
}

// ---- running -------------------------------------------------------------------------------------------

/** Clears what the server recorded and queues one reply ({@link MODEL_ANSWER}, after {@link MODEL_DELAY_MS}) per step. */
async function resetServer(server: ModelServerProcess, steps: number): Promise<void> {
  await server.reset();
  const reply: ScriptedReply = {
    kind: 'text',
    text: MODEL_ANSWER,
    delayMs: MODEL_DELAY_MS,
    inputTokens: 900,
    outputTokens: Math.ceil(MODEL_ANSWER.length / 4),
  };
  await server.script(
    'vllm',
    Array.from({ length: steps }, () => reply),
  );
}

interface MeshHandle {
  mesh: Mesh;
  /** Given to the mesh, so closed by us after it stops. */
  storage: Storage;
  logDir: string;
  recorder: Recorder;
  workers: number;
}

async function startMesh(
  server: ModelServerProcess,
  options: WorkflowBenchOptions,
  label: string,
): Promise<MeshHandle> {
  const logDir = mkdtempSync(join(tmpdir(), `automesh-bench-workflow-${label}-`));
  const config: SettingsInput = {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: server.url,
    LLM_MODEL: 'bench-model',
    LLM_MAX_RETRIES: 0,
    LLM_TIMEOUT: 30,
    EXECUTION_TIMEOUT: 10,
    MAX_REPAIR_ATTEMPTS: 0,
    REGISTRY_REUSE: false,
    LOG_DIRECTORY: logDir,
    ...(options.workers !== undefined ? { SANDBOX_WORKERS: options.workers } : {}),
  };
  const recorder = new Recorder();
  const storage = tappedSqliteStorage(logDir, recorderTaps(recorder));
  const mesh = new Mesh({ mode: 'autonomous', config, middleware: stepMiddleware(recorder), storage });
  mesh.add(
    defineAgent({
      role: ROLE,
      capabilities: ['arithmetic'],
      systemPrompt: 'You write small JavaScript programs that combine the results of earlier workflow steps.',
    }),
  );
  try {
    await mesh.start();
  } catch (err) {
    await storage.close();
    rmSync(logDir, { recursive: true, force: true });
    throw err;
  }
  followSteps(mesh, recorder);
  return { mesh, storage, logDir, recorder, workers: mesh.settings.SANDBOX_WORKERS };
}

async function stopMesh(handle: MeshHandle | null): Promise<void> {
  if (!handle) return;
  try {
    await handle.mesh.stop();
    await handle.storage.close();
  } finally {
    rmSync(handle.logDir, { recursive: true, force: true });
  }
}

interface RunSample {
  plan: Plan;
  concurrency: number;
  wallMs: number;
  /** CPU time (user + system) of this process, all threads, during the run. */
  hostCpuMs: number;
  /** CPU time of the sandbox worker processes during the run (from /proc; workers that exited meanwhile are missed). */
  workerCpuMs: number;
  /** CPU time of the model server process during the run. */
  serverCpuMs: number;
  /** Time this process's event loop was busy (not waiting for I/O or timers) during the run. */
  loopBusyMs: number;
  /** Time the workflow call started (performance.now()). */
  t0: number;
  result: WorkflowResult;
  requests: number;
  steps: Map<string, StepTrace>;
  saves: StoreSave[];
  /** The workflow state as last saved. */
  finalState: unknown;
  /** The system prompt and user message of the run's first model request, as the server received them. */
  sampleRequest: { system: string; user: string } | null;
  /** Problems found checking the result; empty when every step succeeded with the right output. */
  problems: string[];
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system, ms) of a process from /proc; 0 when it is gone. */
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1000 / TICKS_PER_SECOND);
  } catch {
    return 0;
  }
}

/** CPU time so far of this process's sandbox workers (children whose command line has the worker's path) and of the model server. */
function childCpuMs(serverPid: number | undefined): { workers: number; server: number } {
  let workers = 0;
  try {
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
      const text = readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim();
      for (const pid of text ? text.split(/\s+/).map(Number) : []) {
        if (pid === serverPid) continue;
        let cmd = '';
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          continue;
        }
        if (cmd.includes(WORKER_MARKER)) workers += procCpuMs(pid);
      }
    }
  } catch {
    // No /proc: the figures read 0.
  }
  return { workers, server: serverPid === undefined ? 0 : procCpuMs(serverPid) };
}

let runCounter = 0;

async function runPlan(
  handle: MeshHandle,
  server: ModelServerProcess,
  plan: Plan,
  concurrency: number,
  /** Given when the caller has already reset the recorder for this run. */
  presetId?: string,
): Promise<RunSample> {
  const workflowId = presetId ?? `bench-${plan.name}-c${concurrency}-${++runCounter}`;
  const steps = stepsOf(plan, ROLE);
  if (presetId === undefined) handle.recorder.reset(workflowId);
  await resetServer(server, plan.steps.length);
  const childrenBefore = childCpuMs(server.pid);
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const t0 = performance.now();
  const result = await handle.mesh.workflow(workflowId, steps, { fresh: true, concurrency });
  const wallMs = performance.now() - t0;
  const elu = performance.eventLoopUtilization(eluBefore);
  const cpu = process.cpuUsage(cpuBefore);
  const hostCpuMs = (cpu.user + cpu.system) / 1000;
  const childrenAfter = childCpuMs(server.pid);
  const received = await server.requests('vllm');
  const requests = received.length;
  const problems: string[] = [];
  const untagged = received.filter((r) => !STEP_TAG.test(r.messages.at(-1)?.content ?? '')).length;
  if (untagged > 0) problems.push(`${untagged} model requests without a [wf-bench <step>] tag`);
  if (result.summary.succeeded !== plan.steps.length) {
    problems.push(
      `${result.summary.succeeded} of ${plan.steps.length} steps succeeded `
        + `(${result.summary.failed} failed, ${result.summary.skipped} skipped)`,
    );
  }
  plan.steps.forEach((step, i) => {
    const envelope = result[i];
    const want = plan.expected.get(step.id);
    if (!envelope) problems.push(`${step.id}: no envelope`);
    else if (envelope.status !== 'success') {
      problems.push(
        `${step.id}: ${envelope.status} (${envelope.errorCategory ?? '?'}: ${(envelope.error ?? '').split('\n')[0]?.slice(0, 160)})`,
      );
    } else if (envelope.output !== want)
      problems.push(`${step.id}: output ${JSON.stringify(envelope.output)}, expected ${want}`);
    else if (envelope.cached || envelope.attempts.length !== 1) problems.push(`${step.id}: not exactly one model call`);
  });
  if (requests !== plan.steps.length) problems.push(`${requests} model requests, expected ${plan.steps.length}`);
  const { recorder } = handle;
  const sample: RunSample = {
    plan,
    concurrency,
    wallMs,
    t0,
    hostCpuMs,
    workerCpuMs: childrenAfter.workers - childrenBefore.workers,
    serverCpuMs: childrenAfter.server - childrenBefore.server,
    loopBusyMs: elu.active,
    result,
    requests,
    steps: recorder.steps,
    saves: recorder.saves,
    finalState: recorder.lastState,
    problems,
    sampleRequest: received[0]
      ? { system: received[0].system ?? '', user: received[0].messages.at(-1)?.content ?? '' }
      : null,
  };
  recorder.reset('(none)');
  return sample;
}

function checkRuns(label: string, runs: readonly RunSample[]): string[] {
  const untraced = (r: RunSample): string[] =>
    r.plan.steps
      .filter((step) => {
        const trace = r.steps.get(step.id);
        return !trace || trace.started === null || trace.finished === null;
      })
      .map((step) => `step ${step.id} left no trace: no step:started or no step:finished event seen for it`);
  const problems = runs.flatMap((r, i) => [...r.problems, ...untraced(r)].map((p) => `${label} run ${i + 1}: ${p}`));
  if (problems.length > 0) {
    console.log(`  VERIFICATION FAILED (${problems.length} problems):`);
    for (const p of problems.slice(0, 20)) console.log(`    ${p}`);
    if (problems.length > 20) console.log(`    ... ${problems.length - 20} more`);
  }
  return problems;
}

function medianRun(runs: readonly RunSample[]): RunSample {
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  return sorted[Math.floor((sorted.length - 1) / 2)] as RunSample;
}

// ---- analysis ------------------------------------------------------------------------------------------

interface StepAnalysis {
  id: string;
  level: number;
  /** When the step could start: its last dependency finished (or the workflow call, for a root). */
  ready: number;
  /** step:started: the engine handed the step to its runner. */
  started: number;
  /** The task's end (step:started + its envelope's executionTime). */
  finished: number;
  /** step:finished emitted (after the state save recording it landed). */
  announced: number;
  modelMs: number;
  executeMs: number;
  resultSaveMs: number;
}

function analyzeSteps(run: RunSample): StepAnalysis[] {
  const out: StepAnalysis[] = [];
  const finished = new Map<string, number>();
  for (const step of run.plan.steps) {
    const trace = run.steps.get(step.id);
    if (!trace || trace.started === null || trace.finished === null) continue;
    finished.set(step.id, trace.finished);
    const ready = step.deps.length === 0 ? run.t0 : Math.max(...step.deps.map((d) => finished.get(d) ?? run.t0));
    out.push({
      id: step.id,
      level: step.level,
      ready,
      started: trace.started,
      finished: trace.finished,
      announced: trace.announced ?? trace.finished,
      modelMs: trace.modelMs,
      executeMs: trace.executeMs,
      resultSaveMs: trace.resultSaveMs,
    });
  }
  return out;
}

const other = (s: StepAnalysis): number => s.finished - s.started - s.modelMs - s.executeMs;

/** Per level: when it started and ended, and what its steps spent (median, with the max where it matters). */
function levelTable(run: RunSample): string {
  const steps = analyzeSteps(run);
  const rows: string[][] = [];
  let previousEnd = run.t0;
  for (let level = 0; level < run.plan.depth; level++) {
    const here = steps.filter((s) => s.level === level);
    if (here.length === 0) continue;
    const firstStart = Math.min(...here.map((s) => s.started));
    const lastFinish = Math.max(...here.map((s) => s.finished));
    const n = (v: number): string => v.toFixed(1);
    const medMax = (f: (s: StepAnalysis) => number): string => {
      const values = here.map(f);
      return here.length === 1 ? n(values[0] as number) : `${n(quantile(values, 0.5))} (${n(Math.max(...values))})`;
    };
    rows.push([
      String(level),
      String(here.length),
      `${(firstStart - run.t0).toFixed(0)}-${(lastFinish - run.t0).toFixed(0)}`,
      n(lastFinish - previousEnd),
      medMax((s) => s.started - s.ready),
      medMax((s) => s.finished - s.started),
      medMax((s) => s.modelMs),
      medMax((s) => s.executeMs),
      medMax((s) => s.resultSaveMs),
      medMax(other),
      medMax((s) => s.announced - s.finished),
    ]);
    previousEnd = lastFinish;
  }
  const lastFinish = Math.max(...steps.map((s) => s.finished));
  return [
    table(
      [
        'lvl',
        'steps',
        'ms from start',
        'critical +',
        'dispatch',
        'step',
        'model call',
        'sandbox',
        'result log',
        'other',
        'step:finished lag',
      ],
      rows,
    ),
    `tail: last step's task ended -> workflow() resolved: ${ms(run.t0 + run.wallMs - lastFinish)}`,
  ].join('\n');
}

const LEVEL_LEGEND =
  'Times in ms, "median (max)" over the level\'s steps. A step runs from its '
  + "step:started event to the end of its task (the event plus the envelope's executionTime), after which the engine records the step and starts its dependants. critical + = "
  + "the level's last finish minus the previous level's; dispatch = a step's start minus its last dependency's "
  + "finish (the engine's bookkeeping, state clone included, and event-loop waits); model call = chain.complete (the "
  + `${MODEL_DELAY_MS} ms delay, HTTP, SDK); sandbox = executor.execute (compile, cached by code text; waiting for a worker; the `
  + 'run); result log = results.save (its row committed, in the background after the task); other = the rest of the step (prompt and context rendering, '
  + "extraction, event-loop waits); step:finished lag = the event's emission minus the step's finish (it waits for "
  + 'the chained state save that records the step).';

interface SaveStats {
  count: number;
  medianMs: number;
  meanMs: number;
  totalMs: number;
  /** Saves that ended after the last step finished (they were queued or running then). */
  backlogAtLastStep: number;
  /** Last step finished -> workflow() resolved. */
  tailMs: number;
}

function saveStats(run: RunSample): SaveStats {
  const durations = run.saves.map((s) => s.end - s.start);
  const lastStep = Math.max(...[...run.steps.values()].map((s) => s.finished ?? 0));
  return {
    count: run.saves.length,
    medianMs: quantile(durations, 0.5),
    meanMs: durations.reduce((a, b) => a + b, 0) / Math.max(1, durations.length),
    totalMs: durations.reduce((a, b) => a + b, 0),
    backlogAtLastStep: run.saves.filter((s) => s.end > lastStep).length,
    tailMs: run.t0 + run.wallMs - lastStep,
  };
}

interface StateCost {
  /** Bytes of the final state as saved (compact JSON). */
  bytes: number;
  /** JSON.stringify of the final state, ms (median of 10): what the store does on the event loop per save, at most. */
  stringifyMs: number;
}

/** What one save of the final state costs the event loop (the store serializes the live state each time). */
function stateCost(state: unknown): StateCost {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    bytes = Buffer.byteLength(JSON.stringify(state));
    times.push(performance.now() - started);
  }
  return { bytes, stringifyMs: quantile(times, 0.5) };
}

// ---- the HTTP floor ----------------------------------------------------------------------------------

/**
 * The same DAG with nothing but the model call in each step: the engine's own system prompt and task text go to
 * the same server, and a step starts when its dependencies' calls have returned. No engine, no sandbox, no
 * storage: what the model calls alone cost on this machine, the floor under any engine that calls the model over
 * HTTP per step. `transport` picks how the call is made (see FLOOR_TRANSPORTS); `sdk` is the engine's own way
 * (VllmProvider: the openai SDK, no SDK retries).
 */
async function runHttpFloor(
  server: ModelServerProcess,
  plan: Plan,
  sample: { system: string; user: string },
  transport: FloorTransport,
): Promise<FloorRun> {
  const agent = keepAliveAgent();
  const client = new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: 'bench',
    maxRetries: 0,
    timeout: 30_000,
    ...(transport === 'sdk-node-http' ? { fetch: nodeHttpFetch(agent) } : {}),
  });
  try {
    await resetServer(server, plan.steps.length);
    const serverBefore = childCpuMs(server.pid).server;
    const cpuBefore = process.cpuUsage();
    const t0 = performance.now();
    const done = new Map<string, Promise<boolean>>();
    for (const step of plan.steps) {
      const deps = step.deps.map((d) => done.get(d) as Promise<boolean>);
      done.set(
        step.id,
        Promise.all(deps).then(async (oks) => {
          const body = {
            model: 'bench-model',
            temperature: 0.2,
            max_tokens: 4096,
            messages: [
              { role: 'system' as const, content: sample.system },
              { role: 'user' as const, content: sample.user.replace(STEP_TAG, `[wf-bench ${step.id}]`) },
            ],
          };
          const text =
            transport === 'node-http'
              ? await bareChatCompletion(agent, server.url, body)
              : ((await client.chat.completions.create(body)).choices[0]?.message.content ?? '');
          return oks.every(Boolean) && text.includes('```javascript');
        }),
      );
    }
    const oks = await Promise.all(done.values());
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpuBefore);
    const requests = (await server.requests('vllm')).length;
    return {
      wallMs,
      hostCpuMs: (cpu.user + cpu.system) / 1000,
      serverCpuMs: childCpuMs(server.pid).server - serverBefore,
      ok: oks.every(Boolean) && requests === plan.steps.length,
    };
  } finally {
    agent.destroy();
  }
}

// ---- run -----------------------------------------------------------------------------------------------

export async function runWorkflowBenchmark(options: WorkflowBenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  const add = (name: string, value: string, target = '-', met: boolean | null = null): void => {
    figures.push({ benchmark: BENCH, name, value, target, met });
  };
  const benchStarted = performance.now();
  const dag = dagPlan();
  const boundMs = dag.depth * MODEL_DELAY_MS;

  heading('workflow benchmark');
  console.log(
    `node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}). `
      + 'Every step is a real agent task: provider chain -> VllmProvider (official openai SDK) over HTTP to the local '
      + `wire-protocol server (test/llm-server, in a child process, as a remote model would be), which holds each reply back ${MODEL_DELAY_MS} ms `
      + '(delayMs) and answers with a fenced JavaScript block -> extraction -> sandbox pool -> result log; the workflow '
      + 'state is saved after every step change.',
  );
  console.log(
    `Settings: REGISTRY_REUSE=false (every step calls the model), MAX_REPAIR_ATTEMPTS=0, LLM_MAX_RETRIES=0, `
      + `SANDBOX_WORKERS=${options.workers ?? 'default (max(2, cores))'}, every run { fresh: true }, a fresh `
      + `LOG_DIRECTORY per mesh under ${tmpdir()}.`,
  );
  const startLoad = loadavg()[0] ?? 0;
  console.log(
    `load average at start (1, 5, 15 min): ${loadLine()}`
      + (startLoad > availableParallelism() * 0.5
        ? `  -- WARNING: the machine is busy (load > ${availableParallelism() * 0.5}); timings will be inflated and noisy`
        : ''),
  );
  console.log(
    `The program every model reply carries (the data differs per step, through context):\n${indent(STEP_PROGRAM, '    ')}`,
  );

  const server = await ModelServerProcess.start();
  resetCooldowns();
  let handle: MeshHandle | null = null;
  let problemCount = 0;
  try {
    // ---- (1) the DAG
    heading(`(1) 100-step DAG, depth ${dag.depth}, every model reply ${MODEL_DELAY_MS} ms`);
    console.log(describePlan(dag));
    handle = await startMesh(server, options, 'dag');
    console.log(`mesh started: ${handle.workers} sandbox workers; log directory ${handle.logDir}`);

    // Warm-up (JIT, connections, worker isolates): untimed, but verified.
    const single = planOf('single', [{ id: 'S0', level: 0, weight: 7, deps: [] }]);
    for (let i = 0; i < 3; i++) await runPlan(handle, server, single, 1);
    problemCount += checkRuns('DAG warm-up', [await runPlan(handle, server, dag, options.concurrency)]).length;

    // References: one step alone, and a chain of `depth` steps.
    const singles: RunSample[] = [];
    for (let i = 0; i < options.singleRuns; i++) singles.push(await runPlan(handle, server, single, 1));
    problemCount += checkRuns('single step', singles).length;
    const singleWall = summarize(singles.map((r) => r.wallMs));
    const singleOverhead = singleWall.median - MODEL_DELAY_MS;
    const singleSteps = singles.map((r) => analyzeSteps(r)[0] as StepAnalysis);
    const sMed = (f: (s: StepAnalysis) => number): number => quantile(singleSteps.map(f), 0.5);
    const singleEngine = sMed((s) => s.finished - s.started - s.modelMs);
    const chain = chainPlan(dag.depth);
    const chains: RunSample[] = [];
    for (let i = 0; i < 3; i++) chains.push(await runPlan(handle, server, chain, 1));
    problemCount += checkRuns('chain', chains).length;
    const chainWall = quantile(
      chains.map((r) => r.wallMs),
      0.5,
    );

    console.log(`\nReferences (medians of ${options.singleRuns} one-step workflows and 3 chains):`);
    console.log(
      indent(
        table(
          ['reference', 'wall', 'bound', 'beyond the bound', 'efficiency'],
          [
            [
              '1 step alone',
              ms(singleWall.median),
              ms(MODEL_DELAY_MS),
              ms(singleOverhead),
              pct(MODEL_DELAY_MS / singleWall.median),
            ],
            [
              `chain of ${dag.depth} steps`,
              ms(chainWall),
              ms(boundMs),
              ms(chainWall - boundMs),
              pct(boundMs / chainWall),
            ],
          ],
        ),
      ),
    );
    console.log(
      `  one step alone: ${ms(sMed((s) => s.finished - s.started))}, of which model call `
        + `${ms(sMed((s) => s.modelMs))}, sandbox ${ms(sMed((s) => s.executeMs))}, result log ${ms(sMed((s) => s.resultSaveMs))}, `
        + `other ${ms(sMed(other))}; the step's engine time (the step - model call) ${ms(singleEngine)}; the rest of the `
        + `${ms(singleOverhead)} is the workflow's own (validation, ${singles[0]?.saves.length ?? '?'} chained state saves, `
        + `of which the last ones are waited for).`,
    );

    // The timed DAG runs.
    const high: RunSample[] = [];
    for (let i = 0; i < options.runs; i++) high.push(await runPlan(handle, server, dag, options.concurrency));
    problemCount += checkRuns(`DAG concurrency ${options.concurrency}`, high).length;
    const defaults: RunSample[] = [];
    for (let i = 0; i < options.defaultConcurrencyRuns; i++) {
      defaults.push(await runPlan(handle, server, dag, DEFAULT_WORKFLOW_CONCURRENCY));
    }
    problemCount += checkRuns(`DAG concurrency ${DEFAULT_WORKFLOW_CONCURRENCY}`, defaults).length;

    const highWall = summarize(high.map((r) => r.wallMs));
    const defaultWall = summarize(defaults.map((r) => r.wallMs));
    const efficiency = boundMs / highWall.median;
    const boundWithOverhead = dag.depth * (MODEL_DELAY_MS + singleOverhead);
    const finalId = (dag.steps.at(-1) as PlannedStep).id;
    const finalOk = high.every((r) => r.result.at(-1)?.output === dag.expected.get(finalId));
    const allOk = [...high, ...defaults].every((r) => r.problems.length === 0);
    console.log(
      `\nTimed runs (${options.runs} at concurrency ${options.concurrency}, more than the widest level (`
        + `${Math.max(...LEVEL_WIDTHS)}), so the limit holds no step back; ${options.defaultConcurrencyRuns} at the default `
        + `WORKFLOW_CONCURRENCY=${DEFAULT_WORKFLOW_CONCURRENCY}):`,
    );
    const busy = (runs: readonly RunSample[]): string =>
      `${pct(
        quantile(
          runs.map((r) => r.loopBusyMs / r.wallMs),
          0.5,
        ),
      )} / ${ms(
        quantile(
          runs.map((r) => r.hostCpuMs),
          0.5,
        ),
      )}`;
    console.log(
      indent(
        table(
          [
            'concurrency',
            'runs (wall, ms)',
            'median',
            'bound',
            'efficiency',
            'bound + overhead',
            'efficiency',
            'event loop busy / host CPU',
          ],
          (
            [
              [high, highWall.median, options.concurrency],
              [defaults, defaultWall.median, DEFAULT_WORKFLOW_CONCURRENCY],
            ] as const
          ).map(([runs, wall, c]) => [
            String(c),
            runs.map((r) => r.wallMs.toFixed(0)).join(', '),
            ms(wall),
            ms(boundMs),
            pct(boundMs / wall),
            ms(boundWithOverhead),
            pct(boundWithOverhead / wall),
            busy(runs),
          ]),
        ),
      ),
    );
    console.log(
      `  bound = depth ${dag.depth} x ${MODEL_DELAY_MS} ms model delay = ${ms(boundMs)}; bound + overhead = `
        + `depth x (${MODEL_DELAY_MS} ms + ${ms(singleOverhead)}, the median wall of a one-step workflow beyond its `
        + `${MODEL_DELAY_MS} ms) = ${ms(boundWithOverhead)}. Event loop busy = share of the wall time this process's `
        + "event loop was running JavaScript (performance.eventLoopUtilization); host CPU = this process's CPU time, all "
        + 'threads (the libuv pool doing the file writes included), medians.',
    );
    console.log(
      `  verified: every step succeeded with the expected output, one model call each, ${dag.steps.length} HTTP `
        + `requests per run: ${allOk ? 'yes' : 'NO'}; final output ${String(high.at(-1)?.result.at(-1)?.output)} `
        + `(expected ${dag.expected.get(finalId)}): ${finalOk ? 'ok' : 'WRONG'}`,
    );
    const met = efficiency >= EFFICIENCY_TARGET;
    console.log(
      `Target efficiency >= ${pct(EFFICIENCY_TARGET)} (bound ${ms(boundMs)} / median wall): `
        + `${met ? 'met' : 'MISSED'} (${pct(efficiency)}, wall ${ms(highWall.median)}; needs <= ${ms(boundMs / EFFICIENCY_TARGET)})`,
    );

    // Where the time goes.
    const median = medianRun(high);
    console.log(
      `\n  Where the time goes: the median run at concurrency ${options.concurrency} (${ms(median.wallMs)}). `
        + LEVEL_LEGEND,
    );
    console.log(indent(levelTable(median)));
    const saves = saveStats(median);
    const state = stateCost(median.finalState);
    console.log(
      `  workflow-state writes (a header at start and end, one record per step at its start and its end, each `
        + `its own transaction in the embedded database; ${(state.bytes / 1024).toFixed(0)} KB of records at the end): `
        + `${saves.count} in this run, median ${ms(saves.medianMs)}, ${ms(saves.totalMs)} in all; `
        + `${saves.backlogAtLastStep} of them ended after the last step had finished.`,
    );

    // Where the CPU goes, and the floor: the same DAG with nothing but the SDK's HTTP call per step.
    const perStep = (f: (r: RunSample) => number): number => quantile(high.map(f), 0.5) / dag.steps.length;
    const cpu = {
      host: perStep((r) => r.hostCpuMs),
      workers: perStep((r) => r.workerCpuMs),
      server: perStep((r) => r.serverCpuMs),
    };
    const sample = median.sampleRequest;
    // The three floors take turns, run by run, so that a change in the machine's load hits them alike.
    const floorRuns = new Map<FloorTransport, FloorRun[]>(FLOOR_ORDER.map((t) => [t, []]));
    let floorWarmUpOk = true;
    if (sample) {
      for (let i = 0; i < options.runs + 1; i++) {
        for (const transport of FLOOR_ORDER) {
          const run = await runHttpFloor(server, dag, sample, transport);
          if (i === 0) floorWarmUpOk &&= run.ok;
          else floorRuns.get(transport)?.push(run);
        }
      }
    }
    const floors = FLOOR_ORDER.map((t) => summarizeFloor(t, floorRuns.get(t) ?? [], floorWarmUpOk, dag.steps.length));
    const floor = floors[0] as Floor;
    const cores = availableParallelism();
    console.log(
      `\n  CPU per step (medians over the timed runs, from process.cpuUsage and /proc): host ${ms(cpu.host)} `
        + `(engine, openai SDK client, storage), sandbox workers ${ms(cpu.workers)}, model server ${ms(cpu.server)}; `
        + `${ms(cpu.host + cpu.workers + cpu.server)} in all, ${ms((cpu.host + cpu.workers + cpu.server) * dag.steps.length)} per `
        + `run on ${cores} cores, against ${ms((cores * boundMs) / EFFICIENCY_TARGET)} of CPU that ${cores} cores have in the `
        + `${ms(boundMs / EFFICIENCY_TARGET)} a 90% run may take.`,
    );
    console.log(
      `  HTTP floors (the same DAG, each step only a model call with the engine's own prompt to the same server, `
        + `no engine, sandbox or storage; ${options.runs} timed runs each after one warm-up, the three taking turns):`,
    );
    for (const f of floors) {
      console.log(
        `    ${FLOOR_TRANSPORTS[f.transport]}: runs ${f.runs.map((r) => r.wallMs.toFixed(0)).join(', ')} ms, `
          + `median ${ms(f.wallMs)}, efficiency ${pct(boundMs / f.wallMs)}; CPU per step: client ${ms(f.hostPerStep)}, `
          + `server ${ms(f.serverPerStep)}; verified: ${f.ok ? 'yes' : 'NO'}.`,
      );
    }

    // What-if (diagnostic, not a valid configuration): the same DAG with the workflow store's save a no-op.
    const noSaves: RunSample[] = [];
    for (let i = 0; i < 3; i++) {
      const workflowId = `bench-dag-nosave-${++runCounter}`;
      handle.recorder.reset(workflowId);
      handle.recorder.noopSaves = true;
      noSaves.push(await runPlan(handle, server, dag, options.concurrency, workflowId));
    }
    problemCount += checkRuns('DAG without state saves', noSaves).length;
    const noSaveWall = quantile(
      noSaves.map((r) => r.wallMs),
      0.5,
    );
    const noSaveMedian = medianRun(noSaves);
    console.log(
      `\n  Diagnostic (not a valid configuration): the same DAG with the workflow store's save() replaced by `
        + `a no-op: runs ${noSaves.map((r) => r.wallMs.toFixed(0)).join(', ')} ms, median `
        + `${ms(noSaveWall)}, efficiency ${pct(boundMs / noSaveWall)}; event loop busy / host CPU ${busy(noSaves)}. Its median run:`,
    );
    console.log(indent(levelTable(noSaveMedian)));

    const defaultMedian = medianRun(defaults);
    console.log(
      `\n  The median run at concurrency ${DEFAULT_WORKFLOW_CONCURRENCY} (${ms(defaultMedian.wallMs)}; a level `
        + `wider than ${DEFAULT_WORKFLOW_CONCURRENCY} runs in ${DEFAULT_WORKFLOW_CONCURRENCY}-step waves, so this bound is not reachable):`,
    );
    console.log(indent(levelTable(defaultMedian)));

    add(
      `DAG 100 steps depth ${dag.depth}, wall, median of ${options.runs} (concurrency ${options.concurrency})`,
      ms(highWall.median),
    );
    // The absolute target is retired (issue 13): the floor measured in the same run shows what the machine allows.
    add(`DAG critical-path efficiency (bound ${dag.depth} x ${MODEL_DELAY_MS} ms = ${ms(boundMs)})`, pct(efficiency));
    add(
      `DAG efficiency vs bound + one-step overhead (${ms(boundWithOverhead)})`,
      pct(boundWithOverhead / highWall.median),
    );
    add(
      `DAG wall at default concurrency ${DEFAULT_WORKFLOW_CONCURRENCY}, median of ${options.defaultConcurrencyRuns} (efficiency)`,
      `${ms(defaultWall.median)} (${pct(boundMs / defaultWall.median)})`,
    );
    add('one-step workflow overhead beyond 50 ms, median', ms(singleOverhead));
    add(`chain of ${dag.depth} steps, wall (efficiency)`, `${ms(chainWall)} (${pct(boundMs / chainWall)})`);
    add('DAG state saves per run: count / summed time', `${saves.count} / ${ms(saves.totalMs)}`);
    add('DAG wall with state saves a no-op (diagnostic)', `${ms(noSaveWall)} (${pct(boundMs / noSaveWall)})`);
    add(
      'DAG CPU per step: host / sandbox workers / model server',
      `${ms(cpu.host)} / ${ms(cpu.workers)} / ${ms(cpu.server)}`,
    );
    add(
      'HTTP floor: same DAG, SDK call only per step, wall (efficiency)',
      `${ms(floor.wallMs)} (${pct(boundMs / floor.wallMs)})`,
    );
    const toFloor = floor.wallMs / highWall.median;
    add(
      'DAG efficiency / SDK floor efficiency, same run',
      `${toFloor.toFixed(2)}x`,
      `>= ${FLOOR_RATIO_TARGET}x`,
      toFloor >= FLOOR_RATIO_TARGET,
    );
    add('HTTP floor with the SDK on node:http (efficiency)', pct(boundMs / (floors[1] as Floor).wallMs));
    add('HTTP floor with a bare node:http call, no SDK (efficiency)', pct(boundMs / (floors[2] as Floor).wallMs));
    add(
      'DAG steps verified (success, output, 1 model call)',
      allOk && finalOk ? 'all' : 'NOT ALL',
      'all',
      allOk && finalOk,
    );
    const dagWorkers = handle.workers;
    await stopMesh(handle);
    handle = null;

    // ---- (2) 200 independent steps, memory
    const independent = independentPlan(options.independentSteps);
    const n = independent.steps.length;
    heading(`(2) ${n} independent steps in one workflow, concurrency ${n}, replies ${MODEL_DELAY_MS} ms, fresh mesh`);
    const hostBeforeKb = statusKb('VmRSS') ?? 0;
    handle = await startMesh(server, options, 'independent');
    const hostIdleKb = statusKb('VmRSS') ?? 0;
    const sampler = new RssSampler();
    const hwmReset = resetPeak();
    await sampler.start(options.sampleMs);
    const wide: RunSample[] = [];
    let memory: SamplerReport;
    try {
      for (let i = 0; i < options.independentRuns; i++) wide.push(await runPlan(handle, server, independent, n));
    } finally {
      memory = await sampler.stop();
    }
    const hostHwmKb = statusKb('VmHWM');
    problemCount += checkRuns('independent', wide).length;
    const wideOk = wide.every((r) => r.problems.length === 0);
    const wideWall = summarize(wide.map((r) => r.wallMs));
    const wideMedian = medianRun(wide);
    const workers = Object.entries(memory.workers).filter(([, w]) => w.cmd.includes(WORKER_MARKER));
    const others = Object.entries(memory.workers).filter(([, w]) => !w.cmd.includes(WORKER_MARKER));
    const perWorkerPeak = workers.map(([, w]) => w.peakKb);
    const wideSaves = saveStats(wideMedian);
    const wideSteps = analyzeSteps(wideMedian);
    const at = (f: (s: StepAnalysis) => number): number => Math.max(...wideSteps.map(f)) - wideMedian.t0;
    const med = (f: (s: StepAnalysis) => number): string => ms(quantile(wideSteps.map(f), 0.5));
    const max = (f: (s: StepAnalysis) => number): string => ms(Math.max(...wideSteps.map(f)));
    console.log(
      `mesh started: ${handle.workers} sandbox workers; ${options.independentRuns} runs of ${n} steps, none `
        + 'depending on another, all started at once.',
    );
    console.log(
      `  runs (wall): ${wide.map((r) => r.wallMs.toFixed(0)).join(', ')} ms; median ${ms(wideWall.median)} `
        + `(the bound is one ${MODEL_DELAY_MS} ms reply: ${pct(MODEL_DELAY_MS / wideWall.median)}); verified (every step `
        + `succeeded with its output, ${n} HTTP requests per run): ${wideOk ? 'yes' : 'NO'}`,
    );
    console.log(
      `  the median run: last step started at ${ms(at((s) => s.started))}, last finished at `
        + `${ms(at((s) => s.finished))}, resolved at ${ms(wideMedian.wallMs)}; per step: model call median ${med((s) => s.modelMs)} `
        + `(max ${max((s) => s.modelMs)}), sandbox ${med((s) => s.executeMs)} (max ${max((s) => s.executeMs)}), result log `
        + `${med((s) => s.resultSaveMs)} (max ${max((s) => s.resultSaveMs)}), other ${med(other)}; ${wideSaves.count} state `
        + `saves (${ms(wideSaves.totalMs)} summed), ${wideSaves.backlogAtLastStep} of them after the last step finished.`,
    );
    console.log(
      `  Peak RSS over all ${options.independentRuns} runs, sampled from /proc every ${options.sampleMs} ms by a `
        + `separate sampler process (${memory.samples} samples, longest gap ${ms(memory.maxGapMs)}), with the kernel's `
        + 'high-water mark (VmHWM) as a check:',
    );
    console.log(
      indent(
        table(
          ['process', 'idle (after start)', 'peak, sampled', 'peak, VmHWM'],
          [
            [
              'host (engine and HTTP client)',
              mb(hostIdleKb),
              mb(memory.hostPeakKb),
              hostHwmKb === null
                ? 'n/a'
                : `${mb(hostHwmKb)}${hwmReset ? ' (since the runs began)' : ' (process life)'}`,
            ],
            ...workers.map(([pid, w]) => [`sandbox worker pid ${pid}`, '', mb(w.peakKb), `${mb(w.hwmKb)} (its life)`]),
            [
              'sandbox workers, highest simultaneous sum',
              '',
              mb(memory.workersSumPeakKb),
              `${mb(workers.reduce((a, [, w]) => a + w.hwmKb, 0))} (sum of the peaks)`,
            ],
            ...others.map(([pid, w]) => [
              `other child pid ${pid}: ${w.cmd.replace(/^.*\//, '').slice(0, 40)}`,
              '',
              mb(w.peakKb),
              `${mb(w.hwmKb)} (its life)`,
            ]),
            ['all children, highest simultaneous sum', '', mb(memory.childrenSumPeakKb), ''],
          ],
        ),
      ),
    );
    console.log(
      `  Host growth over idle while ${n} steps were in flight: ${mb(memory.hostPeakKb - hostIdleKb)}. The host has run `
        + `part (1) before (RSS ${mb(hostBeforeKb)} before this mesh started), so its heap is not fresh; the workers are `
        + "this mesh's own.",
    );
    add(
      `${n} independent steps, wall, median of ${options.independentRuns}`,
      `${ms(wideWall.median)} (${pct(MODEL_DELAY_MS / wideWall.median)} of the ${MODEL_DELAY_MS} ms bound)`,
    );
    add('  peak RSS, host (sampled)', mb(memory.hostPeakKb));
    add(
      '  peak RSS per sandbox worker (sampled, max)',
      `${mb(Math.max(0, ...perWorkerPeak))} (${workers.length} workers)`,
    );
    add('  peak RSS, sum of sandbox workers (sampled)', mb(memory.workersSumPeakKb));
    add('independent steps verified', wideOk ? 'all' : 'NOT ALL', 'all', wideOk);
    await stopMesh(handle);
    handle = null;

    heading(
      `findings: where the DAG's time goes (efficiency ${pct(efficiency)}, target ${pct(EFFICIENCY_TARGET)}: `
        + `${met ? 'met' : 'MISSED'})`,
    );
    printFindings({ median, saves, noSaveWall, singleOverhead, workers: dagWorkers, cpu, floors });
  } finally {
    await stopMesh(handle).catch(() => undefined);
    resetCooldowns();
    await server.close();
  }
  if (problemCount > 0) console.log(`\n${problemCount} verification problems (listed above).`);
  console.log(
    `\nworkflow benchmark took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s; `
      + `load average at end (1, 5, 15 min): ${loadLine()}`,
  );
  return figures;
}

interface FindingsInput {
  median: RunSample;
  saves: SaveStats;
  noSaveWall: number;
  singleOverhead: number;
  /** Sandbox workers of the DAG's mesh. */
  workers: number;
  /** CPU per step, ms. */
  cpu: { host: number; workers: number; server: number };
  /** The HTTP floors, in FLOOR_ORDER. */
  floors: Floor[];
}

/** Numbers from the runs above, put together: what bounds the DAG's wall time on this machine. */
function printFindings(f: FindingsInput): void {
  const steps = analyzeSteps(f.median);
  const depth = f.median.plan.depth;
  const boundMs = depth * MODEL_DELAY_MS;
  const q = (values: number[]): number => quantile(values, 0.5);
  const wide = steps.filter((s) => s.level === 2 || s.level === 3);
  const widest = Math.max(...LEVEL_WIDTHS);
  const cores = availableParallelism();
  const total = f.cpu.host + f.cpu.workers + f.cpu.server;
  const budget = boundMs / EFFICIENCY_TARGET;
  const [sdk, leaner, bare] = f.floors as [Floor, Floor, Floor];
  const lines = [
    `The median run took ${ms(f.median.wallMs)} against the ${ms(boundMs)} bound (efficiency ${pct(boundMs / f.median.wallMs)}); `
      + `>= ${pct(EFFICIENCY_TARGET)} means finishing within ${ms(budget)}, ${ms((budget - boundMs) / depth)} beyond the model per level.`,
    '',
    `1. The machine is CPU-bound during the wide levels. Every step costs ${ms(total)} of CPU (host ${ms(f.cpu.host)}, `
      + `sandbox workers ${ms(f.cpu.workers)}, model server ${ms(f.cpu.server)}); a level of ${widest} steps therefore needs `
      + `~${ms((total * widest) / cores)} of ${cores} cores' time against its ${MODEL_DELAY_MS} ms reply, and its replies land `
      + `together. In levels 2-3 the model call takes ${ms(q(wide.map((s) => s.modelMs)))} for a ${MODEL_DELAY_MS} ms reply `
      + `and the sandbox ${ms(q(wide.map((s) => s.executeMs)))} (a lone step: `
      + `${ms(q(steps.filter((s) => s.level === 0).map((s) => s.executeMs)))}): both mostly waiting for a core.`,
    '',
    `2. The HTTP floors: the same DAG with nothing in each step but the model call. With the openai SDK as the `
      + `engine uses it, ${pct(boundMs / sdk.wallMs)} (${ms(sdk.wallMs)}; the client costs ${ms(sdk.hostPerStep)} of CPU per `
      + `call, the server ${ms(sdk.serverPerStep)}); with the SDK on node:http, ${pct(boundMs / leaner.wallMs)} `
      + `(${ms(leaner.hostPerStep)} per call); with a bare node:http POST and no SDK at all, ${pct(boundMs / bare.wallMs)} `
      + `(${ms(bare.hostPerStep)} per call). On ${cores} cores, an engine that makes one model call over HTTP per step is `
      + `bounded by these figures here before it runs any code or writes anything. ${
        boundMs / bare.wallMs < EFFICIENCY_TARGET
          ? `The ${pct(EFFICIENCY_TARGET)} target is beyond the reach of even the bare HTTP call on this machine.`
          : boundMs / sdk.wallMs < EFFICIENCY_TARGET
            ? `The ${pct(EFFICIENCY_TARGET)} target is beyond the SDK floor's reach here: it leaves nothing for the SDK, `
              + 'let alone for running and recording each step.'
            : 'The SDK floor itself is within the target.'
      }`,
    '',
    `3. What the engine adds over the SDK floor: ${ms(f.median.wallMs - sdk.wallMs)} of wall, `
      + `${ms(f.cpu.host - sdk.hostPerStep)} of host CPU and ${ms(f.cpu.workers)} of sandbox CPU per step: the sandbox run `
      + `(a new context in the worker's isolate, the JSON context with the dependencies' envelopes, IPC), the result and `
      + 'registry rows (group-committed transactions in the embedded database), prompt rendering and reply extraction.'
      + ` The workflow-state saves cost ${ms(f.median.wallMs - f.noSaveWall)} of wall (the no-op `
      + 'diagnostic).',
    '',
    `4. Scheduling itself (pump()) is cheap: dispatch median ${ms(q(steps.map((s) => s.started - s.ready)))}. A `
      + `one-step workflow costs ${ms(f.singleOverhead)} beyond its reply.`,
  ];
  console.log(lines.join('\n'));
}

await runIfMain(import.meta.url, 'workflow', (argv) => runWorkflowBenchmark(parseWorkflowArgs(argv)));
