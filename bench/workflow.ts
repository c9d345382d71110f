/**
 * Workflow benchmark: the DAG engine (`mesh.workflow`) against a model that takes a fixed 50 ms per reply.
 *
 * Every step is a real agent task: the provider chain calls the local wire-protocol server (test/llm-server, in
 * this process) through the official openai SDK over HTTP; the server holds each reply back 50 ms (`delayMs`)
 * and answers with a fenced JavaScript block that sums the outputs of the step's dependencies (read from
 * `context.previousStepResults`) plus the step's own `context.weight`; the code runs in the sandbox pool.
 * REGISTRY_REUSE=false (every step calls the model), MAX_REPAIR_ATTEMPTS=0, LLM_MAX_RETRIES=0, every run
 * `{ fresh: true }`, SANDBOX_WORKERS default unless --workers.
 *
 * (1) A 100-step DAG of depth 5 (levels of 1, 20, 39, 39 and 1 steps: a root fanning out to 20, two wide levels,
 *     a final fan-in of 39). Wall time against the critical-path bound depth x 50 ms; efficiency = bound / wall,
 *     target >= 90 %, median over --workflow-runs runs at concurrency 100 (more than the widest level, so the
 *     limit never holds a step back); the default WORKFLOW_CONCURRENCY (16) as a secondary figure. References:
 *     a single-step workflow (its overhead beyond the 50 ms) and a 5-step chain. Then where the time goes: per
 *     level, per step (model call, sandbox, result log, dispatch delay) and the workflow-state saves.
 * (2) 200 independent steps in one workflow at concurrency 200, on a fresh mesh: wall time, and the peak RSS of
 *     this (host) process and of the sandbox worker processes, sampled from /proc every ~20 ms, with the kernel's
 *     own high-water marks (VmHWM) as a check.
 *
 * Usage: node --import tsx bench/workflow.ts [--workers N] [--workflow-runs N] [--workflow-concurrency N]
 *        (needs `npm run build` first: the sandbox worker runs from dist/). Options it does not know are ignored.
 * Exits 0 when the benchmark ran, whether or not its targets were met; non-zero only if it could not run.
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  defineAgent, Mesh, resetCooldowns,
  type Envelope, type ExecutionRequest, type MeshEvents, type SettingsInput, type StoredResult, type WorkflowResult,
  type WorkflowStep, type WorkflowStore,
} from '../src/index.js';
import type { LlmRequest } from '../src/llm/types.js';
import { LlmServer, type ReceivedRequest, type ScriptedReply } from '../test/llm-server/server.js';
import { summaryTable, verdict, type Figure } from './lib/figures.js';
import { ms, quantile, summarize, table } from './lib/stats.js';

const BENCH = 'workflow';
const MODEL_DELAY_MS = 50;
const EFFICIENCY_TARGET = 0.9;
const ROLE = 'calculator';
/** Level widths of the DAG: 100 steps, depth 5. */
const LEVEL_WIDTHS = [1, 20, 39, 39, 1] as const;
const DEFAULT_WORKFLOW_CONCURRENCY = 16;
/** Finds the step id in a task text (and so in the model call's user message). */
const STEP_TAG = /\[wf-bench ([A-Za-z0-9._-]+)\]/;

/** The program every reply carries: the same for every step, as the data comes from `context`. */
const STEP_PROGRAM = [
  '// Add this step\'s weight to the outputs of the steps it depends on.',
  'const deps = Object.values(context.previousStepResults ?? {});',
  'let total = context.weight;',
  'for (const dep of deps) {',
  '  if (typeof dep.output !== "number") throw new Error(`dependency ${dep.stepId} has no numeric output`);',
  '  total += dep.output;',
  '}',
  'result = total;',
].join('\n');
const MODEL_ANSWER = 'This step adds its own weight to the outputs of the steps it depends on, which the engine ' +
  `passes in \`context.previousStepResults\`:\n\n\`\`\`javascript\n${STEP_PROGRAM}\n\`\`\`\n\n` +
  '`result` ends up as the sum.';

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

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1; got ${value}`);
  return n;
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

function heading(text: string): void {
  console.log(`\n=== ${text} ${'='.repeat(Math.max(0, 96 - text.length))}`);
}

function loadLine(): string {
  return loadavg().map((v) => v.toFixed(2)).join(', ');
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function indent(text: string, by = '  '): string {
  return text.split('\n').map((l) => `${by}${l}`).join('\n');
}

// ---- workflows -----------------------------------------------------------------------------------------

interface PlannedStep {
  id: string;
  level: number;
  weight: number;
  deps: string[];
}

interface Plan {
  name: string;
  steps: PlannedStep[];
  /** Levels (longest path from a root, counted in steps). */
  depth: number;
  /** What each step must output. */
  expected: Map<string, number>;
}

function planOf(name: string, steps: PlannedStep[]): Plan {
  const expected = new Map<string, number>();
  for (const step of steps) {
    // Steps are listed level by level, so every dependency is already known.
    expected.set(step.id, step.deps.reduce((sum, d) => sum + (expected.get(d) as number), step.weight));
  }
  return { name, steps, depth: Math.max(...steps.map((s) => s.level)) + 1, expected };
}

/**
 * The 100-step DAG: level 0 the root; level 1, 20 steps on the root (fan-out 20); level 2, 39 steps on two
 * level-1 steps each; level 3, 39 steps on three level-2 steps each; level 4, one step on all of level 3 (fan-in).
 */
function dagPlan(): Plan {
  const ids = LEVEL_WIDTHS.map((width, level) => Array.from({ length: width }, (_, i) => `L${level}-${String(i).padStart(2, '0')}`));
  const at = (level: number, i: number): string => {
    const row = ids[level] as string[];
    return row[i % row.length] as string;
  };
  const steps: PlannedStep[] = [];
  let weight = 0;
  LEVEL_WIDTHS.forEach((width, level) => {
    for (let i = 0; i < width; i++) {
      let deps: string[];
      if (level === 0) deps = [];
      else if (level === 1) deps = [at(0, 0)];
      else if (level === 2) deps = [at(1, i), at(1, i + 1)];
      else if (level === 3) deps = [at(2, i), at(2, i + 1), at(2, i + 2)];
      else deps = [...(ids[3] as string[])];
      steps.push({ id: at(level, i), level, weight: ++weight, deps });
    }
  });
  return planOf('dag100', steps);
}

function chainPlan(length: number): Plan {
  return planOf(`chain${length}`, Array.from({ length }, (_, i) => ({
    id: `C${i}`, level: i, weight: i + 1, deps: i === 0 ? [] : [`C${i - 1}`],
  })));
}

function independentPlan(n: number): Plan {
  return planOf(`independent${n}`, Array.from({ length: n }, (_, i) => ({
    id: `I${String(i).padStart(3, '0')}`, level: 0, weight: i + 1, deps: [],
  })));
}

function stepsOf(plan: Plan): WorkflowStep[] {
  return plan.steps.map((s) => ({
    id: s.id,
    agent: ROLE,
    task: `[wf-bench ${s.id}] Add this step's weight to the outputs of the ${s.deps.length} steps it depends on.`,
    dependsOn: s.deps,
    context: { weight: s.weight },
  }));
}

function describePlan(plan: Plan): string {
  const edges = plan.steps.reduce((n, s) => n + s.deps.length, 0);
  const lines = [`${plan.steps.length} steps, depth ${plan.depth} (steps on the longest path), ${edges} dependency edges:`];
  const children = new Map<string, number>();
  for (const s of plan.steps) for (const d of s.deps) children.set(d, (children.get(d) ?? 0) + 1);
  for (let level = 0; level < plan.depth; level++) {
    const here = plan.steps.filter((s) => s.level === level);
    const depCounts = here.map((s) => s.deps.length);
    const outs = here.map((s) => children.get(s.id) ?? 0);
    const range = (v: number[]): string => (Math.min(...v) === Math.max(...v) ? String(v[0]) : `${Math.min(...v)}-${Math.max(...v)}`);
    const first = here[0] as PlannedStep;
    lines.push(`  level ${level}: ${String(here.length).padStart(2)} step${here.length === 1 ? ' ' : 's'} ` +
      `(${first.id}${here.length > 1 ? ` .. ${(here.at(-1) as PlannedStep).id}` : ''}), ` +
      `${range(depCounts)} dependencies each${level === 0 ? '' : ` on level ${level - 1}`}, ` +
      `${range(outs)} dependants each`);
  }
  const final = plan.steps.at(-1) as PlannedStep;
  lines.push(`  expected final output (${final.id}): ${plan.expected.get(final.id)}`);
  return lines.join('\n');
}

// ---- instrumentation -----------------------------------------------------------------------------------

interface StepTrace {
  started: number | null;
  finished: number | null;
  /** chain.complete wall (the 50 ms reply delay, HTTP, SDK, chain bookkeeping). */
  modelMs: number;
  /** executor.execute wall (esbuild compile, waiting for a worker, the run). */
  executeMs: number;
  /** results.save wall (atomic fsynced write of the result log entry). */
  resultSaveMs: number;
}

interface StoreSave {
  start: number;
  end: number;
}

/** What one workflow run did, from the mesh's events and light wrappers around the runtime's parts. */
class Recorder {
  workflowId: string | null = null;
  steps = new Map<string, StepTrace>();
  saves: StoreSave[] = [];
  /** Snapshots passed to the workflow store, kept when asked (to time the engine's clone of them afterwards). */
  snapshots: unknown[] = [];
  keepSnapshots = false;

  reset(workflowId: string, keepSnapshots = false): void {
    this.workflowId = workflowId;
    this.steps = new Map();
    this.saves = [];
    this.snapshots = [];
    this.keepSnapshots = keepSnapshots;
  }

  step(stepId: string): StepTrace {
    let trace = this.steps.get(stepId);
    if (!trace) {
      trace = { started: null, finished: null, modelMs: 0, executeMs: 0, resultSaveMs: 0 };
      this.steps.set(stepId, trace);
    }
    return trace;
  }
}

function stepIdOfRequest(request: LlmRequest): string | null {
  return STEP_TAG.exec(request.messages.at(-1)?.content ?? '')?.[1] ?? null;
}

/**
 * Wraps the started mesh's shared parts so each call's wall time lands on its step, and follows the step events.
 * Each wrapper costs a clock read and a promise: microseconds, against the milliseconds measured.
 */
function instrument(mesh: Mesh, recorder: Recorder): void {
  const runtime = mesh.requireRuntime('instrument the benchmark');
  const { chain, executor, results } = runtime;
  const complete = chain.complete.bind(chain);
  chain.complete = async (request) => {
    const started = performance.now();
    try {
      return await complete(request);
    } finally {
      const id = stepIdOfRequest(request);
      if (id !== null) recorder.step(id).modelMs += performance.now() - started;
    }
  };
  const execute = executor.execute.bind(executor);
  executor.execute = async (request: ExecutionRequest) => {
    const started = performance.now();
    try {
      return await execute(request);
    } finally {
      const context = request.context as { stepId?: unknown } | undefined;
      const id = context?.stepId;
      if (typeof id === 'string') recorder.step(id).executeMs += performance.now() - started;
    }
  };
  const save = results.save.bind(results);
  results.save = async (record: StoredResult) => {
    const started = performance.now();
    try {
      return await save(record);
    } finally {
      const id = (record.envelope as Partial<Envelope>).stepId;
      if (typeof id === 'string') recorder.step(id).resultSaveMs += performance.now() - started;
    }
  };
  // The workflow store is not part of the agent runtime; the mesh keeps it in a private field. Reading it is
  // the one liberty this benchmark takes with the engine, to time the state saves it queues.
  const store = (mesh as unknown as { workflows: WorkflowStore | null }).workflows;
  if (!store) throw new Error('bench: the mesh has no workflow store (is it started?)');
  const storeSave = store.save.bind(store);
  store.save = async (workflowId: string, state: unknown) => {
    const start = performance.now();
    if (recorder.keepSnapshots && workflowId === recorder.workflowId) recorder.snapshots.push(state);
    try {
      return await storeSave(workflowId, state);
    } finally {
      if (workflowId === recorder.workflowId) recorder.saves.push({ start, end: performance.now() });
    }
  };
  const on = <K extends 'step:started' | 'step:finished' | 'step:failed' | 'step:skipped'>(event: K): void => {
    mesh.on(event, (payload: MeshEvents[K]) => {
      if (payload.workflowId !== recorder.workflowId) return;
      const trace = recorder.step(payload.stepId);
      if (event === 'step:started') trace.started = performance.now();
      else trace.finished = performance.now();
    });
  };
  on('step:started');
  on('step:finished');
  on('step:failed');
  on('step:skipped');
}

// ---- running -------------------------------------------------------------------------------------------

interface MeshHandle {
  mesh: Mesh;
  logDir: string;
  recorder: Recorder;
  workers: number;
}

async function startMesh(server: LlmServer, options: WorkflowBenchOptions, label: string): Promise<MeshHandle> {
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
  const mesh = new Mesh({ mode: 'autonomous', config });
  mesh.add(defineAgent({
    role: ROLE, capabilities: ['arithmetic'],
    systemPrompt: 'You write small JavaScript programs that combine the results of earlier workflow steps.',
  }));
  try {
    await mesh.start();
  } catch (err) {
    rmSync(logDir, { recursive: true, force: true });
    throw err;
  }
  const recorder = new Recorder();
  instrument(mesh, recorder);
  return { mesh, logDir, recorder, workers: mesh.settings.SANDBOX_WORKERS };
}

async function stopMesh(handle: MeshHandle | null): Promise<void> {
  if (!handle) return;
  try {
    await handle.mesh.stop();
  } finally {
    rmSync(handle.logDir, { recursive: true, force: true });
  }
}

interface RunSample {
  plan: Plan;
  concurrency: number;
  wallMs: number;
  /** Time the workflow call started (performance.now()). */
  t0: number;
  result: WorkflowResult;
  requests: number;
  steps: Map<string, StepTrace>;
  saves: StoreSave[];
  snapshots: unknown[];
  /** Problems found checking the result; empty when every step succeeded with the right output. */
  problems: string[];
}

let runCounter = 0;

async function runPlan(
  handle: MeshHandle, server: LlmServer, plan: Plan, concurrency: number, keepSnapshots = false,
): Promise<RunSample> {
  const workflowId = `bench-${plan.name}-c${concurrency}-${++runCounter}`;
  const steps = stepsOf(plan);
  handle.recorder.reset(workflowId, keepSnapshots);
  const requestsBefore = server.requests().length;
  const t0 = performance.now();
  const result = await handle.mesh.workflow(workflowId, steps, { fresh: true, concurrency });
  const wallMs = performance.now() - t0;
  const requests = server.requests().length - requestsBefore;
  const problems: string[] = [];
  if (result.summary.succeeded !== plan.steps.length) {
    problems.push(`${result.summary.succeeded} of ${plan.steps.length} steps succeeded ` +
      `(${result.summary.failed} failed, ${result.summary.skipped} skipped)`);
  }
  plan.steps.forEach((step, i) => {
    const envelope = result[i];
    const want = plan.expected.get(step.id);
    if (!envelope) problems.push(`${step.id}: no envelope`);
    else if (envelope.status !== 'success') {
      problems.push(`${step.id}: ${envelope.status} (${envelope.errorCategory ?? '?'}: ${(envelope.error ?? '').split('\n')[0]?.slice(0, 160)})`);
    } else if (envelope.output !== want) problems.push(`${step.id}: output ${JSON.stringify(envelope.output)}, expected ${want}`);
    else if (envelope.cached || envelope.attempts.length !== 1) problems.push(`${step.id}: not exactly one model call`);
  });
  if (requests !== plan.steps.length) problems.push(`${requests} model requests, expected ${plan.steps.length}`);
  const { recorder } = handle;
  const sample: RunSample = {
    plan, concurrency, wallMs, t0, result, requests, steps: recorder.steps, saves: recorder.saves,
    snapshots: recorder.snapshots, problems,
  };
  recorder.reset('(none)');
  return sample;
}

function checkRuns(label: string, runs: readonly RunSample[]): string[] {
  const problems = runs.flatMap((r, i) => r.problems.map((p) => `${label} run ${i + 1}: ${p}`));
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
  started: number;
  finished: number;
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
      id: step.id, level: step.level, ready, started: trace.started, finished: trace.finished,
      modelMs: trace.modelMs, executeMs: trace.executeMs, resultSaveMs: trace.resultSaveMs,
    });
  }
  return out;
}

/** Per level: when it started and ended, and the medians of what its steps spent. */
function levelTable(run: RunSample): string {
  const steps = analyzeSteps(run);
  const rows: string[][] = [];
  let previousEnd = run.t0;
  for (let level = 0; level < run.plan.depth; level++) {
    const here = steps.filter((s) => s.level === level);
    if (here.length === 0) continue;
    const firstStart = Math.min(...here.map((s) => s.started));
    const lastFinish = Math.max(...here.map((s) => s.finished));
    const med = (f: (s: StepAnalysis) => number): string => ms(quantile(here.map(f), 0.5));
    rows.push([
      String(level), String(here.length),
      `${(firstStart - run.t0).toFixed(0)}-${(lastFinish - run.t0).toFixed(0)}`,
      ms(lastFinish - previousEnd),
      med((s) => s.started - s.ready),
      ms(Math.max(...here.map((s) => s.started - s.ready))),
      med((s) => s.finished - s.started),
      med((s) => s.modelMs),
      med((s) => s.executeMs),
      ms(Math.max(...here.map((s) => s.executeMs))),
      med((s) => s.resultSaveMs),
      med((s) => s.finished - s.started - s.modelMs - s.executeMs - s.resultSaveMs),
    ]);
    previousEnd = lastFinish;
  }
  const lastFinish = Math.max(...steps.map((s) => s.finished));
  return [
    table(['lvl', 'steps', 'ms from start', 'critical +', 'dispatch med', 'dispatch max', 'step med', 'model med',
      'sandbox med', 'sandbox max', 'result log med', 'other med'], rows),
    `tail: last step finished -> workflow() resolved: ${ms(run.t0 + run.wallMs - lastFinish)}`,
  ].join('\n');
}

interface SaveStats {
  count: number;
  medianMs: number;
  totalMs: number;
  /** Saves still queued or running when the last step finished. */
  backlogAtLastStep: number;
  tailMs: number;
}

function saveStats(run: RunSample): SaveStats {
  const durations = run.saves.map((s) => s.end - s.start);
  const lastStep = Math.max(...[...run.steps.values()].map((s) => s.finished ?? 0));
  return {
    count: run.saves.length,
    medianMs: quantile(durations, 0.5),
    totalMs: durations.reduce((a, b) => a + b, 0),
    // Saves are chained, so the count still to finish is those that end after the last step did (plus the final one).
    backlogAtLastStep: run.saves.filter((s) => s.end > lastStep).length,
    tailMs: run.t0 + run.wallMs - lastStep,
  };
}

/** Times, after the fact, what the engine's persist() does synchronously on every step change, on the same snapshots. */
function cloneCost(snapshots: readonly unknown[]): { count: number; totalMs: number; maxMs: number; maxBytes: number; totalStringifyMs: number } {
  let totalMs = 0;
  let maxMs = 0;
  let maxBytes = 0;
  let totalStringifyMs = 0;
  for (const snapshot of snapshots) {
    const started = performance.now();
    const text = JSON.stringify(snapshot);
    JSON.parse(text);
    const took = performance.now() - started;
    totalMs += took;
    maxMs = Math.max(maxMs, took);
    maxBytes = Math.max(maxBytes, Buffer.byteLength(text));
    const s2 = performance.now();
    JSON.stringify(snapshot, null, 2);
    totalStringifyMs += performance.now() - s2;
  }
  return { count: snapshots.length, totalMs, maxMs, maxBytes, totalStringifyMs };
}

// ---- memory sampling -----------------------------------------------------------------------------------

function statusKb(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

function childPids(): number[] {
  const pids: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
      const text = readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim();
      if (text !== '') pids.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // Without /proc/<pid>/task/<tid>/children, no children are seen.
  }
  return pids;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Samples the RSS of this process and of its children (the sandbox workers) on a timer. */
class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  samples = 0;
  maxGapMs = 0;
  private last = 0;
  hostPeakKb = 0;
  workerPeakKb = new Map<number, number>();
  /** Highest sum of the workers' RSS in one sample. */
  workersSumPeakKb = 0;
  /** Last VmHWM seen per worker (the kernel's own peak). */
  workerHwmKb = new Map<number, number>();
  readonly commands = new Map<number, string>();

  start(periodMs: number): void {
    // The kernel's peak for this process starts again from its current RSS (Linux >= 4.0).
    try {
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      // Not allowed or not Linux: VmHWM then covers the whole process life.
    }
    this.last = performance.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), periodMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }

  sample(): void {
    const now = performance.now();
    if (this.samples > 0) this.maxGapMs = Math.max(this.maxGapMs, now - this.last);
    this.last = now;
    this.samples++;
    this.hostPeakKb = Math.max(this.hostPeakKb, statusKb('self', 'VmRSS') ?? 0);
    let sum = 0;
    for (const pid of childPids()) {
      const rss = statusKb(pid, 'VmRSS');
      if (rss === null) continue;
      if (!this.commands.has(pid)) this.commands.set(pid, cmdline(pid));
      sum += rss;
      this.workerPeakKb.set(pid, Math.max(this.workerPeakKb.get(pid) ?? 0, rss));
      const hwm = statusKb(pid, 'VmHWM');
      if (hwm !== null) this.workerHwmKb.set(pid, hwm);
    }
    this.workersSumPeakKb = Math.max(this.workersSumPeakKb, sum);
  }
}

function mb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
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
  console.log(`node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}). ` +
    'Every step is a real agent task: provider chain -> VllmProvider (official openai SDK) over HTTP to the local ' +
    `wire-protocol server (test/llm-server, same process), which holds each reply back ${MODEL_DELAY_MS} ms ` +
    '(delayMs) and answers with a fenced JavaScript block -> extraction -> sandbox pool -> result log; the workflow ' +
    'state is saved after every step change.');
  console.log(`Settings: REGISTRY_REUSE=false (every step calls the model), MAX_REPAIR_ATTEMPTS=0, LLM_MAX_RETRIES=0, ` +
    `SANDBOX_WORKERS=${options.workers ?? 'default (max(2, cores))'}, every run { fresh: true }, a fresh ` +
    `LOG_DIRECTORY per mesh under ${tmpdir()}.`);
  const startLoad = loadavg()[0] ?? 0;
  console.log(`load average at start (1, 5, 15 min): ${loadLine()}` +
    (startLoad > availableParallelism() * 0.5
      ? `  -- WARNING: the machine is busy (load > ${availableParallelism() * 0.5}); timings will be inflated and noisy`
      : ''));
  console.log(`The program every model reply carries (the data differs per step, through context):\n${indent(STEP_PROGRAM, '    ')}`);

  const server = await LlmServer.start();
  resetCooldowns();
  let handle: MeshHandle | null = null;
  let problems: string[] = [];
  try {
    server.respond('vllm', (req: ReceivedRequest): ScriptedReply => {
      const user = req.messages.at(-1)?.content ?? '';
      if (!STEP_TAG.test(user)) return { kind: 'error', status: 400, message: 'bench: no [wf-bench <step>] tag in the request' };
      const inputTokens = Math.ceil(((req.system ?? '').length + user.length) / 4);
      return { kind: 'text', text: MODEL_ANSWER, delayMs: MODEL_DELAY_MS, inputTokens, outputTokens: Math.ceil(MODEL_ANSWER.length / 4) };
    });

    // ---- (1) the DAG
    heading(`(1) 100-step DAG, depth ${dag.depth}, every model reply ${MODEL_DELAY_MS} ms`);
    console.log(describePlan(dag));
    handle = await startMesh(server, options, 'dag');
    console.log(`mesh started: ${handle.workers} sandbox workers; log directory ${handle.logDir}`);

    // Warm-up: JIT, connections, worker isolates; untimed.
    const single = planOf('single', [{ id: 'S0', level: 0, weight: 7, deps: [] }]);
    for (let i = 0; i < 3; i++) await runPlan(handle, server, single, 1);
    const warm = await runPlan(handle, server, dag, options.concurrency);
    problems.push(...checkRuns('DAG warm-up', [warm]));

    // References: one step alone, and a chain of depth steps.
    const singles: RunSample[] = [];
    for (let i = 0; i < options.singleRuns; i++) singles.push(await runPlan(handle, server, single, 1));
    problems.push(...checkRuns('single step', singles));
    const singleWall = summarize(singles.map((r) => r.wallMs));
    const singleOverhead = singleWall.median - MODEL_DELAY_MS;
    const singleStep = singles.map((r) => {
      const t = r.steps.get('S0') as StepTrace;
      return { step: (t.finished ?? 0) - (t.started ?? 0), model: t.modelMs, execute: t.executeMs, save: t.resultSaveMs };
    });
    const singleEngine = quantile(singleStep.map((s) => s.step - s.model), 0.5);
    const chain = chainPlan(dag.depth);
    const chains: RunSample[] = [];
    for (let i = 0; i < 3; i++) chains.push(await runPlan(handle, server, chain, 1));
    problems.push(...checkRuns('chain', chains));
    const chainWall = quantile(chains.map((r) => r.wallMs), 0.5);

    console.log(`\nReferences (${options.singleRuns} single-step runs, 3 chain runs; medians):`);
    console.log(table(['reference', 'wall', 'bound', 'beyond the bound', 'efficiency'], [
      ['1 step alone', ms(singleWall.median), ms(MODEL_DELAY_MS), ms(singleOverhead), pct(MODEL_DELAY_MS / singleWall.median)],
      [`chain of ${dag.depth} steps`, ms(chainWall), ms(boundMs), ms(chainWall - boundMs), pct(boundMs / chainWall)],
    ]).split('\n').map((l) => `  ${l}`).join('\n'));
    console.log(`  one step alone: step:started -> step:finished median ${ms(quantile(singleStep.map((s) => s.step), 0.5))}, ` +
      `of which model call ${ms(quantile(singleStep.map((s) => s.model), 0.5))}, sandbox ` +
      `${ms(quantile(singleStep.map((s) => s.execute), 0.5))}, result log ${ms(quantile(singleStep.map((s) => s.save), 0.5))}; ` +
      `engine time of the step (step - model call) ${ms(singleEngine)}; p95 of the whole workflow ${ms(singleWall.p95)}`);

    // The timed DAG runs.
    const high: RunSample[] = [];
    for (let i = 0; i < options.runs; i++) high.push(await runPlan(handle, server, dag, options.concurrency, i === 0));
    problems.push(...checkRuns(`DAG concurrency ${options.concurrency}`, high));
    const defaults: RunSample[] = [];
    for (let i = 0; i < options.defaultConcurrencyRuns; i++) {
      defaults.push(await runPlan(handle, server, dag, DEFAULT_WORKFLOW_CONCURRENCY));
    }
    problems.push(...checkRuns(`DAG concurrency ${DEFAULT_WORKFLOW_CONCURRENCY}`, defaults));

    const highWall = summarize(high.map((r) => r.wallMs));
    const defaultWall = summarize(defaults.map((r) => r.wallMs));
    const efficiency = boundMs / highWall.median;
    const boundWithOverhead = dag.depth * (MODEL_DELAY_MS + singleOverhead);
    const finalId = (dag.steps.at(-1) as PlannedStep).id;
    const finalOk = high.every((r) => r.result.at(-1)?.output === dag.expected.get(finalId));
    const allOk = [...high, ...defaults].every((r) => r.problems.length === 0);
    console.log(`\nTimed runs (${options.runs} at concurrency ${options.concurrency}, more than the widest level (` +
      `${Math.max(...LEVEL_WIDTHS)}) so the limit holds nothing back; ${options.defaultConcurrencyRuns} at the default ` +
      `WORKFLOW_CONCURRENCY=${DEFAULT_WORKFLOW_CONCURRENCY}):`);
    console.log(table(['concurrency', 'runs (wall)', 'median', 'bound', 'efficiency', 'bound + overhead', 'efficiency'],
      [[high, highWall, options.concurrency], [defaults, defaultWall, DEFAULT_WORKFLOW_CONCURRENCY]].map(([runs, s, c]) => {
        const wall = (s as ReturnType<typeof summarize>).median;
        return [String(c), (runs as RunSample[]).map((r) => r.wallMs.toFixed(0)).join(', '), ms(wall), ms(boundMs),
          pct(boundMs / wall), ms(boundWithOverhead), pct(boundWithOverhead / wall)];
      })).split('\n').map((l) => `  ${l}`).join('\n'));
    console.log(`  bound = depth ${dag.depth} x ${MODEL_DELAY_MS} ms model delay = ${ms(boundMs)}; bound + overhead = ` +
      `depth x (${MODEL_DELAY_MS} ms + ${ms(singleOverhead)}, the median wall of a one-step workflow beyond its ` +
      `${MODEL_DELAY_MS} ms) = ${ms(boundWithOverhead)}.`);
    console.log(`  verified: every step succeeded with the expected output, one model call each, ${dag.steps.length} HTTP ` +
      `requests per run: ${allOk ? 'yes' : 'NO'}; final output ${String(high.at(-1)?.result.at(-1)?.output)} ` +
      `(expected ${dag.expected.get(finalId)}): ${finalOk ? 'ok' : 'WRONG'}`);
    const met = efficiency >= EFFICIENCY_TARGET;
    console.log(`Target efficiency >= ${pct(EFFICIENCY_TARGET)} (bound ${ms(boundMs)} / median wall): ` +
      `${met ? 'met' : 'MISSED'} (${pct(efficiency)}, wall ${ms(highWall.median)}; needs <= ${ms(boundMs / EFFICIENCY_TARGET)})`);

    // Where the time goes, in the median run.
    const median = medianRun(high);
    console.log(`\n  Where the time goes (the median run at concurrency ${options.concurrency}, ${ms(median.wallMs)}; ms from ` +
      'the workflow() call; "critical +" = this level\'s last finish minus the previous level\'s; dispatch = a ' +
      'step\'s start minus its last dependency\'s finish; sandbox = executor.execute, compile + waiting for one of ' +
      `the ${handle.workers} workers + the run; result log = results.save; other = the rest of the step):`);
    console.log(indent(levelTable(median)));
    const saves = saveStats(median);
    console.log(`  workflow-state saves (store.save, chained one after another, each an atomic fsynced write of the ` +
      `whole state): ${saves.count} per run, median ${ms(saves.medianMs)} each, ${ms(saves.totalMs)} in all; ` +
      `${saves.backlogAtLastStep} still to finish when the last step finished; tail after the last step ` +
      `${ms(saves.tailMs)}.`);
    const first = high[0] as RunSample;
    const clone = cloneCost(first.snapshots);
    console.log(`  persist() clones the whole state synchronously (JSON.parse(JSON.stringify(state))) on every step change: ` +
      `timed afterwards on run 1's ${clone.count} snapshots: ${ms(clone.totalMs)} of event-loop time per run ` +
      `(largest ${ms(clone.maxMs)} at ${(clone.maxBytes / 1024).toFixed(0)} KB); the store then stringifies each again ` +
      `with indentation: ${ms(clone.totalStringifyMs)} more per run.`);
    const defaultMedian = medianRun(defaults);
    console.log(`\n  The median run at concurrency ${DEFAULT_WORKFLOW_CONCURRENCY} (${ms(defaultMedian.wallMs)}):`);
    console.log(indent(levelTable(defaultMedian)));

    add(`DAG 100 steps depth ${dag.depth}, wall, median of ${options.runs} (concurrency ${options.concurrency})`, ms(highWall.median));
    add(`DAG critical-path efficiency (bound ${dag.depth} x ${MODEL_DELAY_MS} ms = ${ms(boundMs)})`, pct(efficiency),
      `>= ${pct(EFFICIENCY_TARGET)}`, met);
    add(`DAG efficiency vs bound + one-step overhead (${ms(boundWithOverhead)})`, pct(boundWithOverhead / highWall.median));
    add(`DAG wall at default concurrency ${DEFAULT_WORKFLOW_CONCURRENCY}, median of ${options.defaultConcurrencyRuns}`,
      `${ms(defaultWall.median)} (${pct(boundMs / defaultWall.median)})`);
    add('single-step workflow overhead beyond 50 ms, median', ms(singleOverhead));
    add(`chain of ${dag.depth} steps, wall (efficiency)`, `${ms(chainWall)} (${pct(boundMs / chainWall)})`);
    add('workflow-state saves per DAG run / tail after last step', `${saves.count} / ${ms(saves.tailMs)}`);
    add('DAG steps verified (success, output, 1 model call)', allOk && finalOk ? 'all' : 'NOT ALL', 'all', allOk && finalOk);
    await stopMesh(handle);
    handle = null;

    // ---- (2) 200 independent steps, memory
    const independent = independentPlan(options.independentSteps);
    heading(`(2) ${independent.steps.length} independent steps in one workflow, concurrency ${independent.steps.length}, ` +
      `replies ${MODEL_DELAY_MS} ms`);
    const sampler = new RssSampler();
    const hostBeforeKb = statusKb('self', 'VmRSS') ?? 0;
    handle = await startMesh(server, options, 'independent');
    const hostIdleKb = statusKb('self', 'VmRSS') ?? 0;
    const workersIdleKb = childPids().reduce((sum, pid) => sum + (statusKb(pid, 'VmRSS') ?? 0), 0);
    sampler.start(options.sampleMs);
    const wide: RunSample[] = [];
    for (let i = 0; i < options.independentRuns; i++) {
      wide.push(await runPlan(handle, server, independent, independent.steps.length));
    }
    sampler.stop();
    const hostHwmKb = statusKb('self', 'VmHWM');
    problems.push(...checkRuns('independent', wide));
    const wideOk = wide.every((r) => r.problems.length === 0);
    const wideWall = summarize(wide.map((r) => r.wallMs));
    const wideMedian = medianRun(wide);
    const workerPids = [...sampler.workerPeakKb.keys()];
    const perWorker = workerPids.map((pid) => sampler.workerPeakKb.get(pid) ?? 0);
    const perWorkerHwm = workerPids.map((pid) => sampler.workerHwmKb.get(pid) ?? 0);
    const wideSaves = saveStats(wideMedian);
    console.log(`mesh started: ${handle.workers} sandbox workers (children seen while sampling: ${workerPids.length}, ` +
      `${handle.mesh.requireRuntime('read the pool').executor.workersStarted} started by the pool)`);
    console.log(`  runs (wall): ${wide.map((r) => r.wallMs.toFixed(0)).join(', ')} ms; median ${ms(wideWall.median)} ` +
      `against the ${MODEL_DELAY_MS} ms bound (${pct(MODEL_DELAY_MS / wideWall.median)}); verified (every step succeeded ` +
      `with its output, ${independent.steps.length} HTTP requests per run): ${wideOk ? 'yes' : 'NO'}`);
    const wideSteps = analyzeSteps(wideMedian);
    const lastStart = Math.max(...wideSteps.map((s) => s.started)) - wideMedian.t0;
    const lastFinish = Math.max(...wideSteps.map((s) => s.finished)) - wideMedian.t0;
    const med = (f: (s: StepAnalysis) => number): string => ms(quantile(wideSteps.map(f), 0.5));
    const max = (f: (s: StepAnalysis) => number): string => ms(Math.max(...wideSteps.map(f)));
    console.log(`  median run: last step started at ${ms(lastStart)}, last finished at ${ms(lastFinish)}; per step ` +
      `model call median ${med((s) => s.modelMs)} (max ${max((s) => s.modelMs)}), sandbox median ${med((s) => s.executeMs)} ` +
      `(max ${max((s) => s.executeMs)}), result log median ${med((s) => s.resultSaveMs)}; ${wideSaves.count} state ` +
      `saves, tail after the last step ${ms(wideSaves.tailMs)}`);
    console.log(`  peak RSS, sampled every ${options.sampleMs} ms over all ${options.independentRuns} runs (${sampler.samples} ` +
      `samples, longest gap ${ms(sampler.maxGapMs)}):`);
    console.log(indent(table(['process', 'idle before', 'peak (sampled)', 'peak (kernel VmHWM)'], [
      ['host (this process: engine, HTTP client and the in-process LLM server)', mb(hostIdleKb), mb(sampler.hostPeakKb),
        hostHwmKb !== null ? `${mb(hostHwmKb)} (reset at the start)` : 'n/a'],
      ...workerPids.map((pid, i) => [`worker pid ${pid}`, '', mb(perWorker[i] ?? 0), `${mb(perWorkerHwm[i] ?? 0)} (its life)`]),
      ['sum of workers (highest simultaneous sum)', mb(workersIdleKb), mb(sampler.workersSumPeakKb),
        `${mb(perWorkerHwm.reduce((a, b) => a + b, 0))} (sum of peaks)`],
    ])));
    console.log(`  (host RSS before the second mesh started: ${mb(hostBeforeKb)}; the host has run part (1) before, so its ` +
      'heap is not fresh.)');
    add(`${independent.steps.length} independent steps, wall, median of ${options.independentRuns}`,
      `${ms(wideWall.median)} (${pct(MODEL_DELAY_MS / wideWall.median)} of ${MODEL_DELAY_MS} ms)`);
    add('  peak RSS host (sampled)', mb(sampler.hostPeakKb));
    add('  peak RSS per worker (sampled, max)', `${mb(Math.max(0, ...perWorker))} (${workerPids.length} workers)`);
    add('  peak RSS sum of workers (sampled)', mb(sampler.workersSumPeakKb));
    add('independent steps verified', wideOk ? 'all' : 'NOT ALL', 'all', wideOk);
    await stopMesh(handle);
    handle = null;

    if (!met) {
      heading('findings: where the DAG loses time against the bound');
      printFindings(median, saves, clone, singleOverhead, handle === null ? undefined : handle);
    }
  } finally {
    await stopMesh(handle).catch(() => undefined);
    resetCooldowns();
    await server.close();
  }
  if (problems.length > 0) console.log(`\n${problems.length} verification problems (listed above).`);
  problems = [];
  console.log(`\nworkflow benchmark took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s; ` +
    `load average at end (1, 5, 15 min): ${loadLine()}`);
  return figures;
}

function printFindings(
  run: RunSample, saves: SaveStats, clone: ReturnType<typeof cloneCost>, singleOverhead: number, _unused?: MeshHandle,
): void {
  const steps = analyzeSteps(run);
  const boundMs = run.plan.depth * MODEL_DELAY_MS;
  const lost = run.wallMs - boundMs;
  const dispatchMed = quantile(steps.map((s) => s.started - s.ready), 0.5);
  const execMed = quantile(steps.map((s) => s.executeMs), 0.5);
  const modelMed = quantile(steps.map((s) => s.modelMs), 0.5);
  console.log(`The median run took ${ms(run.wallMs)}: ${ms(lost)} over the ${ms(boundMs)} bound, ` +
    `${ms(lost / run.plan.depth)} per level. Measured above: model call median ${ms(modelMed)} (the ${MODEL_DELAY_MS} ms ` +
    `delay plus HTTP), sandbox median ${ms(execMed)}, dispatch median ${ms(dispatchMed)}, state-save tail ` +
    `${ms(saves.tailMs)}, a lone step ${ms(singleOverhead)} beyond ${MODEL_DELAY_MS} ms, and ${ms(clone.totalMs)} of ` +
    'synchronous state cloning per run.');
}

async function main(): Promise<void> {
  let figures: Figure[];
  try {
    figures = await runWorkflowBenchmark(parseWorkflowArgs(process.argv.slice(2)));
  } catch (err) {
    console.error(`\nThe workflow benchmark could not run: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exitCode = 1;
    return;
  }
  heading('workflow summary');
  console.log(summaryTable(figures));
  console.log(`\n${verdict(figures)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
